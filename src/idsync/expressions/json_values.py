"""Objects given as JSON (``idsync expression eval --object``, ``idsync rules test``, the rules
editor's "test this rule on an object"): attribute -> value(s), with typed values JSON lacks,
and expression values back as JSON."""

from __future__ import annotations

import base64
import datetime as _dt
from typing import Any

from idsync.errors import ConfigurationError
from idsync.expressions.functions.dates import parse_date
from idsync.expressions.values import Ref

TYPED_HELP = (
    'A value may also be {"binary": BASE64}, {"ref": DN} or {"date": ISO-8601} for the '
    "types JSON lacks."
)


def attributes_from_json(data: Any, where: str = "the object") -> dict[str, Any]:
    """Attribute -> value(s) from parsed JSON; ConfigurationError names what is wrong."""
    if not isinstance(data, dict):
        raise ConfigurationError(f"{where} must hold a JSON object of attributes")
    return {str(name): _from_json(str(name), value) for name, value in data.items()}


def to_json(value: Any) -> Any:
    """An expression value as JSON: dates ISO 8601 UTC, binary Base64, a list when multi-valued."""
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC)
        text = value.replace(tzinfo=None).isoformat()
        return text + "Z"
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, str):
        return str(value)
    return value


def _from_json(name: str, value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(name, v) for v in value]
    if isinstance(value, float):
        if not value.is_integer():
            raise ConfigurationError(f"attribute {name}: numbers are whole numbers, got {value}")
        return int(value)
    if isinstance(value, dict):
        return _typed(name, value)
    return value


def _typed(name: str, value: dict[str, Any]) -> Any:
    if len(value) == 1:
        ((kind, text),) = value.items()
        if kind == "ref" and isinstance(text, str):
            return Ref(text)
        if kind == "binary" and isinstance(text, str):
            try:
                return base64.b64decode(text, validate=True)
            except ValueError:
                pass
        if kind == "date" and isinstance(text, str):
            parsed = _parse_iso(text)
            if parsed is not None:
                return parsed
    raise ConfigurationError(f"attribute {name}: {value!r} is not a value. {TYPED_HELP}")


def _parse_iso(text: str) -> _dt.datetime | None:
    try:
        parsed = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return parse_date(text)
    return parsed.replace(tzinfo=parsed.tzinfo or _dt.UTC).astimezone(_dt.UTC)
