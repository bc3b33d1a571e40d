"""Sync rules: the declarative provisioning model (scope, join, transform, precedence).

A rule is data. It is stored in the database as one JSON document and written to and read from
readable YAML files with the same field names (see ``idsync.rules.files``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from idsync.errors import ConfigurationError
from idsync.model import Direction, LinkType


class ScopeOperator(StrEnum):
    EQUAL = "EQUAL"
    NOTEQUAL = "NOTEQUAL"
    LESSTHAN = "LESSTHAN"
    LESSTHAN_OR_EQUAL = "LESSTHAN_OR_EQUAL"
    GREATERTHAN = "GREATERTHAN"
    GREATERTHAN_OR_EQUAL = "GREATERTHAN_OR_EQUAL"
    CONTAINS = "CONTAINS"
    NOTCONTAINS = "NOTCONTAINS"
    STARTSWITH = "STARTSWITH"
    NOTSTARTSWITH = "NOTSTARTSWITH"
    ENDSWITH = "ENDSWITH"
    NOTENDSWITH = "NOTENDSWITH"
    ISNULL = "ISNULL"
    ISNOTNULL = "ISNOTNULL"
    ISIN = "ISIN"
    ISNOTIN = "ISNOTIN"
    ISBITSET = "ISBITSET"
    ISNOTBITSET = "ISNOTBITSET"
    ISMEMBEROF = "ISMEMBEROF"
    ISNOTMEMBEROF = "ISNOTMEMBEROF"


#: The export side of the reference also spells ISNOTBITSET this way.
OPERATOR_ALIASES = {"ISBITNOTSET": ScopeOperator.ISNOTBITSET}
VALUELESS_OPERATORS = {ScopeOperator.ISNULL, ScopeOperator.ISNOTNULL}
MEMBERSHIP_OPERATORS = {ScopeOperator.ISMEMBEROF, ScopeOperator.ISNOTMEMBEROF}


class FlowType(StrEnum):
    DIRECT = "Direct"
    CONSTANT = "Constant"
    EXPRESSION = "Expression"


class MergeType(StrEnum):
    UPDATE = "Update"
    MERGE = "Merge"
    MERGE_CASE_INSENSITIVE = "MergeCaseInsensitive"


#: Outbound transformations with this target set the DN of the connector space object.
DN_TARGET = "dn"


@dataclass(slots=True)
class ScopingClause:
    attribute: str
    operator: ScopeOperator
    value: str | None = None


@dataclass(slots=True)
class ScopingGroup:
    """Clauses in a group are ANDed; groups are ORed; no group at all means every object."""

    clauses: list[ScopingClause] = field(default_factory=list)


@dataclass(slots=True)
class JoinCondition:
    cs_attribute: str
    mv_attribute: str
    case_sensitive: bool = True


@dataclass(slots=True)
class JoinGroup:
    """Conditions in a group are ANDed; groups are tried in order until one matches exactly
    one object."""

    conditions: list[JoinCondition] = field(default_factory=list)


@dataclass(slots=True)
class Transformation:
    target: str
    flow_type: FlowType
    #: Direct: the source attribute; Constant: the value; Expression: the expression text.
    source: str
    apply_once: bool = False
    merge_type: MergeType = MergeType.UPDATE


@dataclass(slots=True)
class SyncRule:
    name: str
    direction: Direction
    connector: str
    cs_object_type: str
    mv_object_type: str
    link_type: LinkType = LinkType.JOIN
    precedence: int = 50
    description: str = ""
    disabled: bool = False
    #: Out-of-box rules are reserved: they can be disabled but not edited.
    reserved: bool = False
    tag: str | None = None
    scoping: list[ScopingGroup] = field(default_factory=list)
    join: list[JoinGroup] = field(default_factory=list)
    transformations: list[Transformation] = field(default_factory=list)
    id: int | None = None

    # --- the source and target side of each flow, by direction ------------------------------

    @property
    def source_space_is_cs(self) -> bool:
        return self.direction is Direction.INBOUND

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "direction": self.direction.value,
            "connector": self.connector,
            "cs_object_type": self.cs_object_type,
            "mv_object_type": self.mv_object_type,
            "link_type": self.link_type.value,
            "precedence": self.precedence,
            "disabled": self.disabled,
            "reserved": self.reserved,
        }
        if self.tag:
            d["tag"] = self.tag
        d["scoping"] = [
            [_clause_dict(c) for c in g.clauses] for g in self.scoping
        ]
        d["join"] = [
            [_condition_dict(c) for c in g.conditions] for g in self.join
        ]
        d["transformations"] = [_transformation_dict(t) for t in self.transformations]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, rule_id: int | None = None) -> SyncRule:
        where = f"rule {data.get('name', '?')!r}"
        try:
            rule = cls(
                name=_req(data, "name", where),
                description=data.get("description") or "",
                direction=Direction(_req(data, "direction", where)),
                connector=_req(data, "connector", where),
                cs_object_type=_req(data, "cs_object_type", where),
                mv_object_type=_req(data, "mv_object_type", where),
                link_type=LinkType(data.get("link_type", "Join")),
                precedence=int(data.get("precedence", 50)),
                disabled=bool(data.get("disabled", False)),
                reserved=bool(data.get("reserved", False)),
                tag=data.get("tag"),
                scoping=[ScopingGroup([_clause(c, where) for c in g])
                         for g in data.get("scoping") or []],
                join=[JoinGroup([_condition(c, where) for c in g]) for g in data.get("join") or []],
                transformations=[_transformation(t, where)
                                 for t in data.get("transformations") or []],
                id=rule_id,
            )
        except ValueError as exc:
            raise ConfigurationError(f"{where}: {exc}") from exc
        return rule


def _req(data: dict[str, Any], key: str, where: str) -> Any:
    if data.get(key) in (None, ""):
        raise ConfigurationError(f"{where}: '{key}' is required")
    return data[key]


def _clause(data: dict[str, Any], where: str) -> ScopingClause:
    op_name = str(_req(data, "operator", where)).upper()
    op = OPERATOR_ALIASES.get(op_name) or ScopeOperator(op_name)
    value = data.get("value")
    if op not in VALUELESS_OPERATORS and value is None:
        raise ConfigurationError(f"{where}: scoping operator {op.value} needs a value")
    # Membership clauses name a group, not an attribute of the object.
    attribute = data.get("attribute") or "" if op in MEMBERSHIP_OPERATORS else _req(
        data, "attribute", where)
    return ScopingClause(attribute, op, None if value is None else str(value))


def _clause_dict(c: ScopingClause) -> dict[str, Any]:
    d: dict[str, Any] = {"attribute": c.attribute, "operator": c.operator.value}
    if c.value is not None:
        d["value"] = c.value
    return d


def _condition(data: dict[str, Any], where: str) -> JoinCondition:
    return JoinCondition(_req(data, "cs_attribute", where), _req(data, "mv_attribute", where),
                         bool(data.get("case_sensitive", True)))


def _condition_dict(c: JoinCondition) -> dict[str, Any]:
    d: dict[str, Any] = {"cs_attribute": c.cs_attribute, "mv_attribute": c.mv_attribute}
    if not c.case_sensitive:
        d["case_sensitive"] = False
    return d


def _transformation(data: dict[str, Any], where: str) -> Transformation:
    return Transformation(
        target=_req(data, "target", where),
        flow_type=FlowType(data.get("flow_type", "Direct")),
        source=str(_req(data, "source", where)),
        apply_once=bool(data.get("apply_once", False)),
        merge_type=MergeType(data.get("merge_type", "Update")),
    )


def _transformation_dict(t: Transformation) -> dict[str, Any]:
    d: dict[str, Any] = {"target": t.target, "flow_type": t.flow_type.value, "source": t.source}
    if t.apply_once:
        d["apply_once"] = True
    if t.merge_type is not MergeType.UPDATE:
        d["merge_type"] = t.merge_type.value
    return d
