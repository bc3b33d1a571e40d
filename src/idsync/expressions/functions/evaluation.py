"""Evaluation functions (all return a boolean): IsBitSet, IsDate, IsEmpty, IsGuid, IsNull, ..."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from idsync.expressions.functions.conversion import parse_guid
from idsync.expressions.functions.dates import parse_date
from idsync.expressions.functions.registry import function, want_num
from idsync.expressions.values import EnumWord

_NUMERIC = re.compile(r"\s*[+-]?(\d+|&H[0-9A-Fa-f]+)\s*\Z")


def _is_plain_str(value: Any) -> bool:
    return isinstance(value, str) and not isinstance(value, EnumWord)


@function("IsBitSet", 2)
def is_bit_set(value: Any, flag: Any) -> bool | None:
    if value is None:
        return None
    # The flag is a mask: IsBitSet(&HF, 4) is True because 4's bit is set in &HF.
    mask = want_num("IsBitSet", flag, "flag")
    return want_num("IsBitSet", value, "value") & mask == mask


@function("IsDate", 1)
def is_date(value: Any) -> bool:
    if isinstance(value, _dt.datetime):
        return True
    return _is_plain_str(value) and parse_date(value) is not None


@function("IsGuid", 1)
def is_guid(value: Any) -> bool:
    return _is_plain_str(value) and parse_guid(value) is not None


@function("IsNumeric", 1)
def is_numeric(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    return _is_plain_str(value) and _NUMERIC.match(value) is not None


@function("IsString", 1)
def is_string(value: Any) -> bool:
    return _is_plain_str(value)


# Presence tests look at the attribute as a whole, so they never apply per value.


@function("IsNull", 1, per_value=())
def is_null(value: Any) -> bool:
    return value is None or value == []


@function("IsPresent", 1, per_value=())
def is_present(value: Any) -> bool:
    return not is_null(value)


@function("IsEmpty", 1, per_value=())
def is_empty(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(v == "" for v in value)
    return value == ""


@function("IsNullOrEmpty", 1, per_value=())
def is_null_or_empty(value: Any) -> bool:
    return is_null(value) or is_empty(value)
