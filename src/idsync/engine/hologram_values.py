"""Comparing and changing a connector space object's hologram values the way an import does:
values of a different type are different values (``values.same_values``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from idsync.model import CSObject
from idsync.values import same_values


def same(a: list[Any] | None, b: list[Any] | None) -> bool:
    """``same_values``, answered by a list comparison first when the values come in the same
    order with the same types (the usual case: an import returning what it returned before,
    or what was exported), without building two sets per attribute."""
    if a is not None and b is not None and a == b and list(map(type, a)) == list(map(type, b)):
        return True
    return same_values(a, b)


def same_attributes(a: dict[str, list[Any]], b: dict[str, list[Any]]) -> bool:
    if a.keys() != b.keys():
        return False
    return all(same(a[k], b[k]) for k in a)


def value_change(cs: CSObject, name: str, vals: Iterable[Any], *, add: bool) -> bool:
    """A value-level change of a non-reference attribute; says whether it changed anything."""
    vals = list(vals)
    if not vals:
        return False
    current_vals = list(cs.attributes.get(name, []))
    keys = {_key(v) for v in current_vals}
    if add:
        new = [v for v in vals if _key(v) not in keys]
        if not new:
            return False
        cs.attributes[name] = current_vals + new
        return True
    drop = {_key(v) for v in vals}
    kept = [v for v in current_vals if _key(v) not in drop]
    if len(kept) == len(current_vals):
        return False
    if kept:
        cs.attributes[name] = kept
    else:
        cs.attributes.pop(name, None)
    return True


def _key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)
