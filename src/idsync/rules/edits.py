"""Rule edits as data: the changes one ``idsync rules edit`` makes, scoping clauses parsed
from the command line, an edit applied to a rule (unsaved), and the precedences custom rules
take. Saving is the administrator operation's (``idsync.administration.rule_editing``).
"""

from __future__ import annotations

import copy as _copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from idsync.errors import ConfigurationError
from idsync.rules.model import (
    OPERATOR_ALIASES,
    VALUELESS_OPERATORS,
    FlowType,
    JoinGroup,
    ScopeOperator,
    ScopingClause,
    ScopingGroup,
    SyncRule,
    Transformation,
)

#: Custom rules take precedences 1-99; the out-of-box ones start at 100.
CUSTOM_PRECEDENCE = range(1, 100)


def copy_name(name: str) -> str:
    return f"{name} (copy)"

def precedence_ranges(values: Sequence[int]) -> str:
    """Sorted precedences as an administrator reads them: ``1-4, 7, 9-99``."""
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
    #: replaces every transformation, in this order, when set (the rules editor's form)
    transformations: list[Transformation] | None = None
    #: replaces the join rules (OR-groups of AND-ed conditions) when set
    join: list[JoinGroup] | None = None
    disabled: bool | None = None

    def is_empty(self) -> bool:
        return not (self.expressions or self.directs or self.constants
                    or self.remove_transformations or self.scope_values) and (
            self.precedence is None and self.scoping is None and self.description is None
            and self.name is None and self.transformations is None and self.join is None
            and self.disabled is None)


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
    return ScopingGroup([parse_clause(c) for c in re.split(r"\s+AND\s+", text.strip())
                         if c.strip()])


def apply_edit(rule: SyncRule, edit: RuleEdit) -> SyncRule:
    """A changed copy of ``rule`` (not saved; ``save_rules`` validates it)."""
    changed = _copy.deepcopy(rule)
    if edit.transformations is not None:
        changed.transformations = _copy.deepcopy(edit.transformations)
    if edit.join is not None:
        changed.join = _copy.deepcopy(edit.join)
    if edit.disabled is not None:
        changed.disabled = edit.disabled
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
