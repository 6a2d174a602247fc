"""Type stubs of tnt.capi, the SWIG extension module (the layer under the package).

Its classes hold owned libtnt handles; the package's modules are the API to use.
"""

from typing import Any, Callable, Dict, List, Optional, Tuple, Union

_Text = Union[str, bytes]
_Data = Union[str, bytes, bytearray, memoryview]
_Errors = List[Tuple[Optional[str], Optional[str], Optional[str]]]

COMPILED_VERSION: int
TNT_ACTION_ADD: int
TNT_ACTION_DELETE: int
TNT_ACTION_NONE: int
TNT_ACTION_OBSERVE: int
TNT_AGAIN: int
TNT_DONE: int
TNT_ENGINE_OPTIONS_VERSION: int
TNT_EPC_FORMAT_DIGITAL_LINK: int
TNT_EPC_FORMAT_URN: int
TNT_EVENT_AGGREGATION: int
TNT_EVENT_ASSOCIATION: int
TNT_EVENT_OBJECT: int
TNT_EVENT_TRANSACTION: int
TNT_EVENT_TRANSFORMATION: int
TNT_EVENT_UNKNOWN: int
TNT_E_BACKEND: int
TNT_E_CONFLICT: int
TNT_E_CORRUPT: int
TNT_E_EXISTS: int
TNT_E_GCP: int
TNT_E_INVALID: int
TNT_E_IO: int
TNT_E_MISUSE: int
TNT_E_NOMEM: int
TNT_E_NOTFOUND: int
TNT_E_SYNTAX: int
TNT_E_TIMEOUT: int
TNT_E_TOOBIG: int
TNT_E_UNSUPPORTED: int
TNT_E_VERSION: int
TNT_FIELD_BIZ_LOCATION: int
TNT_FIELD_BIZ_STEP: int
TNT_FIELD_DISPOSITION: int
TNT_FIELD_ERROR_REASON: int
TNT_FIELD_EVENT_ID: int
TNT_FIELD_EVENT_TIME_ZONE_OFFSET: int
TNT_FIELD_HASH_ID: int
TNT_FIELD_PARENT_ID: int
TNT_FIELD_READ_POINT: int
TNT_FIELD_TRANSFORMATION_ID: int
TNT_FORMAT_AUTO: int
TNT_FORMAT_JSON: int
TNT_FORMAT_PROTOBUF: int
TNT_ID_CPI: int
TNT_ID_FORM_BARCODE: int
TNT_ID_FORM_DIGITAL_LINK: int
TNT_ID_FORM_ELEMENT_STRING: int
TNT_ID_FORM_EPC_CLASS: int
TNT_ID_FORM_EPC_PATTERN: int
TNT_ID_FORM_EPC_URN: int
TNT_ID_FORM_NONE: int
TNT_ID_FORM_PLAIN: int
TNT_ID_F_PERMIT_SHORT_GTIN_IN_DL: int
TNT_ID_F_PERMIT_UNKNOWN_AIS: int
TNT_ID_GDTI: int
TNT_ID_GIAI: int
TNT_ID_GINC: int
TNT_ID_GLN: int
TNT_ID_GRAI: int
TNT_ID_GSIN: int
TNT_ID_GSRN: int
TNT_ID_GSRNP: int
TNT_ID_GTIN: int
TNT_ID_ITIP: int
TNT_ID_LEVEL_CLASS: int
TNT_ID_LEVEL_INSTANCE: int
TNT_ID_LEVEL_PATTERN: int
TNT_ID_LGTIN: int
TNT_ID_OPTIONS_VERSION: int
TNT_ID_PGLN: int
TNT_ID_SGCN: int
TNT_ID_SGLN: int
TNT_ID_SGTIN: int
TNT_ID_SSCC: int
TNT_ID_UNKNOWN: int
TNT_ID_UPUI: int
TNT_INGEST_ACCEPTED: int
TNT_INGEST_COUNTS_ONLY: int
TNT_INGEST_DUPLICATE: int
TNT_INGEST_REJECTED: int
TNT_INTENT_RECEIVE: int
TNT_INTENT_RETURN: int
TNT_INTENT_SELL: int
TNT_INTENT_STATUS: int
TNT_JSON_CONTEXT: int
TNT_JSON_HASH_ID: int
TNT_JSON_PRETTY: int
TNT_LIST_CERTIFICATION_INFO: int
TNT_LIST_CHILD_EPC: int
TNT_LIST_CORRECTIVE_EVENT_ID: int
TNT_LIST_EPC: int
TNT_LIST_INPUT_EPC: int
TNT_LIST_OUTPUT_EPC: int
TNT_LIST_PD_SET: int
TNT_LIST_PD_UNSET: int
TNT_MASTER_LOCATION: int
TNT_MASTER_PARTY: int
TNT_MASTER_PRODUCT: int
TNT_OK: int
TNT_QLIST_CHILD: int
TNT_QLIST_INPUT: int
TNT_QLIST_OUTPUT: int
TNT_QLIST_QUANTITY: int
TNT_QUERY_VERSION: int
TNT_READER_OPTIONS_VERSION: int
TNT_READ_DEFAULT: int
TNT_READ_HASH: int
TNT_READ_NORMALIZE: int
TNT_READ_VALIDATE: int
TNT_REF_BIZ_TRANSACTION: int
TNT_REF_DESTINATION: int
TNT_REF_SOURCE: int
TNT_ROLE_CONSUMER: int
TNT_ROLE_PARTNER: int
TNT_ROLE_RETAILER: int
TNT_SCAN_VERSION: int
TNT_TIME_ERROR_DECLARATION: int
TNT_TIME_EVENT: int
TNT_TIME_RECORD: int
TNT_TRACK_BIZ_LOCATION: int
TNT_TRACK_BIZ_STEP: int
TNT_TRACK_DISPOSITION: int
TNT_TRACK_ID: int
TNT_TRACK_LAST_EVENT: int
TNT_TRACK_LOCATION_NAME: int
TNT_TRACK_OWNER: int
TNT_TRACK_PARENT: int
TNT_TRACK_POSSESSOR: int
TNT_TRACK_READ_POINT: int
TNT_VALUE_ARRAY: int
TNT_VALUE_BOOL: int
TNT_VALUE_NULL: int
TNT_VALUE_NUMBER: int
TNT_VALUE_OBJECT: int
TNT_VALUE_STRING: int
TNT_VERDICT_COUNTERFEIT: int
TNT_VERDICT_DO_NOT_USE: int
TNT_VERDICT_GENUINE: int
TNT_VERDICT_GENUINE_CAUTION: int
TNT_VERDICT_JSON_CONSUMER: int
TNT_VERDICT_JSON_PARTNER: int
TNT_VERDICT_SUSPECT: int
TNT_VERDICT_UNVERIFIABLE: int
TNT_VERSION_MAJOR: int
TNT_VERSION_MINOR: int
TNT_VERSION_NUMBER: int
TNT_VERSION_PATCH: int
TNT_VERSION_STRING: int

