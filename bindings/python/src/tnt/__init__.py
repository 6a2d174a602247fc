"""tnt — GS1 EPCIS 2.0 track-and-trace of consumer goods (Python bindings of libtnt).

* :class:`Engine` — the store: ingest, track, history, authenticate, replay,
  archive, master data;
* :func:`read`, :func:`validate`, :func:`hash`, :func:`normalize` — documents,
  event by event in constant memory;
* :mod:`tnt.ids` — GS1 identifiers in every form;
* :mod:`tnt.auth` — brand keys, signed codes, offline checks;
* exceptions: :class:`Error` and one subclass per status code.
"""

from . import capi, errors
from .errors import (AlreadyExists, BackendError, CompanyPrefixUnknown, Conflict, Corrupt, Error,
                     InputOutputError, InvalidInput, MalformedInput, Misuse, NotFound, OutOfMemory, Timeout,
                     TooBig, Unsupported, VersionMismatch)

errors._load_table(capi.status_table())

from . import auth, ids  # noqa: E402
from .engine import (LOCATION, PARTY, PRODUCT, ArchiveResult, Engine, HistoryPage, IngestReport,  # noqa: E402
                     IngestResult, Reading, Reason, Track, Verdict)
from .events import Event, ValidationError, ValidationResult, hash, normalize, read, validate  # noqa: E402

__version__ = "1.1.0"
#: The version of the loaded libtnt ("1.1.0").
library_version: str = capi.tnt_version_string()
#: Features compiled into the loaded libtnt.
features = tuple(f for f in capi.tnt_features().split(",") if f)

__all__ = [
    "Engine", "Event", "read", "validate", "hash", "normalize", "ids", "auth",
    "IngestReport", "IngestResult", "Track", "Reading", "HistoryPage", "ArchiveResult", "Verdict", "Reason",
    "ValidationError", "ValidationResult", "PRODUCT", "LOCATION", "PARTY",
    "Error", "InvalidInput", "MalformedInput", "TooBig", "CompanyPrefixUnknown", "NotFound", "AlreadyExists",
    "InputOutputError", "Timeout", "BackendError", "Misuse", "Unsupported", "Conflict", "Corrupt",
    "VersionMismatch", "OutOfMemory", "library_version", "features",
]
