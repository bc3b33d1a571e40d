"""Multi-valued functions: Contains, Count, Item, ItemOrNull, Join, RemoveDuplicates, Split,
ValueCount. These take the whole attribute, so none of them applies per value (except Split,
which takes one string)."""

from __future__ import annotations

from typing import Any

from idsync.expressions.errors import ExpressionRuntimeError
from idsync.expressions.functions.registry import (
    function,
    mismatch,
    want_enum,
    want_mv,
    want_num,
    want_str,
)
from idsync.expressions.values import EnumWord, Ref


@function("Contains", 2, 3, per_value=())
def contains(values: Any, match: Any, compare: Any = EnumWord("CaseSensitive")) -> int:
    """1-based index of the first value containing ``match``; 0 when none does."""
    items = want_mv("Contains", values)
    needle = want_str("Contains", match, "match")
    insensitive = (
        want_enum("Contains", compare, ("CaseSensitive", "CaseInsensitive"), "comparison")
        == "CaseInsensitive"
    )
    if insensitive:
        needle = needle.casefold()
    for index, value in enumerate(items, start=1):
        if isinstance(value, Ref):
            # A reference matches whole, never by substring.
            candidate = value.casefold() if insensitive else str(value)
            if candidate == needle:
                return index
            continue
        text = want_str("Contains", value, "each value")
        if needle in (text.casefold() if insensitive else text):
            return index
    return 0


@function("Count", 1, per_value=())
def count(values: Any) -> int:
    return len(want_mv("Count", values))


def _item(fn: str, values: Any, index: Any) -> tuple[list[Any], int]:
    return want_mv(fn, values), want_num(fn, index, "index")


@function("Item", 2, per_value=())
def item(values: Any, index: Any) -> Any:
    items, n = _item("Item", values, index)
    if not 1 <= n <= len(items):
        raise ExpressionRuntimeError(f"Item: index {n} is out of range (1..{len(items)})")
    return items[n - 1]


@function("ItemOrNull", 2, per_value=())
def item_or_null(values: Any, index: Any) -> Any:
    items, n = _item("ItemOrNull", values, index)
    return items[n - 1] if 1 <= n <= len(items) else None


@function("Join", 1, 2, per_value=())
def join(values: Any, delimiter: Any = " ") -> str | None:
    if values is None:
        return None
    sep = want_str("Join", delimiter, "delimiter")
    return sep.join(want_str("Join", v, "each value") for v in want_mv("Join", values))


@function("RemoveDuplicates", 1, per_value=())
def remove_duplicates(values: Any) -> Any:
    if values is None:
        return None
    if not isinstance(values, list):
        return values
    seen: set[Any] = set()
    out = []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


@function("Split", 2, 3, per_value=(0,))
def split(value: Any, delimiter: Any, limit: Any = None) -> list[str] | None:
    if value is None:
        return None
    text = want_str("Split", value)
    sep = want_str("Split", delimiter, "delimiter")
    if len(sep) != 1:
        raise ExpressionRuntimeError(f"Split: the delimiter must be one character, got {sep!r}")
    if limit is None:
        return text.split(sep)
    n = want_num("Split", limit, "limit")
    if n < 1:
        raise mismatch("Split", "limit", "a number of values of at least 1", limit)
    return text.split(sep, n - 1)


@function("ValueCount", 1, per_value=(), needs_context=True)
def value_count(context: Any, name: Any) -> int:
    # Asked of the context so a 250,000-member group is counted without loading its members.
    return context.value_count(want_str("ValueCount", name, "attribute name"))


@function("ImportedValue", 1, per_value=(), needs_context=True)
def imported_value(context: Any, name: Any) -> Any:
    return context.imported_value(want_str("ImportedValue", name, "attribute name"))
