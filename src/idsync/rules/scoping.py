"""Scoping filters: is an object in a rule's scope?

Groups are ORed, clauses in a group ANDed, an empty filter takes every object. Comparisons are
string comparisons as the reference says; a multi-valued attribute matches when any value does
(and, for the negative operators, when no value does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from idsync.rules.model import ScopeOperator, ScopingClause, ScopingGroup

#: name -> list of values (empty when absent)
ValuesOf = Callable[[str], Sequence[Any]]
#: (group DN) -> is the object a member of that group?
MemberOf = Callable[[str], bool]


def in_scope(groups: Sequence[ScopingGroup], values_of: ValuesOf,
             member_of: MemberOf | None = None) -> bool:
    if not groups:
        return True
    return any(all(clause_matches(c, values_of, member_of) for c in g.clauses) for g in groups)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _as_int(value: Any) -> int | None:
    try:
        text = _text(value).strip()
        return int(text[2:], 16) if text.lower().startswith("&h") else int(text)
    except ValueError:
        return None


def clause_matches(clause: ScopingClause, values_of: ValuesOf,
                   member_of: MemberOf | None = None) -> bool:
    op = clause.operator
    wanted = clause.value or ""
    if op in (ScopeOperator.ISMEMBEROF, ScopeOperator.ISNOTMEMBEROF):
        is_member = bool(member_of and member_of(wanted))
        return is_member if op is ScopeOperator.ISMEMBEROF else not is_member
    values = [_text(v) for v in values_of(clause.attribute) if v is not None]
    if op is ScopeOperator.ISNULL:
        return not values
    if op is ScopeOperator.ISNOTNULL:
        return bool(values)
    positive = _POSITIVE.get(op)
    if positive is not None:
        test, negate = positive
        hit = any(test(v, wanted) for v in values)
        return not hit if negate else hit
    raise ValueError(f"unknown scoping operator {op}")


def _bit_set(value: str, flag: str) -> bool:
    v, f = _as_int(value), _as_int(flag)
    return v is not None and f is not None and (v & f) == f


def _order(value: str, wanted: str) -> int:
    # The reference calls these string compares, yet its own out-of-box scope
    # "memberCount LESSTHAN 50000" only works numerically: two integers compare as numbers.
    a, b = _as_int(value), _as_int(wanted)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    return (value > wanted) - (value < wanted)


def _isin(value: str, wanted: str) -> bool:
    return value in [w.strip() for w in wanted.split(";")] if ";" in wanted else value == wanted


_POSITIVE: dict[ScopeOperator, tuple[Callable[[str, str], bool], bool]] = {
    ScopeOperator.EQUAL: (lambda v, w: v == w, False),
    ScopeOperator.NOTEQUAL: (lambda v, w: v == w, True),
    ScopeOperator.LESSTHAN: (lambda v, w: _order(v, w) < 0, False),
    ScopeOperator.LESSTHAN_OR_EQUAL: (lambda v, w: _order(v, w) <= 0, False),
    ScopeOperator.GREATERTHAN: (lambda v, w: _order(v, w) > 0, False),
    ScopeOperator.GREATERTHAN_OR_EQUAL: (lambda v, w: _order(v, w) >= 0, False),
    ScopeOperator.CONTAINS: (lambda v, w: w in v, False),
    ScopeOperator.NOTCONTAINS: (lambda v, w: w in v, True),
    ScopeOperator.STARTSWITH: (lambda v, w: v.startswith(w), False),
    ScopeOperator.NOTSTARTSWITH: (lambda v, w: v.startswith(w), True),
    ScopeOperator.ENDSWITH: (lambda v, w: v.endswith(w), False),
    ScopeOperator.NOTENDSWITH: (lambda v, w: v.endswith(w), True),
    ScopeOperator.ISIN: (_isin, False),
    ScopeOperator.ISNOTIN: (_isin, True),
    ScopeOperator.ISBITSET: (_bit_set, False),
    ScopeOperator.ISNOTBITSET: (_bit_set, True),
}