def tnt_status_str(status: int) -> str: ...
def tnt_status_name(status: int) -> str: ...
def tnt_version_number() -> int: ...
def tnt_version_string() -> str: ...
def tnt_features() -> str: ...
def set_track_type(type: type) -> None: ...
def status_table() -> List[Tuple[int, str, str]]: ...
def type_names() -> Dict[int, str]: ...
def event_type_name(type: int) -> str: ...
def check_digit(digits: _Text) -> int: ...
def id_normalize(text: _Text, gcp_length: int, table: Optional[GcpTable], flags: int) -> str: ...
def keygen() -> Tuple[str, str]: ...
def sign_code(code: _Text, secret: _Text, stem: Optional[_Text]) -> str: ...
def verdict_verify(json: _Data, key: _Text) -> bool: ...

class TrackHandle: ...

class Engine:
    def __init__(self, data_dir: Optional[_Text], config: Optional[_Text], log_uri: Optional[_Text],
                 store_uri: Optional[_Text], archive_uri: Optional[_Text], partitions: int, archive_after_ms: int,
                 retention_ms: int, reader: Optional[tuple]) -> None: ...
    def close(self) -> None: ...
    def closed(self) -> bool: ...
    def ingest(self, data: _Data, counts_only: bool) -> Tuple[int, str, tuple]: ...
    def ingest_file(self, path: _Text, counts_only: bool) -> Tuple[int, str, tuple]: ...
    def ingest_stream(self, read: Callable[[int], Union[str, bytes]], counts_only: bool) -> Tuple[int, str, tuple, Optional[BaseException]]: ...
    def track(self, id: _Text) -> Any: ...
    def track_json(self, track: TrackHandle) -> str: ...
    def history(self, id: _Text, token: Optional[_Text], limit: int) -> Tuple[List[Event], Optional[str]]: ...
    def query(self, query: tuple) -> Tuple[List[Event], Optional[str]]: ...
    def event(self, hash_id: _Text) -> Event: ...
    def replay(self, from_time_ms: int) -> int: ...
    def archive(self, now_ms: int) -> Tuple[int, int]: ...
    def master_load(self, path: _Text) -> int: ...
    def master_put(self, kind: int, json: _Data) -> None: ...
    def master_get(self, kind: int, key: _Text) -> str: ...
    def stats(self) -> str: ...
    def authenticate(self, code: _Text, scan: tuple) -> Tuple[int, str, float, int, list, str, str]: ...
    def service_key(self) -> str: ...

class Reader:
    def __init__(self, options: Optional[tuple]) -> None: ...
    def feed(self, data: _Data) -> None: ...
    def finish(self) -> None: ...
    def next(self, mode: int) -> Any: ...
    def header(self) -> str: ...
    def counts(self) -> Tuple[int, int, int]: ...

class Event:
    @staticmethod
    def from_proto(data: _Data) -> Event: ...
    def type(self) -> int: ...
    def action(self) -> int: ...
    def index(self) -> int: ...
    def valid(self) -> bool: ...
    def errors(self) -> _Errors: ...
    def time(self, which: int) -> Optional[Tuple[int, int]]: ...
    def string(self, field: int) -> Optional[str]: ...
    def list(self, which: int) -> List[str]: ...
    def qlist(self, which: int) -> List[Tuple[str, Optional[float], Optional[str]]]: ...
    def refs(self, which: int) -> List[Tuple[Optional[str], str]]: ...
    def sensors(self) -> List[List[Tuple[str, Optional[float], Optional[str]]]]: ...
    def get(self, path: _Text) -> Optional[Tuple[int, Any, int]]: ...
    def prefixes(self) -> Dict[str, str]: ...
    def to_json(self, flags: int) -> str: ...
    def to_proto(self) -> bytes: ...
    def clone(self) -> Event: ...

class GcpTable:
    def __init__(self) -> None: ...
    def add(self, prefix: _Text, length: int) -> None: ...
    def load(self, path: _Text) -> None: ...
    def lookup(self, digits: _Text) -> Optional[int]: ...

class IdParser:
    def __init__(self) -> None: ...
    def parse(self, text: _Text, gcp_length: int, table: Optional[GcpTable], flags: int) -> tuple: ...
    def digital_link(self, stem: Optional[_Text]) -> str: ...
