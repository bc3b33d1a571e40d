"""Conversion functions: CBool, CDate, CGuid, CNum, CRef, CStr, Base64, UTF-8 hex, GUID, SID."""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import re
import uuid
from typing import Any

from idsync.expressions.errors import ExpressionRuntimeError
from idsync.expressions.functions.dates import parse_date
from idsync.expressions.functions.registry import (
    function,
    mismatch,
    want_bin,
    want_enum,
    want_str,
)
from idsync.expressions.values import EnumWord, Ref

_ENCODINGS = {"Unicode": "utf-16-le", "UTF8": "utf-8", "ASCII": "ascii"}
_NUMBER = re.compile(r"\s*[+-]?\d+\s*\Z")


@function("CBool", 1)
def cbool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and not isinstance(value, EnumWord):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        if _NUMBER.match(value):
            return int(value) != 0
    raise mismatch("CBool", "argument", "a boolean, a number or a numeric string", value)


@function("CDate", 1)
def cdate(value: Any) -> _dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value
    parsed = parse_date(want_str("CDate", value))
    if parsed is None:
        raise ExpressionRuntimeError(f"CDate: {value!r} is not a date")
    return parsed


def parse_guid(text: str) -> uuid.UUID | None:
    text = text.strip()
    if len(text) == 38 and text[0] == "{" and text[-1] == "}":
        text = text[1:-1]
    if len(text) != 36:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


@function("CGuid", 1)
def cguid(value: Any) -> bytes | None:
    if value is None:
        return None
    guid = parse_guid(want_str("CGuid", value))
    if guid is None:
        raise ExpressionRuntimeError(f"CGuid: {value!r} is not a GUID")
    # Directories store GUIDs in Microsoft's mixed-endian binary form (objectGUID).
    return guid.bytes_le


@function("CNum", 1)
def cnum(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = want_str("CNum", value)
    if not _NUMBER.match(text):
        raise ExpressionRuntimeError(f"CNum: {value!r} is not a number")
    return int(text)


@function("CRef", 1)
def cref(value: Any) -> Ref | None:
    if value is None:
        return None
    return Ref(want_str("CRef", value))


@function("CStr", 1)
def cstr(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and not isinstance(value, EnumWord):
        return str(value)  # a Ref becomes a plain string
    if isinstance(value, _dt.datetime):
        return value.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise mismatch("CStr", "argument", "a number, reference, boolean, string or date", value)


@function("ConvertFromBase64", 1, 2)
def convert_from_base64(value: Any, encoding: Any = EnumWord("Unicode")) -> str | None:
    if value is None:
        return None
    text = want_str("ConvertFromBase64", value)
    codec = _ENCODINGS[want_enum("ConvertFromBase64", encoding, tuple(_ENCODINGS), "encoding")]
    try:
        raw = base64.b64decode(text, validate=True)
        return raw.decode(codec)
    except (binascii.Error, ValueError) as exc:
        raise ExpressionRuntimeError(f"ConvertFromBase64: {exc}") from None


@function("ConvertToBase64", 1)
def convert_to_base64(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        # A binary value (objectGUID) is encoded as it is: sourceAnchor <- ConvertToBase64(
        # [objectGUID]) in the reference's out-of-box rules.
        return base64.b64encode(bytes(value)).decode()
    return base64.b64encode(want_str("ConvertToBase64", value).encode("utf-16-le")).decode()


@function("ConvertFromUTF8Hex", 1)
def convert_from_utf8_hex(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return bytes.fromhex(want_str("ConvertFromUTF8Hex", value)).decode("utf-8")
    except ValueError as exc:
        raise ExpressionRuntimeError(f"ConvertFromUTF8Hex: {exc}") from None


@function("ConvertToUTF8Hex", 1)
def convert_to_utf8_hex(value: Any) -> str | None:
    if value is None:
        return None
    return want_str("ConvertToUTF8Hex", value).encode("utf-8").hex().upper()


@function("StringFromGuid", 1)
def string_from_guid(value: Any) -> str | None:
    if value is None:
        return None
    raw = want_bin("StringFromGuid", value)
    if len(raw) != 16:
        raise ExpressionRuntimeError(f"StringFromGuid: a GUID is 16 bytes, got {len(raw)}")
    return str(uuid.UUID(bytes_le=raw))


@function("StringFromSid", 1)
def string_from_sid(value: Any) -> str | None:
    if value is None:
        return None
    raw = want_bin("StringFromSid", value)
    # Revision (1), sub-authority count (1), identifier authority (6, big-endian), then
    # count x 4-byte little-endian sub-authorities.
    if len(raw) < 8 or len(raw) != 8 + 4 * raw[1]:
        raise ExpressionRuntimeError("StringFromSid: not a binary security identifier")
    authority = int.from_bytes(raw[2:8], "big")
    subs = [int.from_bytes(raw[8 + 4 * i : 12 + 4 * i], "little") for i in range(raw[1])]
    return "S-" + "-".join(str(part) for part in [raw[0], authority, *subs])
