"""The engine: a track-and-trace store (ingest, track, history, authenticate,
replay, archive, master data).

::

    with tnt.Engine("tnt-data") as engine:
        report = engine.ingest(pathlib.Path("shipment.jsonld"))
        print(engine.track("(01)09506000134352(21)ABC123").biz_location)
        for event in engine.journey("(01)09506000134352(21)ABC123"):
            print(event.event_time, event.biz_step)

An engine is safe to share between threads; calls that touch storage release
the GIL. ``close()`` (or leaving the ``with`` block) waits for the calls in
flight, and every later call raises :class:`tnt.Misuse`.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from operator import itemgetter
from typing import Any, Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from . import capi, errors
from ._util import EPOCH, Source, duration_ms, from_ms, text, to_ms
from .events import Event, ValidationError, _errors, reader_options

__all__ = ["Engine", "IngestReport", "IngestResult", "Track", "Reading", "HistoryPage", "ArchiveResult",
           "Verdict", "Reason", "PRODUCT", "LOCATION", "PARTY"]

PRODUCT, LOCATION, PARTY = "product", "location", "party"
_KINDS = {PRODUCT: capi.TNT_MASTER_PRODUCT, LOCATION: capi.TNT_MASTER_LOCATION, PARTY: capi.TNT_MASTER_PARTY}
_KEYS = {"gtin": PRODUCT, "gln": LOCATION, "company_prefix": PARTY}
_INGEST = {capi.TNT_INGEST_ACCEPTED: "accepted", capi.TNT_INGEST_DUPLICATE: "duplicate",
           capi.TNT_INGEST_REJECTED: "rejected"}
BATCH = 512  # events per ingest call when ingesting an iterable of dicts


# ---- ingest ----

@dataclass(frozen=True)
class IngestResult:
    """What happened to one event: ``status`` is ``"accepted"`` (stored, durable),
    ``"duplicate"`` (stored before) or ``"rejected"`` (see ``errors``)."""

    index: int
    status: str
    hash_id: Optional[str]
    errors: List[ValidationError] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {"index": self.index, "status": self.status, "hash": self.hash_id,
                "errors": [e.to_dict() for e in self.errors]}


@dataclass
class IngestReport:
    """The outcome of an ingest: counts, and per event (unless ``counts_only``) its result."""

    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    results: Optional[List[IngestResult]] = None

    @property
    def ok(self) -> bool:
        """True when no event was rejected."""
        return self.rejected == 0

    @property
    def rejections(self) -> List[IngestResult]:
        return [r for r in self.results or [] if r.status == "rejected"]

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"events": self.events, "accepted": self.accepted, "duplicates": self.duplicates,
                             "rejected": self.rejected}
        if self.results is not None:
            d["results"] = [r.to_dict() for r in self.results]
        return d

    def _add(self, raw: tuple, offset: int) -> None:
        n, acc, dup, rej, results = raw
        self.events += n
        self.accepted += acc
        self.duplicates += dup
        self.rejected += rej
        if results is not None:
            if self.results is None:
                self.results = []
            self.results.extend(IngestResult(offset + i, _INGEST.get(st, str(st)), h, _errors(errs))
                                for i, (st, h, errs) in enumerate(results))


# ---- track ----

class Reading(NamedTuple):
    """The latest reading of one measurement type, in its canonical unit."""

    type: str
    value: float
    uom: str
    time_ms: int
    excursion: bool  # outside the product's allowed range (master data)

    @property
    def time(self) -> datetime:
        return EPOCH + timedelta(milliseconds=self.time_ms)

    def to_dict(self) -> Dict[str, Any]:
        return {"type": self.type, "value": self.value, "uom": self.uom,
                "time": self.time.isoformat().replace("+00:00", "Z"), "excursion": self.excursion}


_FIELDS = ("id", "biz_step", "disposition", "read_point", "biz_location", "parent", "owner", "possessor",
           "last_event", "last_time_ms", "event_count")


class Track(tuple):
    """The current state of a unit, case or pallet: where it is, what happened
    last, in what condition. ``to_dict()`` is the full view (the location's
    name and coordinates from master data, the container it moved with, ...),
    as ``tnt track`` prints it."""

    __slots__ = ()
    id: str = property(itemgetter(0))  # type: ignore[assignment]
    biz_step: Optional[str] = property(itemgetter(1))  # type: ignore[assignment]
    disposition: Optional[str] = property(itemgetter(2))  # type: ignore[assignment]
    read_point: Optional[str] = property(itemgetter(3))  # type: ignore[assignment]
    biz_location: Optional[str] = property(itemgetter(4))  # type: ignore[assignment]
    parent: Optional[str] = property(itemgetter(5))  # type: ignore[assignment]
    owner: Optional[str] = property(itemgetter(6))  # type: ignore[assignment]
    possessor: Optional[str] = property(itemgetter(7))  # type: ignore[assignment]
    last_event: Optional[str] = property(itemgetter(8))  # type: ignore[assignment]
    last_time_ms: int = property(itemgetter(9))  # type: ignore[assignment]
    event_count: int = property(itemgetter(10))  # type: ignore[assignment]

    @property
    def readings(self) -> Tuple[Reading, ...]:
        return tuple(Reading(*r) for r in self[11])

    @property
    def last_time(self) -> Optional[datetime]:
        return from_ms(self[9]) if self[9] else None

    @property
    def excursion(self) -> bool:
        """True when any latest reading is outside the product's allowed range."""
        return any(r[4] for r in self[11])

    def details(self) -> Dict[str, Any]:
        """The full view as a dict (reads master data; the engine must be open)."""
        return json.loads(self[13].track_json(self[12]))

    to_dict = details

    @property
    def location(self) -> Optional[Dict[str, Any]]:
        """The location with its name, city, country and coordinates from master data."""
        return self.details().get("location")

    @property
    def location_name(self) -> Optional[str]:
        loc = self.location
        return loc.get("name") if loc else None

    @property
    def via(self) -> Optional[str]:
        """The container whose location this is, when the unit moved with it."""
        return self.details().get("via")

    # the handle and the engine (items 12 and 13) are not part of the value
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Track):
            return NotImplemented
        return self[:12] == other[:12]

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(self[:12])

    def __len__(self) -> int:
        return 12

    def __iter__(self) -> Iterator[Any]:
        return iter(self[:12])

    def __repr__(self) -> str:
        return (f"Track(id={self[0]!r}, biz_step={self[1]!r}, disposition={self[2]!r}, "
                f"biz_location={self[4]!r}, parent={self[5]!r}, event_count={self[10]})")

    def __reduce__(self) -> Any:
        raise TypeError("a Track refers to its engine; pickle track.to_dict() instead")


