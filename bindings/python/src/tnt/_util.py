"""Conversions shared by the modules: times, durations, document sources."""

from __future__ import annotations

import io
import json
import os
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Iterator, Optional, Union

from . import errors

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CHUNK = 1 << 20  # bytes per read when a document is streamed

#: What the document functions read: the text or bytes of a document, a path
#: (``pathlib.Path``), an open file, one event or report as a dict, or an
#: iterable of dicts.
Source = Union[str, bytes, bytearray, memoryview, "os.PathLike[str]", io.IOBase, dict, Iterable[dict]]


def from_ms(ms: Optional[int], offset_minutes: int = 0) -> Optional[datetime]:
    """Milliseconds since the epoch as an aware datetime in the given offset."""
    if ms is None:
        return None
    t = EPOCH + timedelta(milliseconds=ms)
    return t.astimezone(timezone(timedelta(minutes=offset_minutes))) if offset_minutes else t


def to_ms(t: Union[None, int, float, datetime], what: str) -> int:
    """A time as milliseconds since the epoch: an aware datetime, or a number of ms."""
    if t is None:
        return 0
    if isinstance(t, bool):
        raise TypeError(f"{what} must be a datetime or milliseconds, not bool")
    if isinstance(t, datetime):
        if t.tzinfo is None or t.tzinfo.utcoffset(t) is None:
            raise ValueError(f"{what}: a naive datetime is ambiguous; give it a time zone")
        return (t - EPOCH) // timedelta(milliseconds=1)
    if isinstance(t, (int, float)):
        return int(t)
    raise TypeError(f"{what} must be a datetime or milliseconds, not {type(t).__name__}")


def duration_ms(d: Union[None, int, float, timedelta], what: str) -> int:
    """A duration as milliseconds: a timedelta, or a number of seconds."""
    if d is None:
        return 0
    if isinstance(d, bool):
        raise TypeError(f"{what} must be a timedelta or seconds, not bool")
    if isinstance(d, timedelta):
        ms = d // timedelta(milliseconds=1)
    elif isinstance(d, (int, float)):
        ms = int(d * 1000)
    else:
        raise TypeError(f"{what} must be a timedelta or seconds, not {type(d).__name__}")
    if ms <= 0:
        raise ValueError(f"{what} must be positive")
    return ms


def text(value: Any, what: str) -> Union[str, bytes]:
    """A text argument: str, or bytes that must be UTF-8."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        b = bytes(value)
        try:
            b.decode("utf-8")
        except UnicodeDecodeError as e:
            raise errors.InvalidInput(f"{what} is not valid UTF-8 (byte {e.start})") from None
        return b
    raise TypeError(f"{what} must be str, not {type(value).__name__}")


def _looks_like_path(s: str) -> bool:
    head = s.lstrip()[:1]
    return head not in ("{", "[") and len(s) < 4096 and "\n" not in s and os.path.exists(s)


def _json_array(items: Iterable[Any]) -> Iterator[bytes]:
    """Dicts as the chunks of one JSON array."""
    yield b"["
    buf, first = [], True
    size = 0
    for item in items:
        if not isinstance(item, dict):
            raise TypeError(f"an iterable source must yield dicts, not {type(item).__name__}")
        s = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        buf.append(s if first else "," + s)
        first = False
        size += len(s)
        if size >= CHUNK:
            yield "".join(buf).encode()
            buf, size = [], 0
    if buf:
        yield "".join(buf).encode()
    yield b"]"


def chunks(source: Any) -> Iterator[Union[str, bytes, bytearray, memoryview]]:
    """The bytes of a document source, in chunks (streamed, constant memory)."""
    if source is None:
        raise TypeError("a document is required, not None")
    if isinstance(source, str):
        if _looks_like_path(source):
            raise TypeError(f"{source!r} is a file name; pass pathlib.Path({source!r}) or an open file")
        yield source
    elif isinstance(source, (bytes, bytearray, memoryview)):
        yield source
    elif isinstance(source, os.PathLike):
        with open(source, "rb") as f:
            yield from iter(lambda: f.read(CHUNK), b"")
    elif hasattr(source, "read"):
        while True:
            block = source.read(CHUNK)
            if not block:
                break
            if not isinstance(block, (str, bytes, bytearray)):
                raise TypeError(f"read() returned {type(block).__name__}, not str or bytes")
            yield block
    elif isinstance(source, dict):
        yield json.dumps(source, ensure_ascii=False)
    elif isinstance(source, Iterable):
        yield from _json_array(source)
    else:
        raise TypeError("a document must be str, bytes, a path, a file or dicts, "
                        f"not {type(source).__name__}")
