"""GS1 identifiers: parse any form, validate, convert.

::

    >>> from tnt import ids
    >>> i = ids.parse("(01)09506000134352(21)ABC123")
    >>> i.type, i.canonical
    ('sgtin', 'https://id.gs1.org/01/09506000134352/21/ABC123')
    >>> ids.to_epc_urn("(01)09506000134352(21)ABC123", gcp_length=7)
    'urn:epc:id:sgtin:9506000.013435.ABC123'

Accepted forms: EPC URNs (pure identity, class, pattern), GS1 Digital Link
URIs on any domain, element strings, raw barcode data, plain GTINs (with a
serial). Invalid input raises :class:`tnt.InvalidInput` whose ``details`` list
every error as ``(code, message)``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from . import capi, errors

__all__ = ["Identifier", "IdError", "GcpTable", "parse", "is_valid", "normalize", "to_epc_urn",
           "to_digital_link", "to_element_string", "check_digit", "TYPES"]

#: Type numbers (``tnt_id_type``) to names: ``{2: "sgtin", ...}``.
TYPES: Dict[int, str] = capi.type_names()
_LEVELS = {capi.TNT_ID_LEVEL_INSTANCE: "instance", capi.TNT_ID_LEVEL_CLASS: "class",
           capi.TNT_ID_LEVEL_PATTERN: "pattern"}
_FORMS = {capi.TNT_ID_FORM_NONE: None, capi.TNT_ID_FORM_EPC_URN: "epc_urn",
          capi.TNT_ID_FORM_EPC_CLASS: "epc_class", capi.TNT_ID_FORM_EPC_PATTERN: "epc_pattern",
          capi.TNT_ID_FORM_DIGITAL_LINK: "digital_link", capi.TNT_ID_FORM_ELEMENT_STRING: "element_string",
          capi.TNT_ID_FORM_BARCODE: "barcode", capi.TNT_ID_FORM_PLAIN: "plain"}


@dataclass(frozen=True)
class IdError:
    """One reason an identifier is invalid: a stable ``code`` (``"ID_CHECK_DIGIT"``) and a message."""

    code: str
    message: str

    def to_dict(self) -> Dict[str, str]:
        return {"code": self.code, "message": self.message}


class GcpTable:
    """GS1 Company Prefix lengths by prefix (longest match wins), for EPC URNs.

    ``GcpTable({"0614141": 7})``, ``GcpTable.load("gcp.csv")`` (CSV
    ``prefix,length`` or GS1's JSON list).
    """

    __slots__ = ("_h",)

    def __init__(self, prefixes: Optional[Mapping[str, int]] = None) -> None:
        self._h = capi.GcpTable()
        for prefix, length in (prefixes or {}).items():
            self.add(prefix, length)

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "GcpTable":
        t = cls()
        t._h.load(os.fspath(path))
        return t

    def add(self, prefix: str, length: int) -> None:
        if not isinstance(length, int) or isinstance(length, bool):
            raise TypeError("length must be an int")
        self._h.add(prefix, length)

    def lookup(self, digits: str) -> Optional[int]:
        """The company prefix length for a key's digits, or None."""
        return self._h.lookup(digits)


@dataclass(frozen=True)
class Identifier:
    """A valid GS1 identifier in all its forms."""

    text: str
    type: str                     # "sgtin", "sscc", ...
    level: str                    # "instance", "class" or "pattern"
    form: Optional[str]           # the form it arrived in: "epc_urn", "digital_link", "element_string", ...
    canonical: str                # https://id.gs1.org/... with the key and its qualifiers
    element_string: str           # "(01)...(21)..." with every AI
    digital_link: Optional[str]   # on https://id.gs1.org, with the data attributes as query
    epc_urn: Optional[str]        # None when the company prefix length is not known
    epc_urn_error: Optional[str]  # why there is no EPC URN
    gcp_length: int               # 0 when unknown
    ais: Tuple[Tuple[str, str], ...] = field(default=())

    def ai(self, ai: str) -> Optional[str]:
        """The value of one application identifier (``"17"`` → ``"261231"``)."""
        for k, v in self.ais:
            if k == ai:
                return v
        return None

    def to_dict(self) -> Dict[str, Any]:
        """The identifier as ``tnt id`` prints it, plus its level, form, AIs and company prefix length."""
        d: Dict[str, Any] = {"ok": True, "type": self.type, "canonical": self.canonical, "epc_urn": self.epc_urn,
                             "digital_link": self.digital_link, "element_string": self.element_string,
                             "errors": []}
        if self.epc_urn_error is not None:
            d["epc_urn_error"] = self.epc_urn_error
        d.update(text=self.text, level=self.level, form=self.form, gcp_length=self.gcp_length,
                 ais=dict(self.ais))
        return d

    def __str__(self) -> str:
        return self.canonical


_local = threading.local()


def _parser() -> Any:
    p = getattr(_local, "parser", None)
    if p is None:
        p = _local.parser = capi.IdParser()
    return p


def _flags(permit_unknown_ais: bool, permit_short_gtin: bool) -> int:
    return ((capi.TNT_ID_F_PERMIT_UNKNOWN_AIS if permit_unknown_ais else 0)
            | (capi.TNT_ID_F_PERMIT_SHORT_GTIN_IN_DL if permit_short_gtin else 0))


def _check_opts(gcp_length: int, gcp_table: Optional[GcpTable]) -> Any:
    if not isinstance(gcp_length, int) or isinstance(gcp_length, bool):
        raise TypeError("gcp_length must be an int")
    if gcp_table is not None and not isinstance(gcp_table, GcpTable):
        raise TypeError("gcp_table must be a tnt.ids.GcpTable")
    return gcp_table._h if gcp_table is not None else None


def _parse(p: Any, text: Union[str, bytes], gcp_length: int, gcp_table: Optional[GcpTable],
           permit_unknown_ais: bool, permit_short_gtin: bool) -> Identifier:
    table = _check_opts(gcp_length, gcp_table)
    r = p.parse(text, gcp_length, table, _flags(permit_unknown_ais, permit_short_gtin))
    st, typ, level, form, canonical, es, gcp, ais, errs, urn, urn_err, dl = r
    if st != 0:
        details = [IdError(c or "", m or "") for c, m in errs]
        first = details[0] if details else IdError("ID_SYNTAX", "not an identifier")
        raise errors._from_status(st, f"{first.code}: {first.message}", details)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return Identifier(text=text, type=TYPES.get(typ, "unknown"), level=_LEVELS.get(level, "instance"),
                      form=_FORMS.get(form), canonical=canonical, element_string=es, digital_link=dl,
                      epc_urn=urn, epc_urn_error=urn_err[1] if urn_err else None, gcp_length=gcp, ais=ais)


def parse(text: Union[str, bytes], *, gcp_length: int = 0, gcp_table: Optional[GcpTable] = None,
          permit_unknown_ais: bool = False, permit_short_gtin: bool = False) -> Identifier:
    """Parse and validate an identifier in any form.

    ``gcp_length`` (6..12) or ``gcp_table`` give the company prefix length an
    EPC URN needs. Raises :class:`tnt.InvalidInput` (``details``: the list of
    :class:`IdError`) or :class:`tnt.TooBig` (over 4096 bytes).
    """
    return _parse(_parser(), text, gcp_length, gcp_table, permit_unknown_ais, permit_short_gtin)


def is_valid(text: Union[str, bytes], **options: Any) -> bool:
    """True when ``text`` is a valid identifier."""
    try:
        parse(text, **options)
    except errors.InvalidInput:
        return False
    return True


def normalize(text: Union[str, bytes], *, gcp_length: int = 0, gcp_table: Optional[GcpTable] = None,
              permit_unknown_ais: bool = False, permit_short_gtin: bool = False) -> str:
    """The canonical form: ``https://id.gs1.org/`` + the key and its qualifiers."""
    table = _check_opts(gcp_length, gcp_table)
    return capi.id_normalize(text, gcp_length, table, _flags(permit_unknown_ais, permit_short_gtin))


def to_epc_urn(text: Union[str, bytes], **options: Any) -> str:
    """The EPC URN; raises :class:`tnt.CompanyPrefixUnknown` when the company
    prefix length is neither in the input nor given."""
    i = parse(text, **options)
    if i.epc_urn is None:
        code = capi.TNT_E_GCP if i.epc_urn_error and i.epc_urn_error.startswith("ID_GCP") else capi.TNT_E_UNSUPPORTED
        raise errors._from_status(code, i.epc_urn_error or "no EPC URN for this identifier")
    return i.epc_urn


def to_digital_link(text: Union[str, bytes], *, stem: Optional[str] = None, **options: Any) -> str:
    """A GS1 Digital Link with the data attributes as query parameters, on
    ``stem`` (``"https://brand.example/p"``; default ``https://id.gs1.org``)."""
    p = _parser()
    _parse(p, text, options.pop("gcp_length", 0), options.pop("gcp_table", None),
           options.pop("permit_unknown_ais", False), options.pop("permit_short_gtin", False))
    if options:
        raise TypeError(f"unexpected options: {', '.join(options)}")
    return p.digital_link(stem)


def to_element_string(text: Union[str, bytes], **options: Any) -> str:
    """The GS1 element string: ``(01)09506000134352(21)ABC123(17)261231``."""
    return parse(text, **options).element_string


def check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of a key without its check digit."""
    d = capi.check_digit(digits)
    if d < 0:
        raise errors.InvalidInput(f"{digits!r} is not a string of digits")
    return d
