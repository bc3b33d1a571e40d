"""Group writeback as an administrator turns it on and off (``idsync writeback
enable|show|disable``): the reserved rules of ``idsync.writeback.rules`` saved with the
configuration, the written-back groups listed, and the rules removed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from idsync.administration.audit import AuditAction, record_change
from idsync.administration.rule_changes import save_rules
from idsync.errors import ConfigurationError
from idsync.events import EventId
from idsync.rules.model import SyncRule
from idsync.store import Store
from idsync.writeback.rules import (
    RULE_NAMES,
    SETTING,
    WRITEBACK_RULE,
    WritebackConfig,
    writeback_rules,
)


def writeback_config(store: Store) -> WritebackConfig | None:
    raw = store.settings.get(SETTING)
    return WritebackConfig(**raw) if raw else None


def enable_writeback(store: Store, config: WritebackConfig) -> list[SyncRule]:
    """Save the writeback rules and the configuration; full sync is marked on both connectors
    (a rule change). Enabling again with other settings replaces the rules."""
    for name, wanted in ((config.onprem, "ldap"), (config.cloud, "cloud")):
        record = store.connectors.get(name)
        if record.type != wanted:
            raise ConfigurationError(
                f"connector {name!r} is of type {record.type!r}, expected {wanted!r}")
    rules = writeback_rules(config)
    for rule in rules:
        existing = store.rules.find(rule.name)
        if existing is not None and not existing.reserved:
            raise ConfigurationError(
                f"a custom rule named {rule.name!r} exists; rename or delete it first")
        if existing is not None:
            rule.disabled = existing.disabled  # an administrator's disable survives
    previous = store.settings.get(SETTING)
    with store.transaction():
        saved = save_rules(store, rules, installing_builtin=True, audit=False)
        store.settings.set(SETTING, asdict(config))
        record_change(store, AuditAction.WRITEBACK_ENABLE, "writeback", previous,
                      asdict(config))
        # The cloud connector must read the Unified groups it so far had no rule for.
        store.connectors.set_required(store.connectors.get(config.cloud).id, full_import=True)
    return saved


@dataclass(frozen=True, slots=True)
class WrittenBackGroup:
    dn: str
    name: str
    member_count: int
    exists_on_prem: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def writeback_preview(store: Store) -> list[WrittenBackGroup]:
    """The groups the writeback rules provisioned on-premises (what a disable deletes)."""
    rule = store.rules.find(WRITEBACK_RULE)
    config = writeback_config(store)
    if rule is None or config is None:
        return []
    onprem = store.connectors.get(config.onprem)
    linked = store.rule_objects.outbound_linked(onprem.id, rule.id)
    mvs = store.mv.by_ids([o.mv_id for o in linked if o.mv_id is not None])
    out = []
    for o in linked:
        mv = mvs.get(o.mv_id) if o.mv_id is not None else None
        attrs = mv.attributes if mv else {}
        name = (attrs.get("displayName") or [o.dn])[0]
        count = int((attrs.get("memberCount") or [store.cs.ref_count(o.cs_id, "member")])[0])
        out.append(WrittenBackGroup(o.dn, str(name), count, o.anchor is not None))
    return out


def disable_writeback(store: Store) -> list[WrittenBackGroup]:
    """Remove the writeback rules. The next full sync finds the written-back groups out of
    every rule's scope and stages their deletes (export preview shows them; the export
    deletion threshold counts them). Returns the groups that will be deleted."""
    config = writeback_config(store)
    if config is None:
        raise ConfigurationError("group writeback is not enabled")
    groups = writeback_preview(store)
    with store.transaction():
        for name in RULE_NAMES:
            rule = store.rules.find(name)
            if rule is not None:
                store.rules.delete(name)
        for connector in (config.onprem, config.cloud):
            record = store.connectors.get(connector)
            store.connectors.set_required(record.id, full_import=connector == config.cloud,
                                          full_sync=True)
        store.settings.set(SETTING, None)
        record_change(store, AuditAction.WRITEBACK_DISABLE, "writeback", asdict(config),
                      None)
        store.events.add(int(EventId.RULES_CHANGED), "warning",
                         f"group writeback disabled: {len(groups)} written-back group(s) will "
                         "be deleted on-premises by the next full sync and export")
    return groups
