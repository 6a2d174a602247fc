"""EPCIS events and documents: read, validate, hash and normalise.

A document is read event by event in constant memory (any size); each event
is validated on its own, and gets its GS1 event hash and canonical form::

    for ev in tnt.read(pathlib.Path("capture.jsonld")):
        print(ev.index, ev.hash_id if ev.valid else ev.errors)
"""

from __future__ import annotations

import builtins
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from . import capi, errors
from ._util import Source, chunks, from_ms, to_ms

__all__ = ["Event", "ValidationError", "ValidationResult", "read", "validate", "hash", "normalize",
           "reader_options"]

_TYPES = {capi.TNT_EVENT_UNKNOWN: None, capi.TNT_EVENT_OBJECT: "ObjectEvent",
          capi.TNT_EVENT_AGGREGATION: "AggregationEvent", capi.TNT_EVENT_TRANSACTION: "TransactionEvent",
          capi.TNT_EVENT_TRANSFORMATION: "TransformationEvent", capi.TNT_EVENT_ASSOCIATION: "AssociationEvent"}
_ACTIONS = {capi.TNT_ACTION_NONE: None, capi.TNT_ACTION_ADD: "ADD", capi.TNT_ACTION_OBSERVE: "OBSERVE",
            capi.TNT_ACTION_DELETE: "DELETE"}
_FORMATS = {"auto": capi.TNT_FORMAT_AUTO, "json": capi.TNT_FORMAT_JSON, "protobuf": capi.TNT_FORMAT_PROTOBUF}


@dataclass(frozen=True)
class ValidationError:
    """One broken rule: a stable ``code``, the JSON ``path`` and a ``message``."""

    code: str
    path: str
    message: str

    def to_dict(self) -> Dict[str, str]:
        return asdict(self)


def _errors(raw: List[Tuple[Optional[str], Optional[str], Optional[str]]]) -> List[ValidationError]:
    return [ValidationError(c or "", p or "", m or "") for c, p, m in raw]


@dataclass(frozen=True)
class ValidationResult:
    """The verdict on one event of a document, as ``tnt validate`` prints it."""

    index: int
    ok: bool
    errors: List[ValidationError]

    def to_dict(self) -> Dict[str, Any]:
        return {"index": self.index, "ok": self.ok, "errors": [e.to_dict() for e in self.errors]}


