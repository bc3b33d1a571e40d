"""The enabled sync rules, compiled once per run and indexed the way the engine asks for them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from idsync.engine.flow import as_values
from idsync.errors import ConfigurationError
from idsync.expressions import ExpressionError, compile_expression
from idsync.rules.model import Direction, FlowType, LinkType, MergeType, SyncRule


class SourceView(Protocol):
    """What a transformation reads: a connector space object (inbound) or a metaverse object
    (outbound), with reference values already translated to the target space."""

    def direct(self, name: str) -> Any: ...

    def expression_result(self, target: str, result: Any) -> Any: ...


@dataclass(slots=True)
class CompiledTransformation:
    target: str
    merge_type: MergeType
    apply_once: bool
    evaluate: Callable[[Any], Any]
    reads: frozenset[str]


@dataclass(slots=True)
class CompiledRule:
    rule: SyncRule
    connector_id: int
    transformations: list[CompiledTransformation]
    reads: frozenset[str]
    #: what the scoping filter and the join conditions read (all the connect pass needs)
    link_reads: frozenset[str] = frozenset()

    @property
    def id(self) -> int:
        assert self.rule.id is not None
        return self.rule.id

    @property
    def precedence(self) -> int:
        return self.rule.precedence


def compile_transformation(t: Any) -> CompiledTransformation:
    if t.flow_type is FlowType.DIRECT:
        source = t.source

        def direct(view: Any, _s: str = source) -> Any:
            return view.direct(_s)
        return CompiledTransformation(t.target, t.merge_type, t.apply_once, direct,
                                      frozenset([source]))
    if t.flow_type is FlowType.CONSTANT:
        constant = [t.source]

        def const(view: Any, _c: list[Any] = constant) -> Any:
            return list(_c)
        return CompiledTransformation(t.target, t.merge_type, t.apply_once, const, frozenset())
    compiled = compile_expression(t.source)
    target = t.target

    def expression(view: Any, _f: Any = compiled, _t: str = target) -> Any:
        return view.expression_result(_t, as_values(_f(view)))
    return CompiledTransformation(t.target, t.merge_type, t.apply_once, expression,
                                  frozenset(compiled.attributes))


def compile_rule(rule: SyncRule, connector_id: int) -> CompiledRule:
    transformations: list[CompiledTransformation] = []
    for t in rule.transformations:
        try:
            transformations.append(compile_transformation(t))
        except ExpressionError as exc:
            raise ConfigurationError(
                f"sync rule {rule.name!r}, transformation of {t.target!r}:\n{exc}") from exc
    link_reads: set[str] = set()
    for group in rule.scoping:
        link_reads |= {c.attribute for c in group.clauses}
    for jg in rule.join:
        for cond in jg.conditions:
            link_reads.add(cond.cs_attribute if rule.direction is Direction.INBOUND
                           else cond.mv_attribute)
    reads = set(link_reads)
    for compiled in transformations:
        reads |= compiled.reads
    return CompiledRule(rule, connector_id, transformations, frozenset(reads),
                        frozenset(link_reads))


@dataclass
class RuleSet:
    #: (connector id, cs object type) -> inbound rules by precedence
    inbound: dict[tuple[int, str], list[CompiledRule]] = field(default_factory=dict)
    #: connector id -> mv object type -> outbound rules by precedence
    outbound: dict[int, dict[str, list[CompiledRule]]] = field(default_factory=dict)
    by_id: dict[int, CompiledRule] = field(default_factory=dict)

    @classmethod
    def build(cls, rules: Iterable[SyncRule], connector_ids: dict[str, int]) -> RuleSet:
        rs = cls()
        inbound: dict[tuple[int, str], list[CompiledRule]] = defaultdict(list)
        outbound: dict[int, dict[str, list[CompiledRule]]] = defaultdict(lambda: defaultdict(list))
        for rule in rules:
            if rule.disabled:
                continue
            if rule.connector not in connector_ids:
                raise ConfigurationError(
                    f"sync rule {rule.name!r} names connector {rule.connector!r}, which does "
                    "not exist")
            compiled = compile_rule(rule, connector_ids[rule.connector])
            rs.by_id[compiled.id] = compiled
            if rule.direction is Direction.INBOUND:
                inbound[(compiled.connector_id, rule.cs_object_type)].append(compiled)
            else:
                outbound[compiled.connector_id][rule.mv_object_type].append(compiled)
        for rules_ in inbound.values():
            rules_.sort(key=lambda r: (r.precedence, r.id))
        for per_type in outbound.values():
            for rules_ in per_type.values():
                rules_.sort(key=lambda r: (r.precedence, r.id))
        rs.inbound = dict(inbound)
        rs.outbound = {k: dict(v) for k, v in outbound.items()}
        return rs

    def inbound_for(self, connector_id: int, cs_object_type: str | None) -> list[CompiledRule]:
        return self.inbound.get((connector_id, cs_object_type or ""), [])

    def mv_join_attributes(self) -> set[tuple[str, bool]]:
        """(mv attribute, case sensitive) pairs that inbound join rules look up."""
        out = set()
        for rules_ in self.inbound.values():
            for r in rules_:
                for jg in r.rule.join:
                    out |= {(c.mv_attribute, c.case_sensitive) for c in jg.conditions}
        return out

    def cs_join_attributes(self, connector_id: int) -> set[tuple[str, bool]]:
        """(cs attribute, case sensitive) pairs that outbound join rules look up."""
        out = set()
        for rules_ in self.outbound.get(connector_id, {}).values():
            for r in rules_:
                for jg in r.rule.join:
                    out |= {(c.cs_attribute, c.case_sensitive) for c in jg.conditions}
        return out

    def reads_inbound(self, connector_id: int) -> frozenset[str]:
        """Attributes the inbound rules of a connector read, whatever the object type."""
        out: set[str] = set()
        for (cid, _), rules_ in self.inbound.items():
            if cid == connector_id:
                for r in rules_:
                    out |= r.reads
        return frozenset(out)

    def writes_outbound(self, connector_id: int, mv_object_type: str | None = None
                        ) -> frozenset[str]:
        """Attributes the outbound rules of a connector write (for one metaverse type)."""
        out: set[str] = set()
        for mv_type, rules_ in self.outbound.get(connector_id, {}).items():
            if mv_object_type is None or mv_type == mv_object_type:
                for r in rules_:
                    out |= {t.target for t in r.transformations}
        return frozenset(out)

    def reads_from(self, connector_id: int) -> frozenset[str]:
        """Attributes the inbound rules of a connector read and its outbound rules write (an
        import needs these)."""
        return self.reads_inbound(connector_id) | self.writes_outbound(connector_id)


def has_provision(rules: Iterable[CompiledRule]) -> CompiledRule | None:
    for r in rules:
        if r.rule.link_type is LinkType.PROVISION:
            return r
    return None
