"""Checks a rule must pass before it is saved, so a bad rule never reaches a sync run."""

from __future__ import annotations

from collections.abc import Iterable

from idsync.errors import ConfigurationError
from idsync.expressions import ExpressionError, validate_expression
from idsync.rules.model import DN_TARGET, Direction, FlowType, LinkType, SyncRule


def validate_rule(rule: SyncRule, connector_names: Iterable[str]) -> None:
    names = set(connector_names)
    where = f"sync rule {rule.name!r}"
    # What is saved must load again: the stored form goes through the same checks.
    SyncRule.from_dict(rule.to_dict())
    if rule.connector not in names:
        raise ConfigurationError(
            f"{where}: connector {rule.connector!r} does not exist (connectors: "
            f"{', '.join(sorted(names)) or 'none'})")
    if not 0 <= rule.precedence <= 10_000:
        raise ConfigurationError(f"{where}: precedence must be between 0 and 10000")
    for t in rule.transformations:
        if t.flow_type is FlowType.EXPRESSION:
            try:
                validate_expression(t.source)
            except ExpressionError as exc:
                raise ConfigurationError(
                    f"{where}, transformation of {t.target!r}:\n{exc}") from exc
        if t.target == DN_TARGET and rule.direction is Direction.INBOUND:
            raise ConfigurationError(f"{where}: inbound rules cannot flow into 'dn'")
    for group in rule.join:
        if not group.conditions:
            raise ConfigurationError(f"{where}: a join group needs at least one condition")
    if rule.link_type is LinkType.PROVISION and rule.direction is Direction.OUTBOUND and not any(
            t.target == DN_TARGET for t in rule.transformations):
        raise ConfigurationError(
            f"{where}: an outbound Provision rule must flow a 'dn' for the objects it creates")