class Event:
    """An EPCIS 2.0 event: every field readable as an attribute, the whole
    event as a dict (``to_dict``), JSON-LD (``to_json``) or protobuf (``to_proto``).

    Events come from :func:`read`, :meth:`tnt.Engine.history` and
    :meth:`tnt.Engine.event`; each owns its data (no lifetime to manage).
    """

    __slots__ = ("_h",)

    def __init__(self, handle: Any) -> None:
        if not isinstance(handle, capi.Event):
            raise TypeError("events come from tnt.read(), Event.from_json() or an engine")
        self._h = handle

    # ---- constructors ----
    @classmethod
    def from_json(cls, doc: Union[str, bytes, dict], **options: Any) -> "Event":
        """The first event of a JSON document, event or simple report (validated, hashed, normalised)."""
        for ev in read(doc, **options):
            return ev
        raise errors.InvalidInput("the document holds no event")

    @classmethod
    def from_proto(cls, data: Union[bytes, bytearray, memoryview]) -> "Event":
        """Decode one ``tnt.v1.Event`` protobuf message (not validated)."""
        return cls(capi.Event.from_proto(data))

    # ---- the event as a whole ----
    @property
    def type(self) -> Optional[str]:
        """``"ObjectEvent"``, ``"AggregationEvent"``, ... (None when unknown)."""
        return _TYPES.get(self._h.type())

    @property
    def action(self) -> Optional[str]:
        """``"ADD"``, ``"OBSERVE"``, ``"DELETE"`` or None."""
        return _ACTIONS.get(self._h.action())

    @property
    def index(self) -> int:
        """Position in its source document (0-based)."""
        return self._h.index()

    @property
    def valid(self) -> bool:
        return self._h.valid()

    @property
    def errors(self) -> List[ValidationError]:
        return _errors(self._h.errors())

    def _time(self, which: int) -> Optional[datetime]:
        t = self._h.time(which)
        return from_ms(t[0], t[1]) if t else None

    @property
    def event_time(self) -> Optional[datetime]:
        """eventTime, in the event's own offset (eventTimeZoneOffset)."""
        t = self._h.time(capi.TNT_TIME_EVENT)
        if not t:
            return None
        off = _offset_minutes(self._h.string(capi.TNT_FIELD_EVENT_TIME_ZONE_OFFSET))
        return from_ms(t[0], t[1] if off is None else off)

    @property
    def event_time_ms(self) -> Optional[int]:
        t = self._h.time(capi.TNT_TIME_EVENT)
        return t[0] if t else None

    @property
    def record_time(self) -> Optional[datetime]:
        return self._time(capi.TNT_TIME_RECORD)

    @property
    def event_time_zone_offset(self) -> Optional[str]:
        return self._h.string(capi.TNT_FIELD_EVENT_TIME_ZONE_OFFSET)

    @property
    def hash_id(self) -> Optional[str]:
        """The GS1 canonical event hash ID (``ni:///sha-256;...?ver=CBV2.0``)."""
        return self._h.string(capi.TNT_FIELD_HASH_ID)

    @property
    def event_id(self) -> Optional[str]:
        return self._h.string(capi.TNT_FIELD_EVENT_ID)

    @property
    def parent_id(self) -> Optional[str]:
        return self._h.string(capi.TNT_FIELD_PARENT_ID)

    @property
    def transformation_id(self) -> Optional[str]:
        return self._h.string(capi.TNT_FIELD_TRANSFORMATION_ID)

    @property
    def biz_step(self) -> Optional[str]:
        return self._h.string(capi.TNT_FIELD_BIZ_STEP)

    @property
    def disposition(self) -> Optional[str]:
        return self._h.string(capi.TNT_FIELD_DISPOSITION)

    @property
    def read_point(self) -> Optional[str]:
        return self._h.string(capi.TNT_FIELD_READ_POINT)

    @property
    def biz_location(self) -> Optional[str]:
        return self._h.string(capi.TNT_FIELD_BIZ_LOCATION)

    @property
    def error_reason(self) -> Optional[str]:
        return self._h.string(capi.TNT_FIELD_ERROR_REASON)

    @property
    def epc_list(self) -> List[str]:
        return self._h.list(capi.TNT_LIST_EPC)

    @property
    def child_epcs(self) -> List[str]:
        return self._h.list(capi.TNT_LIST_CHILD_EPC)

    @property
    def input_epcs(self) -> List[str]:
        return self._h.list(capi.TNT_LIST_INPUT_EPC)

    @property
    def output_epcs(self) -> List[str]:
        return self._h.list(capi.TNT_LIST_OUTPUT_EPC)

    @property
    def epcs(self) -> List[str]:
        """Every identifier the event names: parent, EPCs, children, inputs, outputs."""
        out = [self.parent_id] if self.parent_id else []
        for which in (capi.TNT_LIST_EPC, capi.TNT_LIST_CHILD_EPC, capi.TNT_LIST_INPUT_EPC, capi.TNT_LIST_OUTPUT_EPC):
            out.extend(self._h.list(which))
        return out

    @property
    def certification_info(self) -> List[str]:
        return self._h.list(capi.TNT_LIST_CERTIFICATION_INFO)

    @property
    def quantity_list(self) -> List[Tuple[str, Optional[float], Optional[str]]]:
        """``[(epc_class, quantity, uom)]``."""
        return self._h.qlist(capi.TNT_QLIST_QUANTITY)

    @property
    def child_quantity_list(self) -> List[Tuple[str, Optional[float], Optional[str]]]:
        return self._h.qlist(capi.TNT_QLIST_CHILD)

    @property
    def input_quantity_list(self) -> List[Tuple[str, Optional[float], Optional[str]]]:
        return self._h.qlist(capi.TNT_QLIST_INPUT)

    @property
    def output_quantity_list(self) -> List[Tuple[str, Optional[float], Optional[str]]]:
        return self._h.qlist(capi.TNT_QLIST_OUTPUT)

    @property
    def biz_transactions(self) -> List[Tuple[Optional[str], str]]:
        """``[(type, value)]``."""
        return self._h.refs(capi.TNT_REF_BIZ_TRANSACTION)

    @property
    def sources(self) -> List[Tuple[Optional[str], str]]:
        return self._h.refs(capi.TNT_REF_SOURCE)

    @property
    def destinations(self) -> List[Tuple[Optional[str], str]]:
        return self._h.refs(capi.TNT_REF_DESTINATION)

    @property
    def sensor_reports(self) -> List[List[Tuple[str, Optional[float], Optional[str]]]]:
        """Per sensor element, its reports as ``(type, value, uom)``."""
        return self._h.sensors()

    @property
    def prefixes(self) -> Dict[str, str]:
        """Namespace prefixes of the event's extensions."""
        return self._h.prefixes()

    def get(self, path: str, default: Any = None) -> Any:
        """Any field by its path in the event's JSON form: ``"readPoint.id"``,
        ``"epcList[2]"``, ``"ilmd.cbvmda:lotNumber"``. Objects and arrays come
        back as dicts and lists; a missing field gives ``default``."""
        r = self._h.get(path)
        if r is None:
            return default
        kind, value, count = r
        if kind == capi.TNT_VALUE_NUMBER:
            return json.loads(value)
        if kind == capi.TNT_VALUE_ARRAY:
            return [self.get(f"{path}[{i}]") for i in range(count)]
        if kind == capi.TNT_VALUE_OBJECT:
            return _walk(self.to_dict(), path, default)
        return value

    def to_json(self, *, pretty: bool = False, context: bool = False, hash_as_id: bool = False) -> str:
        """EPCIS 2.0 JSON-LD (``context``: add ``@context``; ``hash_as_id``: the
        hash ID as eventID when the event has none)."""
        flags = ((capi.TNT_JSON_PRETTY if pretty else 0) | (capi.TNT_JSON_CONTEXT if context else 0)
                 | (capi.TNT_JSON_HASH_ID if hash_as_id else 0))
        return self._h.to_json(flags)

    def to_dict(self, *, context: bool = False, hash_as_id: bool = False) -> Dict[str, Any]:
        return json.loads(self.to_json(context=context, hash_as_id=hash_as_id))

    def to_proto(self) -> bytes:
        """The ``tnt.v1.Event`` protobuf wire form."""
        return self._h.to_proto()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        h = self.hash_id
        return h is not None and h == other.hash_id

    def __hash__(self) -> int:
        return builtins.hash(self.hash_id)

    def __repr__(self) -> str:
        t = self.event_time
        return (f"<tnt.Event #{self.index} {self.type} {t.isoformat() if t else '-'} "
                f"{self.hash_id or ('invalid' if not self.valid else '-')}>")