capi.set_track_type(Track)


# ---- history ----

@dataclass(frozen=True)
class HistoryPage:
    """One page of a journey, oldest first; ``next_token`` fetches the next page."""

    id: Optional[str]  # None for the pages of a query
    events: List[Event]
    next_token: Optional[str]

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def to_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "events": [e.to_dict() for e in self.events], "next": self.next_token}


class _Pages:
    """Pages of a journey or a query; the first page is read at once (so that
    errors show where the call is), each next one when the previous is handed out."""

    def __init__(self, fetch: Callable[[Optional[str]], Tuple[list, Optional[str]]], id: Optional[str],
                 page: Optional[str]) -> None:
        self._fetch, self._id = fetch, id
        self._next: Optional[HistoryPage] = self._get(page)

    def _get(self, token: Optional[str]) -> HistoryPage:
        events, next_token = self._fetch(token)
        return HistoryPage(self._id, [Event(e) for e in events], next_token)

    def __iter__(self) -> "_Pages":
        return self

    def __next__(self) -> HistoryPage:
        page = self._next
        if page is None:
            raise StopIteration
        nxt = self._get(page.next_token) if page.next_token is not None else None
        # a scan may only learn at the next page that it is over: no empty last page
        self._next = nxt if nxt is not None and (nxt.events or nxt.next_token) else None
        return page


@dataclass(frozen=True)
class ArchiveResult:
    archived: int
    expired: int

    def to_dict(self) -> Dict[str, int]:
        return {"archived": self.archived, "expired": self.expired}


# ---- authenticity ----

@dataclass(frozen=True)
class Reason:
    """Why: a stable ``code`` (``"SERIAL_UNKNOWN"``), ``severity`` (info, warn, hard) and text."""

    code: str
    severity: str
    text: str

    def to_dict(self) -> Dict[str, str]:
        return {"code": self.code, "severity": self.severity, "text": self.text}


