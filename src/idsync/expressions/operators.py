"""Binary operators. All share one priority and run left to right (the parser sees to that).

Types are strict: comparing a string with a number is an error. NULL propagates through
arithmetic, is ignored by ``&`` (as in VBA: ``"a" & NULL`` is ``"a"``), equals only NULL, and is
never less or greater than anything. A multi-valued operand applies the operator per value.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from idsync.expressions.errors import ExpressionRuntimeError
from idsync.expressions.values import EnumWord, kind_of


def _fail(op: str, left: Any, right: Any) -> ExpressionRuntimeError:
    return ExpressionRuntimeError(
        f"type mismatch: {kind_of(left)} {_short(left)} {op} {kind_of(right)} {_short(right)}"
    )


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _is_num(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and not isinstance(value, EnumWord)


def _per_value(op: str, scalar: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Lift ``scalar`` so that one multi-valued side applies it per value."""

    def apply(left: Any, right: Any) -> Any:
        left_mv, right_mv = left.__class__ is list, right.__class__ is list
        if not (left_mv or right_mv):
            return scalar(left, right)
        if left_mv and right_mv:
            raise ExpressionRuntimeError(
                f"operator {op}: both sides are multi-valued; apply it per value with Select"
            )
        if left_mv:
            out = [scalar(v, right) for v in left]
        else:
            out = [scalar(left, v) for v in right]
        out = [v for v in out if v is not None]
        return out or None

    return apply


def _concat(left: Any, right: Any) -> Any:
    if left is None and right is None:
        return None
    return _as_text("&", left, right, left) + _as_text("&", left, right, right)


def _as_text(op: str, left: Any, right: Any, value: Any) -> str:
    if value is None:
        return ""
    if _is_str(value):
        return str(value)
    if isinstance(value, bool):
        return "True" if value else "False"
    if _is_num(value):
        return str(value)
    raise _fail(op, left, right)


def _add(left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if _is_num(left) and _is_num(right):
        return left + right
    if _is_str(left) and _is_str(right):
        return str(left) + str(right)
    raise _fail("+", left, right)


def _numeric(op: str, fn: Callable[[int, int], int]) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        if left is None or right is None:
            return None
        if _is_num(left) and _is_num(right):
            return fn(left, right)
        raise _fail(op, left, right)

    return apply


def _comparable(op: str, left: Any, right: Any) -> None:
    if _is_num(left) and _is_num(right):
        return
    if _is_str(left) and _is_str(right):
        return
    if isinstance(left, _dt.datetime) and isinstance(right, _dt.datetime):
        return
    if op in ("=", "<>") and (
        (isinstance(left, bool) and isinstance(right, bool))
        or (isinstance(left, bytes) and isinstance(right, bytes))
    ):
        return
    raise _fail(op, left, right)


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    _comparable("=", left, right)
    return left == right


def _not_equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return not (left is None and right is None)
    _comparable("<>", left, right)
    return left != right


def _ordering(op: str, fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def apply(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        _comparable(op, left, right)
        return fn(left, right)

    return apply


def _logical(op: str, is_and: bool) -> Callable[[Any, Any], bool]:
    def apply(left: Any, right: Any) -> bool:
        a = _bool(op, left, right, left)
        b = _bool(op, left, right, right)
        return (a and b) if is_and else (a or b)

    return apply


def _bool(op: str, left: Any, right: Any, value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise _fail(op, left, right)


OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "&": _per_value("&", _concat),
    "+": _per_value("+", _add),
    "-": _per_value("-", _numeric("-", lambda a, b: a - b)),
    "*": _per_value("*", _numeric("*", lambda a, b: a * b)),
    "=": _per_value("=", _equal),
    "<>": _per_value("<>", _not_equal),
    "<": _per_value("<", _ordering("<", lambda a, b: a < b)),
    "<=": _per_value("<=", _ordering("<=", lambda a, b: a <= b)),
    ">": _per_value(">", _ordering(">", lambda a, b: a > b)),
    ">=": _per_value(">=", _ordering(">=", lambda a, b: a >= b)),
    "&&": _logical("&&", True),
    "||": _logical("||", False),
}


def negate(value: Any) -> Any:
    if value is None:
        return None
    if value.__class__ is list:
        return [negate(v) for v in value]
    if _is_num(value):
        return -value
    raise ExpressionRuntimeError(f"type mismatch: cannot negate {kind_of(value)} {value!r}")