def _offset_minutes(text: Optional[str]) -> Optional[int]:
    """"+01:00" as 60; None when absent or malformed."""
    if not text or len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        m = int(text[1:3]) * 60 + int(text[4:6])
    except ValueError:
        return None
    return -m if text[0] == "-" else m


def _walk(obj: Any, path: str, default: Any) -> Any:
    """Follow "a.b[2].c" (keys may hold a prefix such as "cbvmda:lotNumber") in parsed JSON."""
    for part in path.split("."):
        name, _, rest = part.partition("[")
        if name:
            if not isinstance(obj, dict) or name not in obj:
                return default
            obj = obj[name]
        while rest:
            idx, _, rest = rest.partition("]")
            rest = rest.lstrip("[")
            if not isinstance(obj, list) or not idx.isdigit() or int(idx) >= len(obj):
                return default
            obj = obj[int(idx)]
    return obj


# ---- reading documents ----

def reader_options(*, validate: bool = True, hash: bool = True, normalize: bool = True, format: str = "auto",
                   now: Union[None, int, datetime] = None,
                   future_skew: Union[None, int, float, timedelta] = timedelta(hours=1),
                   max_event_bytes: int = 0, max_depth: int = 0, max_string_bytes: int = 0,
                   max_list_items: int = 0, urn: bool = False, gcp_length: int = 0,
                   gcp_table: Any = None) -> tuple:
    """The reader options as the extension takes them (see docs/python.md for each)."""
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {sorted(_FORMATS)}, not {format!r}")
    flags = ((capi.TNT_READ_VALIDATE if validate else 0) | (capi.TNT_READ_HASH if hash else 0)
             | (capi.TNT_READ_NORMALIZE if normalize else 0))
    if future_skew is None:
        skew = -1
    elif isinstance(future_skew, timedelta):
        skew = future_skew // timedelta(milliseconds=1)
    elif isinstance(future_skew, (int, float)) and not isinstance(future_skew, bool):
        skew = int(future_skew * 1000)
    else:
        raise TypeError("future_skew must be a timedelta, seconds or None")
    for name, v in (("max_event_bytes", max_event_bytes), ("max_depth", max_depth),
                    ("max_string_bytes", max_string_bytes), ("max_list_items", max_list_items),
                    ("gcp_length", gcp_length)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{name} must be a non-negative int")
    table = None
    if gcp_table is not None:
        from .ids import GcpTable
        if not isinstance(gcp_table, GcpTable):
            raise TypeError("gcp_table must be a tnt.ids.GcpTable")
        table = gcp_table._h
    return (_FORMATS[format], flags, skew, to_ms(now, "now"), max_event_bytes, max_depth, max_string_bytes,
            max_list_items, capi.TNT_EPC_FORMAT_URN if urn else capi.TNT_EPC_FORMAT_DIGITAL_LINK, gcp_length,
            table, 0)


def _run(source: Source, options: tuple, mode: int) -> Iterator[Any]:
    """Feed a source through a reader; yields Events (mode 0) or summaries (mode 1)."""
    r = capi.Reader(options)
    for block in chunks(source):
        r.feed(block)
        while True:
            item = r.next(mode)
            if item is None:
                break
            if item is False:
                return
            yield item
    r.finish()
    while True:
        item = r.next(mode)
        if item is None or item is False:
            return
        yield item


def read(source: Source, **options: Any) -> Iterator[Event]:
    """The events of a document, one at a time, validated, hashed and normalised.

    ``source``: the document's text or bytes, a ``pathlib.Path``, an open file,
    an event or report as a dict, or an iterable of dicts. Options: see
    :func:`reader_options`. A malformed document raises
    :class:`tnt.MalformedInput` after the events before the fault.
    """
    for h in _run(source, reader_options(**options), 0):
        yield Event(h)


def validate(source: Source, **options: Any) -> List[ValidationResult]:
    """Check every event (the EPCIS rules, CBV vocabularies, identifiers, times, units);
    one result per event, in document order, as ``tnt validate`` reports them."""
    options.setdefault("hash", False)
    options.setdefault("normalize", False)
    return [ValidationResult(i, not errs, _errors(errs))
            for i, _, errs in _run(source, reader_options(**options), 1)]


def hash(source: Source, **options: Any) -> List[Optional[str]]:  # noqa: A001 - the natural name
    """The GS1 event hash ID of every event, in document order (None for an
    event that is not EPCIS enough to hash), as ``tnt hash`` prints them."""
    options.setdefault("validate", False)
    options.setdefault("normalize", False)
    return [h for _, h, _ in _run(source, reader_options(**options), 1)]


def normalize(source: Source, *, urn: bool = False, **options: Any) -> Dict[str, Any]:
    """The document as an EPCIS 2.0 document (a dict) with canonical identifiers,
    CBV values, UTC times and units; ``urn=True`` writes EPC URNs where the
    company prefix length is known (``gcp_length``, ``gcp_table``)."""
    r = capi.Reader(reader_options(urn=urn, **options))
    events: List[Dict[str, Any]] = []

    def take() -> bool:
        while True:
            h = r.next(0)
            if h is None:
                return True
            if h is False:
                return False
            events.append(json.loads(h.to_json(capi.TNT_JSON_CONTEXT if h.prefixes() else 0)))

    going = True
    for block in chunks(source):
        r.feed(block)
        if not take():
            going = False
            break
    if going:
        r.finish()
        take()
    doc = json.loads(r.header())
    doc.pop("epcisBody", None)
    out: Dict[str, Any] = {"@context": doc.pop("@context",
                                               "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"),
                           "type": "EPCISDocument", "schemaVersion": "2.0"}
    doc.pop("type", None)
    doc.pop("schemaVersion", None)
    out.update(doc)
    out["epcisBody"] = {"eventList": events}
    return out
