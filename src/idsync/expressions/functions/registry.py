"""The function registry: each function's implementation, arity and per-value positions.

Validation reads arities from here at compile time, so a rule calling an unknown function or
with the wrong number of arguments is refused when it is saved, never mid-sync.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from idsync.expressions.errors import ExpressionRuntimeError
from idsync.expressions.values import EnumWord, Ref, kind_of


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    impl: Callable[..., Any] | None  # None for special forms compiled by compile.py
    min_args: int
    max_args: int
    # Argument positions that take one value: a multi-valued argument there applies the
    # function per value, and a NULL result drops that value.
    per_value: tuple[int, ...]
    needs_context: bool  # impl(context, *args)
    pure: bool  # same inputs, same output: calls on literals fold at compile time
    family: str


REGISTRY: dict[str, FunctionSpec] = {}


def function(
    name: str,
    min_args: int,
    max_args: int | None = None,
    *,
    per_value: tuple[int, ...] = (0,),
    needs_context: bool = False,
    pure: bool = True,
    special: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated callable as the expression function ``name``."""

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise RuntimeError(f"expression function {name} registered twice")
        REGISTRY[name] = FunctionSpec(
            name=name,
            impl=None if special else impl,
            min_args=min_args,
            max_args=min_args if max_args is None else max_args,
            per_value=per_value,
            needs_context=needs_context,
            pure=pure,
            family=impl.__module__.rsplit(".", 1)[-1],
        )
        return impl

    return register


# Type checks. The language is strict: a mismatch is an error, never a silent coercion.


def mismatch(fn: str, what: str, wanted: str, value: Any) -> ExpressionRuntimeError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ExpressionRuntimeError(f"{fn}: {what} must be {wanted}, got {kind_of(value)} {shown}")


def want_str(fn: str, value: Any, what: str = "argument") -> str:
    if isinstance(value, str) and not isinstance(value, EnumWord):
        return value
    raise mismatch(fn, what, "a string", value)


def want_num(fn: str, value: Any, what: str = "argument") -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise mismatch(fn, what, "a number", value)


def want_bool(fn: str, value: Any, what: str = "argument") -> bool:
    if isinstance(value, bool):
        return value
    raise mismatch(fn, what, "a boolean", value)


def want_dt(fn: str, value: Any, what: str = "argument") -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    raise mismatch(fn, what, "a date", value)


def want_bin(fn: str, value: Any, what: str = "argument") -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise mismatch(fn, what, "binary", value)


def want_ref(fn: str, value: Any, what: str = "argument") -> Ref:
    if isinstance(value, Ref):
        return value
    if isinstance(value, str) and not isinstance(value, EnumWord):
        raise ExpressionRuntimeError(
            f"{fn}: {what} must be a reference, got the string {value!r}; wrap it in CRef(...)"
        )
    raise mismatch(fn, what, "a reference", value)


def want_enum(fn: str, value: Any, allowed: tuple[str, ...], what: str = "argument") -> str:
    if isinstance(value, EnumWord) and value in allowed:
        return str(value)
    raise ExpressionRuntimeError(f"{fn}: {what} must be one of {', '.join(allowed)}, got {value!r}")


def want_mv(fn: str, value: Any) -> list[Any]:
    """A multi-valued argument; a single value counts as one value, NULL as none."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]
