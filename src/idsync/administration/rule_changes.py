"""Stored sync rules changed the way an administrator changes them (save, enable, disable,
delete): validated first, and a rule change marks a full synchronization as required on its
connector (the reference: rule change -> Full Sync)."""

from __future__ import annotations

from collections.abc import Iterable

from idsync.administration.audit import AuditAction, changed_fields, record_change
from idsync.errors import ConfigurationError
from idsync.events import EventId, level_of
from idsync.rules.model import Direction, SyncRule
from idsync.rules.validation import validate_rule
from idsync.store import Store


def _differs_beyond_disabled(a: SyncRule, b: SyncRule) -> bool:
    da, db = a.to_dict(), b.to_dict()
    da.pop("disabled"), db.pop("disabled")
    return da != db


def requeue_outbound(store: Store, rule: SyncRule) -> None:
    """An outbound rule changed: every metaverse object of its type is evaluated again by the
    outbound pass of the next sync, delta or full. Raising a member limit then takes effect
    with the full sync suppressed (the reference's connector override), as the v2 endpoint
    document promises; outbound evaluation only stages differences."""
    if rule.direction is not Direction.OUTBOUND:
        return
    store.rule_objects.requeue_type(rule.mv_object_type)


def save_rules(store: Store, rules: Iterable[SyncRule], *, installing_builtin: bool = False,
               audit: bool = True) -> list[SyncRule]:
    """Validate and save ``rules``; each is recorded in the audit log (its changed fields)
    unless ``audit`` is False: the caller records the change as a whole (a copy, an edit, an
    out-of-box install)."""
    rules = list(rules)
    connectors = {c.name: c.id for c in store.connectors.list()}
    before: dict[str, SyncRule | None] = {}
    for rule in rules:
        validate_rule(rule, connectors)
        existing = store.rules.find(rule.name)
        before[rule.name] = existing
        if (existing is not None and existing.reserved and not installing_builtin
                and _differs_beyond_disabled(existing, rule)):
            raise ConfigurationError(
                f"sync rule {rule.name!r} is reserved (out-of-box): it can be disabled but not "
                f"edited. Make an editable copy with `idsync rules copy {rule.name!r}`.")
        if rule.reserved and not installing_builtin and existing is None:
            raise ConfigurationError(
                f"sync rule {rule.name!r}: only idsync's own rule sets are reserved; "
                "remove 'reserved: true'")
    saved = []
    with store.transaction():
        for rule in rules:
            saved.append(store.rules.save(rule, connectors[rule.connector]))
            requeue_outbound(store, rule)
            if audit:
                _record_save(store, before.get(rule.name), rule)
            store.connectors.set_required(connectors[rule.connector], full_sync=True)
        if saved:
            store.events.add(int(EventId.RULES_CHANGED), level_of(EventId.RULES_CHANGED),
                             f"{len(saved)} sync rule(s) saved: "
                             + ", ".join(r.name for r in saved[:10])
                             + ("..." if len(saved) > 10 else ""))
    return saved


def _record_save(store: Store, existing: SyncRule | None, rule: SyncRule) -> None:
    if existing is None:
        record_change(store, AuditAction.RULE_SAVE, rule.name, None, rule.to_dict())
        return
    old, new = changed_fields(existing.to_dict(), rule.to_dict())
    if old or new:
        record_change(store, AuditAction.RULE_SAVE, rule.name, old, new)


def set_disabled(store: Store, name: str, disabled: bool) -> SyncRule:
    rule = store.rules.get(name)
    was = rule.disabled
    rule.disabled = disabled
    connector = store.connectors.get(rule.connector)
    with store.transaction():
        store.rules.save(rule, connector.id)
        requeue_outbound(store, rule)
        store.connectors.set_required(connector.id, full_sync=True)
        store.events.add(int(EventId.RULES_CHANGED), "information",
                         f"sync rule {name!r} {'disabled' if disabled else 'enabled'}")
        record_change(store, AuditAction.RULE_DISABLE if disabled else AuditAction.RULE_ENABLE,
                      name, {"disabled": was}, {"disabled": disabled})
    return rule


def delete_rule(store: Store, name: str) -> None:
    rule = store.rules.get(name)
    if rule.reserved:
        raise ConfigurationError(f"sync rule {name!r} is reserved: disable it instead")
    connector = store.connectors.get(rule.connector)
    with store.transaction():
        store.rules.delete(name)
        requeue_outbound(store, rule)
        store.connectors.set_required(connector.id, full_sync=True)
        store.events.add(int(EventId.RULES_CHANGED), "information", f"sync rule {name!r} deleted")
        record_change(store, AuditAction.RULE_DELETE, name, rule.to_dict(), None)
