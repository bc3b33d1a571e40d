"""How attribute values are stored.

Attribute maps are stored as JSON (orjson) objects of name -> list of values. JSON has no bytes
or datetimes, so such values are tagged strings: a leading control character says what follows.
Directory strings never start with these characters in practice; one that does is escaped, so
the codec is exact.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson

_BYTES = "\x00"
_ESCAPED = "\x01"
_DATETIME = "\x02"
_BIGINT = "\x03"
_TAGS = (_BYTES, _ESCAPED, _DATETIME, _BIGINT)
_INT64 = range(-(2**63), 2**63)

Attributes = dict[str, list[Any]]


def encode_value(value: Any) -> Any:
    if isinstance(value, str):
        if value and value[0] in _TAGS:
            return _ESCAPED + value
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return _BYTES + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return _DATETIME + value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        return _BIGINT + str(value)
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, str) and value and value[0] in _TAGS:
        tag = value[0]
        if tag == _BYTES:
            return base64.b64decode(value[1:])
        if tag == _DATETIME:
            return datetime.fromisoformat(value[1:])
        if tag == _BIGINT:
            return int(value[1:])
        return value[1:]
    return value


def dumps_attributes(attributes: Mapping[str, Iterable[Any]]) -> str:
    return orjson.dumps(
        {k: [encode_value(v) for v in vs] for k, vs in attributes.items()},
        option=orjson.OPT_SORT_KEYS,
    ).decode("utf-8")


def loads_attributes(text: str | bytes | None) -> Attributes:
    if not text:
        return {}
    raw = orjson.loads(text)
    # Tagged values are serialised with a \u000N escape; most documents have none.
    if "\\u000" not in (text if isinstance(text, str) else text.decode("utf-8", "replace")):
        return raw
    for key, values in raw.items():
        if any(isinstance(v, str) and v and v[0] in _TAGS for v in values):
            raw[key] = [decode_value(v) for v in values]
    return raw


def dumps(obj: Any) -> str:
    return orjson.dumps(obj, default=_default).decode("utf-8")


def loads(text: str | bytes | None) -> Any:
    return orjson.loads(text) if text else None


def _default(obj: Any) -> Any:
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode("ascii")
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def value_key(value: Any) -> Any:
    """A hashable, type-distinguishing key for comparing value sets (True is not 1)."""
    return (type(value).__name__, value)


def same_values(a: Iterable[Any] | None, b: Iterable[Any] | None) -> bool:
    """Multi-valued attributes are sets: order does not matter, duplicates do not count."""
    return {value_key(v) for v in (a or ())} == {value_key(v) for v in (b or ())}