@dataclass(frozen=True)
class Verdict:
    """The answer to "is this product genuine?".

    ``verdict`` is ``"GENUINE"``, ``"GENUINE_CAUTION"``, ``"DO_NOT_USE"``,
    ``"SUSPECT"``, ``"COUNTERFEIT"`` or ``"UNVERIFIABLE"``; ``to_dict()`` is
    the whole signed answer (origin, journey, scans, signature), for partners
    by default or as a consumer sees it (``audience="consumer"``).
    """

    verdict: str
    kind: int
    confidence: float
    evidence_level: int
    reasons: List[Reason]
    json: str = field(repr=False)
    consumer_json: str = field(repr=False)

    @property
    def genuine(self) -> bool:
        return self.verdict in ("GENUINE", "GENUINE_CAUTION")

    def to_dict(self, audience: str = "partner") -> Dict[str, Any]:
        if audience not in ("partner", "consumer"):
            raise ValueError("audience is 'partner' or 'consumer'")
        return json.loads(self.json if audience == "partner" else self.consumer_json)

    @property
    def origin(self) -> Optional[Dict[str, Any]]:
        return self.to_dict().get("origin")

    @property
    def journey(self) -> List[Any]:
        return self.to_dict().get("journey") or []

    @property
    def signature(self) -> Optional[str]:
        return self.to_dict().get("signature")


_ROLES = {"consumer": capi.TNT_ROLE_CONSUMER, "retailer": capi.TNT_ROLE_RETAILER, "partner": capi.TNT_ROLE_PARTNER}
_INTENTS = {"status": capi.TNT_INTENT_STATUS, "sell": capi.TNT_INTENT_SELL, "receive": capi.TNT_INTENT_RECEIVE,
            "return": capi.TNT_INTENT_RETURN}


# ---- the engine ----

