"""Exceptions: one class per libtnt status code.

Every failure of the library raises a subclass of :class:`tnt.Error` that
carries the status ``code`` and ``name``, the library's ``message`` (what
failed and where) and, where there are any, structured ``details`` (the
errors of an identifier, the partial report of an interrupted ingest).
Classes also derive from the closest built-in exception, so
``except ValueError`` catches invalid input and ``except LookupError``
catches :class:`NotFound`.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

__all__ = [
    "Error", "InvalidInput", "MalformedInput", "TooBig", "CompanyPrefixUnknown", "NotFound",
    "AlreadyExists", "InputOutputError", "Timeout", "BackendError", "Misuse", "Unsupported",
    "Conflict", "Corrupt", "VersionMismatch", "OutOfMemory",
]


class Error(Exception):
    """A libtnt failure: ``code`` (negative status), ``name`` (``"TNT_E_INVALID"``),
    ``message`` and ``details``."""

    code: int = 0
    name: str = "TNT_E_UNKNOWN"

    def __init__(self, message: str = "", details: Any = None, *, code: Optional[int] = None,
                 name: Optional[str] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if name is not None:
            self.name = name
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message or _TEXT.get(self.code, "error")

    def to_dict(self) -> Dict[str, Any]:
        d = {"code": self.code, "name": self.name, "message": str(self)}
        if self.details is not None:
            d["details"] = _plain(self.details)
        return d


def _plain(v: Any) -> Any:
    """Details as JSON-ready values."""
    if hasattr(v, "to_dict"):
        return v.to_dict()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


class InvalidInput(Error, ValueError):
    """TNT_E_INVALID: the input breaks a rule (an identifier, an option, a record)."""


class MalformedInput(InvalidInput):
    """TNT_E_SYNTAX: the document is not well-formed JSON or protobuf."""


class TooBig(InvalidInput):
    """TNT_E_TOOBIG: the input exceeds a configured limit."""


class CompanyPrefixUnknown(InvalidInput):
    """TNT_E_GCP: an EPC URN needs the GS1 Company Prefix length, which is not known."""


class NotFound(Error, LookupError):
    """TNT_E_NOTFOUND: never seen, or no such record."""


class AlreadyExists(Error):
    """TNT_E_EXISTS."""


class InputOutputError(Error, OSError):
    """TNT_E_IO: a file or the disk failed."""


class Timeout(Error, TimeoutError):
    """TNT_E_TIMEOUT."""


class BackendError(Error):
    """TNT_E_BACKEND: a storage backend failed."""


class Misuse(Error):
    """TNT_E_MISUSE: the library was called the wrong way (a closed engine, ...)."""


class Unsupported(Error, NotImplementedError):
    """TNT_E_UNSUPPORTED: not available in this build or for this input."""


class Conflict(Error):
    """TNT_E_CONFLICT: a conflicting concurrent update."""


class Corrupt(Error):
    """TNT_E_CORRUPT: stored data is damaged."""


class VersionMismatch(Error):
    """TNT_E_VERSION."""


class OutOfMemory(Error, MemoryError):
    """TNT_E_NOMEM."""


_BY_NAME: Dict[str, Type[Error]] = {
    "TNT_E_INVALID": InvalidInput, "TNT_E_SYNTAX": MalformedInput, "TNT_E_TOOBIG": TooBig,
    "TNT_E_GCP": CompanyPrefixUnknown, "TNT_E_NOTFOUND": NotFound, "TNT_E_EXISTS": AlreadyExists,
    "TNT_E_IO": InputOutputError, "TNT_E_TIMEOUT": Timeout, "TNT_E_BACKEND": BackendError,
    "TNT_E_MISUSE": Misuse, "TNT_E_UNSUPPORTED": Unsupported, "TNT_E_CONFLICT": Conflict,
    "TNT_E_CORRUPT": Corrupt, "TNT_E_VERSION": VersionMismatch, "TNT_E_NOMEM": OutOfMemory,
}
_BY_CODE: Dict[int, Type[Error]] = {}
_NAME: Dict[int, str] = {}
_TEXT: Dict[int, str] = {}


def _load_table(rows) -> None:
    """The status table of the loaded library (tnt_status_descs)."""
    for code, name, text in rows:
        _NAME[code] = name
        _TEXT[code] = text
        cls = _BY_NAME.get(name)
        if cls is not None:
            cls.code, cls.name = code, name
            _BY_CODE[code] = cls


def error_class(code: int) -> Type[Error]:
    """The exception class of a status code (:class:`Error` for codes this package does not know)."""
    return _BY_CODE.get(code, Error)


def _from_status(code: int, message: str, details: Any = None) -> Error:
    """Called by the extension module to build the exception it raises."""
    cls = error_class(code)
    return cls(message, details, code=code, name=_NAME.get(code, "TNT_E_UNKNOWN"))
