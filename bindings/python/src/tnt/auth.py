"""Brand keys, signed codes and offline checks of signed answers.

A brand makes a key pair once (:func:`keygen`), publishes the public key in
its party master data, and prints signed codes (:func:`sign_code`): a GS1
Digital Link carrying an Ed25519 signature as AI 8030. The answers of
:meth:`tnt.Engine.authenticate` are signed with the service's key
(:attr:`tnt.Engine.service_key`); anyone can check one offline
(:func:`verify`).
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Union

from . import capi

__all__ = ["KeyPair", "keygen", "sign_code", "verify"]


class KeyPair(NamedTuple):
    public: str  # base64url, 43 characters
    secret: str  # base64url, 86 characters: keep it secret

    def __repr__(self) -> str:
        return f"KeyPair(public={self.public!r}, secret=...)"


def keygen() -> KeyPair:
    """A new Ed25519 key pair."""
    return KeyPair(*capi.keygen())


def sign_code(code: Union[str, bytes], secret_key: str, *, stem: Optional[str] = None) -> str:
    """A signed GS1 Digital Link for ``code`` (any form; batch and expiry as
    attributes), on ``stem`` (default ``https://id.gs1.org``)."""
    return capi.sign_code(code, secret_key, stem)


def verify(answer: Union[str, bytes, dict], public_key: str) -> bool:
    """True when a signed answer (its JSON text) verifies against ``public_key``.
    Pass the text as received: a dict is serialised again, which verifies only
    if the service wrote it the same way."""
    if isinstance(answer, dict):
        import json
        answer = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    # A key that is no key is the caller's mistake, not a forged answer:
    # False would read as "forged".
    if isinstance(public_key, str):
        import base64
        import binascii
        try:
            raw = base64.urlsafe_b64decode(public_key + "=" * (-len(public_key) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32 or len(public_key) != 43:
            raise ValueError("public_key is not 32 bytes of base64url (43 characters, as tnt keygen prints it)")
    return capi.verdict_verify(answer, public_key)
