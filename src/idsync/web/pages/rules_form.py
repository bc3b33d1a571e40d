"""The rules editor's form, read into a ``RuleEdit``: each section (scoping clauses, join
conditions, transformations) arrives as parallel lists of fields, one entry per table row;
blank rows (the empty row offered for adding) and rows marked for removal are dropped. Only
what differs from the stored rule goes into the edit, so an unchanged form saves nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from idsync.errors import ConfigurationError
from idsync.rules.edits import RuleEdit
from idsync.rules.model import (
    OPERATOR_ALIASES,
    VALUELESS_OPERATORS,
    FlowType,
    JoinCondition,
    JoinGroup,
    MergeType,
    ScopeOperator,
    ScopingClause,
    ScopingGroup,
    SyncRule,
    Transformation,
)
from idsync.store import Store

Lists = Mapping[str, Sequence[Any]]


def rule_by_id(store: Store, text: str) -> SyncRule:
    """The rule a page's address names (``/rules/{id}``)."""
    rule = store.rules.by_id(int(text)) if text.isdigit() else None
    if rule is None:
        raise ConfigurationError(f"no sync rule with id {text!r}: it may have been deleted "
                                 "or renamed; find it in the rules list")
    return rule


def _column(lists: Lists, name: str, rows: int) -> list[str]:
    values = [str(v) for v in lists.get(name, [])]
    return values + [""] * (rows - len(values))


def _rows(lists: Lists, prefix: str, names: Sequence[str]) -> list[dict[str, str]]:
    count = max((len(lists.get(f"{prefix}_{n}", [])) for n in names), default=0)
    columns = {n: _column(lists, f"{prefix}_{n}", count) for n in names}
    removed = {str(v) for v in lists.get(f"{prefix}_remove", [])}
    # A source keeps its spaces (a Constant may need them); every other field is trimmed.
    return [{n: columns[n][i] if n == "source" else columns[n][i].strip() for n in names}
            for i in range(count) if str(i) not in removed]


def _group_number(text: str, where: str) -> int:
    try:
        number = int(text or "1")
    except ValueError:
        raise ConfigurationError(f"{where}: the group is a number (1, 2, ...), got "
                                 f"{text!r}") from None
    if number < 1:
        raise ConfigurationError(f"{where}: the group is a number from 1, got {number}")
    return number


def scoping_from_form(lists: Lists) -> list[ScopingGroup]:
    groups: dict[int, list[ScopingClause]] = {}
    for n, row in enumerate(_rows(lists, "s", ("group", "attribute", "operator", "value")), 1):
        if not row["attribute"] and not row["value"]:
            continue  # the blank row
        where = f"scoping clause {n}"
        name = row["operator"].upper()
        try:
            op = OPERATOR_ALIASES.get(name) or ScopeOperator(name)
        except ValueError:
            raise ConfigurationError(f"{where}: unknown operator {row['operator']!r}") from None
        if not row["attribute"]:
            raise ConfigurationError(f"{where}: name the attribute it tests")
        value: str | None = row["value"]
        if op in VALUELESS_OPERATORS:
            if value:
                raise ConfigurationError(f"{where}: {op.value} takes no value")
            value = None
        elif not value:
            raise ConfigurationError(f"{where} ({row['attribute']} {op.value}): give a value")
        groups.setdefault(_group_number(row["group"], where), []).append(
            ScopingClause(row["attribute"], op, value))
    return [ScopingGroup(groups[k]) for k in sorted(groups)]


def join_from_form(lists: Lists) -> list[JoinGroup]:
    groups: dict[int, list[JoinCondition]] = {}
    for n, row in enumerate(_rows(lists, "j", ("group", "cs", "mv", "case")), 1):
        if not row["cs"] and not row["mv"]:
            continue
        where = f"join condition {n}"
        if not row["cs"] or not row["mv"]:
            raise ConfigurationError(f"{where}: give both the connector space and the "
                                     "metaverse attribute")
        groups.setdefault(_group_number(row["group"], where), []).append(
            JoinCondition(row["cs"], row["mv"], row["case"] != "no"))
    return [JoinGroup(groups[k]) for k in sorted(groups)]


def transformations_from_form(lists: Lists) -> list[Transformation]:
    out: list[Transformation] = []
    targets: set[str] = set()
    for n, row in enumerate(_rows(lists, "t", ("flow", "target", "source", "once", "merge")),
                            1):
        if not row["target"] and not row["source"].strip():
            continue
        where = f"transformation {n}"
        if not row["target"]:
            raise ConfigurationError(f"{where}: name its target attribute")
        if row["target"] in targets:
            raise ConfigurationError(f"{where}: {row['target']!r} has a transformation "
                                     "already; one per target")
        targets.add(row["target"])
        try:
            flow = FlowType(row["flow"] or FlowType.DIRECT.value)
            merge = MergeType(row["merge"] or MergeType.UPDATE.value)
        except ValueError as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
        source = row["source"].strip() if flow is not FlowType.CONSTANT else row["source"]
        if not source.strip():
            raise ConfigurationError(f"{where} ({row['target']}): give its source")
        out.append(Transformation(row["target"], flow, source, row["once"] == "yes", merge))
    return out


def precedence_from_form(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigurationError(f"precedence {text!r}: choose a number") from None


def edit_from_form(rule: SyncRule, form: Mapping[str, Any], lists: Lists) -> RuleEdit:
    """What the submitted form changes in ``rule`` (an empty edit: nothing)."""
    edit = RuleEdit()
    description = str(form.get("description", rule.description)).strip()
    if description != rule.description:
        edit.description = description
    precedence = precedence_from_form(str(form.get("precedence", rule.precedence)))
    if precedence != rule.precedence:
        edit.precedence = precedence
    disabled = form.get("enabled") != "yes"
    if disabled != rule.disabled:
        edit.disabled = disabled
    scoping = scoping_from_form(lists)
    if scoping != rule.scoping:
        edit.scoping = scoping
    join = join_from_form(lists)
    if join != rule.join:
        edit.join = join
    transformations = transformations_from_form(lists)
    if transformations != rule.transformations:
        edit.transformations = transformations
    return edit
