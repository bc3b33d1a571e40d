"""A dry run of one sync rule on one object (``idsync rules test``): its scoping clauses, its
join groups tried against the join index (what the last synchronization indexed), and each
transformation's value, without writing anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


def dry_run(rule: SyncRule, attributes: Mapping[str, Any], *,
              store: Store | None = None, dn: str | None = None,
              parameters: Mapping[str, Any] | None = None) -> DryRunReport:
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
    context = DictContext(attrs, parameters or {})
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
