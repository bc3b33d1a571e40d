"""Rule editing as administrators do it: an editable copy of a reserved rule, targeted edits
validated before they are saved, and a dry run of one rule on one object.

Every change goes through ``idsync.rules.admin.save_rules`` (validation, reserved-rule guard,
full synchronization required on the rule's connector).
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
from idsync.rules.admin import save_rules
from idsync.rules.model import (
    OPERATOR_ALIASES,
    VALUELESS_OPERATORS,
    Direction,
    FlowType,
    ScopeOperator,
    ScopingClause,
    ScopingGroup,
    SyncRule,
    Transformation,
)
from idsync.rules.scoping import clause_matches
from idsync.store import Store

#: Custom rules take precedences 1-99; the out-of-box ones start at 100.
CUSTOM_PRECEDENCE = range(1, 100)


# --- copy ------------------------------------------------------------------------------------

def precedence_owner(store: Store, precedence: int, *, ignore: str | None = None) -> str | None:
    """The rule already holding ``precedence``, if any (precedences are unique, as in Azure AD
    Connect: the number alone orders the rules)."""
    for rule in store.rules.list():
        if rule.precedence == precedence and rule.name != ignore:
            return rule.name
    return None


def free_custom_precedences(store: Store) -> list[int]:
    taken = {r.precedence for r in store.rules.list()}
    return [p for p in CUSTOM_PRECEDENCE if p not in taken]


def copy_name(name: str) -> str:
    return f"{name} (copy)"


def copy_rule(store: Store, name: str, precedence: int, new_name: str | None = None
              ) -> SyncRule:
    """Disable ``name`` and save an editable (not reserved) copy of it at ``precedence``
    (1-99), in one transaction. Returns the copy."""
    original = store.rules.get(name)
    if precedence not in CUSTOM_PRECEDENCE:
        raise ConfigurationError(
            f"precedence {precedence}: an editable copy takes a precedence between 1 and 99")
    owner = precedence_owner(store, precedence)
    if owner is not None:
        raise ConfigurationError(f"precedence {precedence} is taken by rule {owner!r}; free "
                                 f"ones: {_ranges(free_custom_precedences(store))}")
    target = new_name or copy_name(name)
    if store.rules.find(target) is not None:
        raise ConfigurationError(f"a rule named {target!r} exists already; pass --name")
    duplicate = _copy.deepcopy(original)
    duplicate.id = None
    duplicate.name = target
    duplicate.precedence = precedence
    duplicate.reserved = False
    duplicate.disabled = False
    duplicate.tag = None
    duplicate.description = (f"Editable copy of {name!r}. " + original.description).strip()
    original.disabled = True
    with store.transaction():
        saved = save_rules(store, [original, duplicate])
        _hand_over_links(store, original, saved[1])
    return saved[1]


def _hand_over_links(store: Store, original: SyncRule, copy: SyncRule) -> None:
    """Objects joined or projected by ``original`` count as linked by ``copy``: an inbound
    link whose rule is gone is a disconnect, and disconnecting every user because their join
    rule was copied would delete and recreate the whole metaverse (and the cloud objects)."""
    store.db.execute("UPDATE cs_objects SET link_rule_id = ? WHERE link_rule_id = ?",
                     (copy.id, original.id))


def _ranges(values: Sequence[int]) -> str:
    if not values:
        return "none"
    parts, start, prev = [], values[0], values[0]
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ", ".join(parts)


# --- edit ------------------------------------------------------------------------------------

@dataclass
class RuleEdit:
    """The changes one ``idsync rules edit`` makes; empty fields change nothing."""

    #: target -> expression source (an Expression flow; added when the target has none)
    expressions: dict[str, str] = field(default_factory=dict)
    #: target -> source attribute (a Direct flow)
    directs: dict[str, str] = field(default_factory=dict)
    #: target -> constant value
    constants: dict[str, str] = field(default_factory=dict)
    remove_transformations: list[str] = field(default_factory=list)
    precedence: int | None = None
    #: replaces the whole scoping filter (a list of OR-groups of AND-ed clauses) when set
    scoping: list[ScopingGroup] | None = None
    #: attribute -> new value of every scoping clause on that attribute
    scope_values: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    name: str | None = None

    def is_empty(self) -> bool:
        return not (self.expressions or self.directs or self.constants
                    or self.remove_transformations or self.scope_values) and (
            self.precedence is None and self.scoping is None and self.description is None
            and self.name is None)


def parse_clause(text: str) -> ScopingClause:
    """``attribute OPERATOR [value]``, e.g. ``memberCount LESSTHAN 100000``."""
    parts = text.strip().split(None, 2)
    if len(parts) < 2:
        raise ConfigurationError(f"scoping clause {text!r}: expected 'attribute OPERATOR value'")
    attribute, op_name = parts[0], parts[1].upper()
    try:
        op = OPERATOR_ALIASES.get(op_name) or ScopeOperator(op_name)
    except ValueError:
        raise ConfigurationError(
            f"scoping clause {text!r}: unknown operator {parts[1]!r} (one of "
            f"{', '.join(o.value for o in ScopeOperator)})") from None
    value = parts[2] if len(parts) == 3 else None
    if op in VALUELESS_OPERATORS:
        if value is not None:
            raise ConfigurationError(f"scoping clause {text!r}: {op.value} takes no value")
    elif value is None:
        raise ConfigurationError(f"scoping clause {text!r}: {op.value} needs a value")
    return ScopingClause(attribute, op, value)


def parse_scope_group(text: str) -> ScopingGroup:
    """Clauses joined by `` AND ``: one OR-group of a scoping filter."""
    import re

    return ScopingGroup([parse_clause(c) for c in re.split(r"\s+AND\s+", text.strip())
                         if c.strip()])


def apply_edit(rule: SyncRule, edit: RuleEdit) -> SyncRule:
    """A changed copy of ``rule`` (not saved; ``save_rules`` validates it)."""
    changed = _copy.deepcopy(rule)
    for target in edit.remove_transformations:
        before = len(changed.transformations)
        changed.transformations = [t for t in changed.transformations if t.target != target]
        if len(changed.transformations) == before:
            raise ConfigurationError(f"rule {rule.name!r} has no transformation of {target!r}")
    for flow_type, items in ((FlowType.EXPRESSION, edit.expressions),
                             (FlowType.DIRECT, edit.directs),
                             (FlowType.CONSTANT, edit.constants)):
        for target, source in items.items():
            _set_transformation(changed, target, flow_type, source)
    if edit.precedence is not None:
        changed.precedence = edit.precedence
    if edit.scoping is not None:
        changed.scoping = edit.scoping
    for attribute, value in edit.scope_values.items():
        clauses = [c for g in changed.scoping for c in g.clauses if c.attribute == attribute]
        if not clauses:
            raise ConfigurationError(
                f"rule {rule.name!r} has no scoping clause on {attribute!r}")
        for clause in clauses:
            if clause.operator in VALUELESS_OPERATORS:
                raise ConfigurationError(
                    f"scoping clause on {attribute!r} is {clause.operator.value}: no value")
            clause.value = value
    if edit.description is not None:
        changed.description = edit.description
    if edit.name is not None:
        changed.name = edit.name
    return changed


def _set_transformation(rule: SyncRule, target: str, flow_type: FlowType, source: str) -> None:
    for t in rule.transformations:
        if t.target == target:
            t.flow_type = flow_type
            t.source = source
            return
    rule.transformations.append(Transformation(target, flow_type, source))


def edit_rule(store: Store, name: str, edit: RuleEdit) -> SyncRule:
    """Apply ``edit`` to rule ``name`` and save it: refused for reserved rules (make a copy),
    validated before anything is written, and the connector needs a full synchronization."""
    rule = store.rules.get(name)
    if rule.reserved:
        raise ConfigurationError(
            f"sync rule {name!r} is reserved (out-of-box): it can be disabled but not edited. "
            f"Make an editable copy with `idsync rules copy {name!r}`.")
    if edit.is_empty():
        raise ConfigurationError("nothing to change: give at least one change option")
    changed = apply_edit(rule, edit)
    if edit.precedence is not None:
        owner = precedence_owner(store, edit.precedence, ignore=name)
        if owner is not None:
            raise ConfigurationError(f"precedence {edit.precedence} is taken by rule {owner!r}")
    if changed.name != name:
        if store.rules.find(changed.name) is not None:
            raise ConfigurationError(f"a rule named {changed.name!r} exists already")
        changed.id = None
        with store.transaction():
            saved = save_rules(store, [changed])[0]
            _hand_over_links(store, rule, saved)
            store.rules.delete(name)
        return saved
    return save_rules(store, [changed])[0]


# --- test (dry run) --------------------------------------------------------------------------

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
    from idsync.store.metaverse import MV_SPACE, JoinIndex

    inbound = rule.direction is Direction.INBOUND
    space: int | None = MV_SPACE
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
        "; Provision would create a new object" if rule.link_type.value == "Provision" else "")
