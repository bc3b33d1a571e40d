"""A dry run of one sync rule on one object (``idsync rules test``): its scoping clauses, its
join groups tried against the join index (what the last synchronization indexed), and each
transformation's value, without writing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from idsync.errors import ConfigurationError
from idsync.expressions import (
    AUTHORITATIVE_NULL,
    IGNORE_THIS_FLOW,
    DictContext,
    ErrorFunctionTriggered,
    ExpressionError,
    compile_expression,
)
from idsync.rules.model import (
    Direction,
    FlowType,
    LinkType,
    ScopeOperator,
    ScopingClause,
    SyncRule,
    Transformation,
)
from idsync.rules.scoping import clause_matches
from idsync.store import Store
from idsync.store.metaverse import MV_SPACE, JoinIndex


@dataclass
class ClauseResult:
    clause: ScopingClause
    matched: bool | None  # None: not evaluated (ISMEMBEROF needs the connector space)


@dataclass
class FlowResult:
    target: str
    flow_type: FlowType
    source: str
    #: "value", "null", "ignore_this_flow", "authoritative_null", "error", "failed"
    outcome: str
    value: Any = None
    message: str | None = None

    def described(self, render: Callable[[Any], str] = str, shown: int = 10) -> str:
        """The result as an administrator reads it (``idsync rules test`` and the Rules
        Editor's test): a multi-valued result counted with its first ``shown`` values."""
        if self.outcome == "value":
            if isinstance(self.value, list):
                more = ", ..." if len(self.value) > shown else ""
                return (f"{len(self.value)} values: "
                        + ", ".join(render(v) for v in self.value[:shown]) + more)
            return render(self.value)
        if self.outcome == "error":
            return f"Error(): {self.message} (sync-rule-error-function-triggered)"
        if self.outcome == "failed":
            return f"expression failed: {self.message}"
        return OUTCOME_TEXT[self.outcome]


#: What a flow that contributes no value says.
OUTCOME_TEXT = {"null": "NULL (contributes nothing)", "ignore_this_flow": "IgnoreThisFlow",
                "authoritative_null": "AuthoritativeNull"}


@dataclass
class JoinResult:
    group: int
    values: dict[str, list[Any]]
    candidates: list[int] | None  # None: the object lacks a value for the group
    note: str = ""


@dataclass
class DryRunReport:
    rule: SyncRule
    in_scope: bool
    scope: list[list[ClauseResult]]
    joins: list[JoinResult]
    join_outcome: str
    flows: list[FlowResult]


def _values(attributes: Mapping[str, Any], name: str) -> list[Any]:
    value = attributes.get(name)
    if value is None:
        return []
    return [v for v in value] if isinstance(value, list | tuple) else [value]


class CountedContext(DictContext):
    """A dict context whose ``ValueCount`` answers from exact counts: a stored group's member
    list is loaded only in part (``REF_VALUES_LOADED``), its count is the real one."""

    __slots__ = ("_counts",)

    def __init__(self, attributes: Mapping[str, Any], parameters: Mapping[str, Any],
                 counts: Mapping[str, int]) -> None:
        super().__init__(attributes, parameters)
        self._counts = counts

    def value_count(self, name: str) -> int:
        if name in self._counts:
            return self._counts[name]
        return super().value_count(name)


#: Reference values (members) read per attribute for a dry run of a stored object; counts
#: are exact. A 250,000-member group is not read whole to test one rule.
REF_VALUES_LOADED = 1000


@dataclass
class StoredObject:
    """A connector space or metaverse object as a dry run reads it."""

    label: str
    dn: str | None
    attributes: dict[str, Any]
    #: reference attribute -> its real number of values (only the first values are loaded)
    counts: dict[str, int]


def stored_object(store: Store, rule: SyncRule, *, dn: str | None = None,
                  mv_id: int | None = None) -> StoredObject:
    """The object ``rule`` reads: a connector space object of its connector by DN (inbound
    rules), or a metaverse object by id (outbound rules); references bounded."""
    if dn is not None:
        connector = store.connectors.get(rule.connector)
        cs = store.cs.find_dn(connector.id, dn)
        if cs is None:
            raise ConfigurationError(f"no object at {dn!r} in the connector space of "
                                     f"{rule.connector}")
        attrs: dict[str, Any] = {k: list(v) for k, v in cs.attributes.items()}
        counts = store.cs.ref_counts(cs.id)
        for attr in counts:
            targets = store.cs.ref_targets_first(cs.id, attr, REF_VALUES_LOADED)
            names = store.cs.dns_and_anchors(targets)
            attrs[attr] = [names[t][0] for t in targets if t in names]
        return StoredObject(f"{rule.connector} connector space object {cs.dn}", cs.dn,
                            attrs, counts)
    if mv_id is not None:
        mv = store.mv.get(mv_id)
        if mv is None:
            raise ConfigurationError(f"no metaverse object with id {mv_id}")
        attrs = {k: list(v) for k, v in mv.attributes.items()}
        counts = store.mv.ref_counts(mv.id)
        for attr in counts:
            attrs[attr] = store.mv.ref_targets_first(mv.id, attr, REF_VALUES_LOADED)
        return StoredObject(f"metaverse {mv.object_type} {mv.id}", None, attrs, counts)
    raise ConfigurationError("name an object: a connector space DN or a metaverse id")


def dry_run(rule: SyncRule, attributes: Mapping[str, Any], *,
              store: Store | None = None, dn: str | None = None,
              parameters: Mapping[str, Any] | None = None,
              counts: Mapping[str, int] | None = None) -> DryRunReport:
    """What ``rule`` would do to one object given as attribute -> value(s): an inbound rule
    reads a connector space object, an outbound rule a metaverse object. With ``store`` the
    join is tried against the join index (what the last synchronization indexed)."""
    attrs = dict(attributes)
    if dn is not None:
        attrs.setdefault("dn", dn)
    scope = [[ClauseResult(c, None if c.operator in (ScopeOperator.ISMEMBEROF,
                                                     ScopeOperator.ISNOTMEMBEROF)
                           else clause_matches(c, lambda n: _values(attrs, n)))
              for c in g.clauses] for g in rule.scoping]
    in_scope = not scope or any(all(r.matched is not False for r in g) for g in scope)
    joins, join_outcome = _try_join(rule, attrs, store)
    context = CountedContext(attrs, parameters or {}, counts or {})
    flows = [_flow(t, attrs, context) for t in rule.transformations]
    return DryRunReport(rule, in_scope, scope, joins, join_outcome, flows)


def _flow(t: Transformation, attrs: Mapping[str, Any], context: DictContext) -> FlowResult:
    if t.flow_type is FlowType.CONSTANT:
        return FlowResult(t.target, t.flow_type, t.source, "value", t.source)
    if t.flow_type is FlowType.DIRECT:
        values = _values(attrs, t.source)
        if not values:
            return FlowResult(t.target, t.flow_type, t.source, "null")
        return FlowResult(t.target, t.flow_type, t.source, "value",
                          values if len(values) > 1 else values[0])
    try:
        result = compile_expression(t.source)(context)
    except ErrorFunctionTriggered as exc:
        return FlowResult(t.target, t.flow_type, t.source, "error", message=exc.message)
    except ExpressionError as exc:
        return FlowResult(t.target, t.flow_type, t.source, "failed", message=str(exc))
    if result is IGNORE_THIS_FLOW:
        return FlowResult(t.target, t.flow_type, t.source, "ignore_this_flow")
    if result is AUTHORITATIVE_NULL:
        return FlowResult(t.target, t.flow_type, t.source, "authoritative_null")
    if result is None or result == "" or result == []:
        return FlowResult(t.target, t.flow_type, t.source, "null")
    return FlowResult(t.target, t.flow_type, t.source, "value", result)


def _try_join(rule: SyncRule, attrs: Mapping[str, Any], store: Store | None
              ) -> tuple[list[JoinResult], str]:
    if not rule.join:
        return [], "no join rules"
    inbound = rule.direction is Direction.INBOUND
    space: int = MV_SPACE
    if store is not None and not inbound:
        space = store.connectors.get(rule.connector).id
    results: list[JoinResult] = []
    for number, group in enumerate(rule.join, 1):
        values = {(c.cs_attribute if inbound else c.mv_attribute):
                  _values(attrs, c.cs_attribute if inbound else c.mv_attribute)
                  for c in group.conditions}
        if not all(values.values()):
            results.append(JoinResult(number, values, None, "a join attribute has no value"))
            continue
        if store is None:
            results.append(JoinResult(number, values, None, "no store to look in"))
            continue
        candidates: set[int] | None = None
        for c in group.conditions:
            mine = c.cs_attribute if inbound else c.mv_attribute
            theirs = c.mv_attribute if inbound else c.cs_attribute
            found: set[int] = set()
            for v in values[mine]:
                found |= store.join_index.lookup(
                    space, JoinIndex.attr_key(theirs, c.case_sensitive),
                    JoinIndex.key(v, c.case_sensitive))
            candidates = found if candidates is None else candidates & found
        ids = sorted(candidates or ())
        results.append(JoinResult(number, values, ids))
        if len(ids) == 1:
            side = "metaverse object" if inbound else "connector space object"
            return results, f"joins {side} {ids[0]} (join group {number})"
    side = "metaverse" if inbound else f"connector space of {rule.connector}"
    return results, f"no single match in the {side}" + (
        "; Provision would create a new object" if rule.link_type is LinkType.PROVISION else "")