class Engine:
    """An open track-and-trace store.

    ``Engine()`` keeps everything in ``./tnt-data`` (or ``$TNT_DATA``);
    ``Engine("dir")`` in that directory; ``Engine(config="config.yml")`` on
    the backends the file names. Keyword options override the file:
    ``log_uri``, ``store_uri``, ``archive_uri``, ``partitions``,
    ``archive_after`` and ``retention`` (timedelta or seconds), and the
    reader options of :func:`tnt.read` (``now``, ``future_skew``, ``urn``,
    ``gcp_length``, ``gcp_table``, limits) for ingest.
    """

    def __init__(self, data_dir: Union[None, str, "os.PathLike[str]"] = None, *,
                 config: Union[None, str, "os.PathLike[str]"] = None, log_uri: Optional[str] = None,
                 store_uri: Optional[str] = None, archive_uri: Optional[str] = None, partitions: int = 0,
                 archive_after: Union[None, int, float, timedelta] = None,
                 retention: Union[None, int, float, timedelta] = None, **reader: Any) -> None:
        if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 0:
            raise ValueError("partitions must be a non-negative int")
        ro = reader_options(**reader) if reader else None
        self._h = capi.Engine(os.fspath(data_dir) if data_dir is not None else None,
                              os.fspath(config) if config is not None else None, log_uri, store_uri, archive_uri,
                              partitions, duration_ms(archive_after, "archive_after"),
                              duration_ms(retention, "retention"), ro)

    # ---- lifecycle ----
    def close(self) -> None:
        """Close the engine (waits for calls in flight). Closing twice is harmless."""
        self._h.close()

    @property
    def closed(self) -> bool:
        h = getattr(self, "_h", None)
        return h is None or h.closed()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<tnt.Engine {'closed' if self.closed else 'open'}>"

    # ---- ingest ----
    def ingest(self, source: Source, *, counts_only: bool = False) -> IngestReport:
        """Store the events of a document, each once (by event hash); returns when
        the accepted ones are durable.

        ``source``: the document's text or bytes, a ``pathlib.Path`` or an open
        file (text or binary, e.g. ``gzip.open(...)``: both streamed in constant
        memory), one event or report as a dict, or an iterable of dicts
        (ingested in batches of 512). A malformed document raises
        :class:`tnt.MalformedInput` whose ``details`` is the report of the
        events before the fault (they stand); so does a file whose ``read()``
        fails (:class:`tnt.InputOutputError`, the file's exception as its
        ``__cause__``).
        """
        h = self._h
        report = IngestReport()
        if isinstance(source, os.PathLike):
            self._ingest_one(report, h.ingest_file(os.fspath(source), counts_only), 0)
        elif isinstance(source, (str, bytes, bytearray, memoryview)):
            if isinstance(source, str) and source[:1] not in ("{", "[") and _is_file(source):
                raise TypeError(f"{source!r} is a file name; pass pathlib.Path({source!r})")
            self._ingest_one(report, h.ingest(source, counts_only), 0)
        elif isinstance(source, dict):
            self._ingest_one(report, h.ingest(json.dumps(source, ensure_ascii=False), counts_only), 0)
        elif hasattr(source, "read"):
            st, message, counts, cause = h.ingest_stream(source.read, counts_only)
            report._add(counts, 0)
            if st != 0:
                raise errors._from_status(st, message, report) from cause
        elif isinstance(source, Iterable):
            it = iter(source)
            while True:
                batch = list(islice(it, BATCH))
                if not batch:
                    break
                for item in batch:
                    if not isinstance(item, dict):
                        raise TypeError(f"an iterable source must yield dicts, not {type(item).__name__}")
                doc = json.dumps(batch, ensure_ascii=False)
                self._ingest_one(report, h.ingest(doc, counts_only), report.events)
        elif source is None:
            raise TypeError("ingest needs a document, not None")
        else:
            raise TypeError(f"cannot ingest a {type(source).__name__}")
        return report

    @staticmethod
    def _ingest_one(report: IngestReport, raw: tuple, offset: int) -> None:
        st, message, counts = raw
        report._add(counts, offset)
        if st != 0:
            raise errors._from_status(st, message, report)

    # ---- queries ----
    def track(self, id: Union[str, bytes]) -> Track:
        """Where a unit, case or pallet is (any identifier form). Raises
        :class:`tnt.NotFound` when it was never seen, :class:`tnt.InvalidInput`
        when ``id`` is not an identifier."""
        return self._h.track(id)

    def history(self, id: Union[str, bytes], *, limit: int = 100, page: Optional[str] = None) -> Iterator[HistoryPage]:
        """The pages of a journey, oldest event first, ``limit`` events a page,
        from ``page`` (a ``next_token``) on. Raises :class:`tnt.NotFound` at once
        for an identifier never seen."""
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ValueError("limit must be a non-negative int")
        h = self._h
        name = id.decode("utf-8", "replace") if isinstance(id, bytes) else id
        return _Pages(lambda token: h.history(id, token, limit), name, page)

    def journey(self, id: Union[str, bytes], *, limit: int = 100) -> Iterator[Event]:
        """Every event of an identifier, oldest first, across pages."""
        for page in self.history(id, limit=limit):
            yield from page.events

    def query(self, *, event_types: Union[None, str, Sequence[str]] = None,
              since: Union[None, int, datetime] = None, until: Union[None, int, datetime] = None,
              recorded_since: Union[None, int, datetime] = None, recorded_until: Union[None, int, datetime] = None,
              biz_steps: Union[None, str, Sequence[str]] = None, dispositions: Union[None, str, Sequence[str]] = None,
              read_points: Union[None, str, Sequence[str]] = None,
              biz_locations: Union[None, str, Sequence[str]] = None, epcs: Union[None, str, Sequence[str]] = None,
              any_epcs: Union[None, str, Sequence[str]] = None, limit: int = 100,
              page: Optional[str] = None) -> Iterator[HistoryPage]:
        """Stored events matching the EPCIS 2.0 query parameters, page by page.

        Each parameter takes one value or a list (any of them matches); the
        parameters all apply. ``event_types`` (eventType), ``since``/``until``
        (GE_/LT_eventTime), ``recorded_since``/``recorded_until``
        (GE_/LT_recordTime), ``biz_steps``, ``dispositions``, ``read_points``,
        ``biz_locations`` (EQ_...), ``epcs`` (MATCH_epc) and ``any_epcs``
        (MATCH_anyEPC). With ``epcs`` or ``any_epcs`` the identifiers'
        histories are read, archive included, in event-time order; without,
        the archived segments and then the event log are scanned in capture order.
        """
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ValueError("limit must be a non-negative int")
        q = (_strs(event_types, "event_types"), to_ms(since, "since"), to_ms(until, "until"),
             to_ms(recorded_since, "recorded_since"), to_ms(recorded_until, "recorded_until"),
             _strs(biz_steps, "biz_steps"), _strs(dispositions, "dispositions"), _strs(read_points, "read_points"),
             _strs(biz_locations, "biz_locations"), _strs(epcs, "epcs"), _strs(any_epcs, "any_epcs"))
        h = self._h
        return _Pages(lambda token: h.query(q + (token, limit)), None, page)

    def event(self, hash_id: str) -> Event:
        """One stored event by its hash ID, or by the eventID its sender gave it
        (the first event stored with it); :class:`tnt.NotFound` if unknown."""
        return Event(self._h.event(hash_id))

    def authenticate(self, code: Union[str, bytes], *, time: Union[None, int, datetime] = None,
                     location: Optional[Tuple[float, float]] = None, accuracy_m: float = 0.0,
                     device: Optional[str] = None, role: str = "consumer", intent: str = "status",
                     location_id: Optional[str] = None, record: bool = True) -> Verdict:
        """Is the product with this code genuine?

        ``code``: the scanned code in any form (garbage gets ``UNVERIFIABLE``,
        not an exception). The scan context: ``time``, ``location`` as
        ``(latitude, longitude)``, ``accuracy_m``, a pseudonymous ``device``,
        ``role`` (consumer, retailer, partner), ``intent`` (status, sell,
        receive, return), a site's ``location_id`` (GLN), and ``record=False``
        for a dry run that records nothing.
        """
        if role not in _ROLES:
            raise ValueError(f"role must be one of {', '.join(_ROLES)}")
        if intent not in _INTENTS:
            raise ValueError(f"intent must be one of {', '.join(_INTENTS)}")
        lat = lon = 0.0
        if location is not None:
            try:
                lat, lon = (float(v) for v in location)
            except (TypeError, ValueError):
                raise TypeError("location must be (latitude, longitude)") from None
        scan = (to_ms(time, "time"), location is not None, lat, lon, float(accuracy_m), device, _ROLES[role],
                _INTENTS[intent], location_id, bool(record))
        kind, name, conf, level, reasons, pj, cj = self._h.authenticate(code, scan)
        return Verdict(name, kind, conf, level, [Reason(*r) for r in reasons], pj, cj)

    @property
    def service_key(self) -> str:
        """The public key (base64url) that signs the answers of :meth:`authenticate`."""
        return self._h.service_key()

    # ---- maintenance ----
    def replay(self, since: Union[None, int, datetime] = None) -> int:
        """Rebuild the state store from the event log (and the archive): from the
        beginning, or from the records at or after ``since``. Returns the
        number of records replayed."""
        return self._h.replay(to_ms(since, "since"))

    def archive(self, now: Union[None, int, datetime] = None) -> ArchiveResult:
        """Move events older than ``archive_after`` to the cold archive; delete
        archived ones past ``retention``."""
        return ArchiveResult(*self._h.archive(to_ms(now, "now")))

    def stats(self) -> Dict[str, Any]:
        """Counters per operation and sizes."""
        return json.loads(self._h.stats())

    # ---- master data ----
    def load_master(self, source: Union[str, "os.PathLike[str]", Dict[str, List[Dict[str, Any]]]]) -> int:
        """Load products, locations and parties from a JSON or CSV file, or from a
        dict ``{"products": [...], "locations": [...], "parties": [...]}``.
        Returns the number of records loaded."""
        if isinstance(source, dict):
            n = 0
            for section, kind in (("products", PRODUCT), ("locations", LOCATION), ("parties", PARTY)):
                for record in source.get(section, []):
                    self.put_master(kind, record)
                    n += 1
            unknown = set(source) - {"products", "locations", "parties"}
            if unknown:
                raise errors.InvalidInput(f"master data: unknown section {sorted(unknown)[0]!r}")
            return n
        if isinstance(source, (str, os.PathLike)):
            return self._h.master_load(os.fspath(source))
        raise TypeError(f"master data is a path or a dict, not {type(source).__name__}")

    def put_master(self, kind: str, record: Dict[str, Any]) -> None:
        """Add or replace one record: ``kind`` is ``"product"`` (key ``gtin``),
        ``"location"`` (``gln``) or ``"party"`` (``company_prefix``)."""
        if not isinstance(record, dict):
            raise TypeError("a master-data record is a dict")
        self._h.master_put(_kind(kind), json.dumps(record, ensure_ascii=False))

    def get_master(self, kind: str, key: str) -> Dict[str, Any]:
        """One record by its key (GTIN, GLN or company prefix); :class:`tnt.NotFound` if absent."""
        return json.loads(self._h.master_get(_kind(kind), key))


def _strs(v: Union[None, str, Sequence[str]], what: str) -> Optional[List[str]]:
    if v is None:
        return None
    if isinstance(v, str):
        return [v]
    if isinstance(v, (bytes, bytearray)) or not isinstance(v, Iterable):
        raise TypeError(f"{what} must be a str or a list of str")
    return list(v)


def _kind(kind: str) -> int:
    k = _KINDS.get(kind) or _KINDS.get(_KEYS.get(kind, ""))
    if k is None:
        raise ValueError(f"kind must be 'product', 'location' or 'party', not {kind!r}")
    return k


def _is_file(s: str) -> bool:
    return len(s) < 4096 and "\n" not in s and "\0" not in s and os.path.isfile(s)
