"""Math functions: BitAnd, BitOr, RandomNum."""

from __future__ import annotations

import random
from typing import Any

from idsync.expressions.errors import ExpressionRuntimeError
from idsync.expressions.functions.registry import function, want_num


@function("BitAnd", 2, per_value=(0,))
def bit_and(value: Any, mask: Any) -> int | None:
    if value is None:
        return None
    return want_num("BitAnd", value) & want_num("BitAnd", mask)


@function("BitOr", 2, per_value=(0,))
def bit_or(value: Any, mask: Any) -> int | None:
    if value is None:
        return None
    return want_num("BitOr", value) | want_num("BitOr", mask)


@function("RandomNum", 2, per_value=(), pure=False)
def random_num(start: Any, end: Any) -> int:
    low, high = want_num("RandomNum", start, "start"), want_num("RandomNum", end, "end")
    if low > high:
        raise ExpressionRuntimeError(f"RandomNum: start {low} is greater than end {high}")
    return random.randint(low, high)
