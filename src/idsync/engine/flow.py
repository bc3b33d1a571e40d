"""Attribute flow: what each rule contributes to an attribute, and which contribution wins.

Inbound, several connector space objects may contribute to one metaverse attribute; outbound,
several rules of one connector may contribute to one connector space attribute. Either way the
contributions meet here and precedence (lower number wins) decides, with the special values of
the reference:

* ``NULL`` contributes nothing, so a lower-precedence rule may; if none does, the value goes.
* ``AuthoritativeNull`` is a NULL that also silences every lower-precedence rule.
* ``IgnoreThisFlow`` is as if the flow were not there: the target keeps its value.
* Merge / MergeCaseInsensitive take the de-duplicated union of every contribution.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from idsync.expressions import AUTHORITATIVE_NULL, IGNORE_THIS_FLOW, EvaluationContext
from idsync.rules.model import MergeType


@dataclass(frozen=True, slots=True)
class RefSet:
    """Reference values already translated to ids in the target space."""

    ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class RefDelta:
    """A Direct flow of a large reference attribute whose values stay in the store: the
    difference from the target is computed there (a set difference in SQL), so a
    250,000-member group is never read into memory to change one member. ``source_id`` is the
    connector space object (inbound) or metaverse object (outbound) the values belong to."""

    source_id: int
    attribute: str


class NeedFullRefs(Exception):
    """A large reference attribute was deferred (``RefDelta``) but the flow needs its values
    after all (an expression reads them, or several contributions compete): the caller loads
    them and evaluates the object again."""


@dataclass(frozen=True, slots=True)
class DeferredRefs:
    """Stands in an object's ``refs`` for a large reference attribute left in the store."""

    count: int


@dataclass(slots=True)
class Contribution:
    precedence: int
    rule_id: int
    connector_id: int | None
    merge_type: MergeType
    #: None (NULL), AUTHORITATIVE_NULL, IGNORE_THIS_FLOW, a list of values, or a RefSet.
    value: Any


class Action(StrEnum):
    """What a resolution does to its target attribute."""

    #: leave the target as it is
    KEEP = "keep"
    #: ``value`` (list or RefSet) replaces it
    SET = "set"
    #: the attribute goes
    REMOVE = "remove"


@dataclass(slots=True)
class Resolution:
    """What precedence decided for one target attribute from its contributions
    (``resolve``); ``lineage`` names the winning contribution."""

    action: Action
    value: Any = None
    lineage: dict[str, Any] | None = None


KEEP = Resolution(Action.KEEP)


def _empty(value: Any) -> bool:
    if isinstance(value, RefDelta):
        raise NeedFullRefs(value.attribute)
    if value is None:
        return True
    if isinstance(value, RefSet):
        return not value.ids
    return isinstance(value, list) and not value


def _lineage(c: Contribution) -> dict[str, Any]:
    return {"connector": c.connector_id, "rule": c.rule_id, "precedence": c.precedence}


def resolve(contributions: Sequence[Contribution]) -> Resolution:
    """Decide one attribute from its contributions (already free of apply-once values that
    must not flow)."""
    if len(contributions) == 1:
        # One contributor, the usual case: no ordering to do.
        only = contributions[0]
        if only.value is IGNORE_THIS_FLOW:
            return KEEP
        if only.merge_type is MergeType.UPDATE or only.value is AUTHORITATIVE_NULL:
            if isinstance(only.value, RefDelta):
                return Resolution(Action.SET, only.value, _lineage(only))
            if only.value is AUTHORITATIVE_NULL or _empty(only.value):
                return Resolution(Action.REMOVE, lineage=_lineage(only))
            return Resolution(Action.SET, only.value, _lineage(only))
    active = sorted((c for c in contributions if c.value is not IGNORE_THIS_FLOW),
                    key=lambda c: (c.precedence, c.rule_id))
    if not active:
        return KEEP
    if len(active) == 1 and isinstance(active[0].value, RefDelta):
        # One active contributor of a deferred reference attribute: it wins whole, whatever
        # its merge type (a merge of one set is that set).
        return Resolution(Action.SET, active[0].value, _lineage(active[0]))
    if active[0].merge_type is MergeType.UPDATE:
        for c in active:
            if c.value is AUTHORITATIVE_NULL:
                return Resolution(Action.REMOVE, lineage=_lineage(c))
            if not _empty(c.value):
                return Resolution(Action.SET, c.value, _lineage(c))
        return Resolution(Action.REMOVE, lineage=_lineage(active[0]))
    return _merge(active, case_insensitive=active[0].merge_type is
                  MergeType.MERGE_CASE_INSENSITIVE)


def _merge(active: Sequence[Contribution], *, case_insensitive: bool) -> Resolution:
    refs: set[int] = set()
    merged: list[Any] = []
    seen: set[Any] = set()
    is_ref = False
    for c in active:
        if c.value is AUTHORITATIVE_NULL:
            break
        if isinstance(c.value, RefDelta):
            raise NeedFullRefs(c.value.attribute)
        if isinstance(c.value, RefSet):
            is_ref = True
            refs |= c.value.ids
            continue
        for v in c.value or ():
            key = v.lower() if case_insensitive and isinstance(v, str) else v
            if key not in seen:
                seen.add(key)
                merged.append(v)
    lineage = _lineage(active[0])
    if is_ref:
        return Resolution(Action.SET, RefSet(frozenset(refs)), lineage) if refs else Resolution(
            Action.REMOVE, lineage=lineage)
    if merged:
        return Resolution(Action.SET, merged, lineage)
    return Resolution(Action.REMOVE, lineage=lineage)


def as_values(result: Any) -> Any:
    """Normalise an expression result to a contribution: a list of values or a sentinel."""
    if result is None or result is IGNORE_THIS_FLOW or result is AUTHORITATIVE_NULL:
        return result
    if isinstance(result, RefSet | RefDelta):
        return result
    if isinstance(result, list | tuple):
        kept = [v for v in result if v is not None]
        return kept or None
    if isinstance(result, str) and result == "":
        # An empty string is not a value a directory can hold: it removes the attribute.
        return None
    return [result]


Evaluator = Callable[[EvaluationContext], Any]


def group_by_target(contributions: Iterable[tuple[str, Contribution]]
                    ) -> dict[str, list[Contribution]]:
    out: dict[str, list[Contribution]] = {}
    for target, c in contributions:
        out.setdefault(target, []).append(c)
    return out
