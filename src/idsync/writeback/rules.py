"""The writeback rule set: load, enable, preview and disable."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from idsync.administration.rule_changes import save_rules
from idsync.errors import ConfigurationError
from idsync.events import EventId
from idsync.rules.files import builtin_text, load_rules_text
from idsync.rules.model import SyncRule
from idsync.store import Store

RULE_SET = "writeback"
INBOUND_RULE = "In from AAD - Group Writeback"
MEMBER_LIMIT_RULE = "Out to AD - Group Writeback Member Limit"
WRITEBACK_RULE = "Out to AD - Group Writeback"
RULE_NAMES = (INBOUND_RULE, MEMBER_LIMIT_RULE, WRITEBACK_RULE)
#: The settings key holding the writeback configuration (survives upgrades: it is data).
SETTING = "group_writeback"
#: The reference: written-back Microsoft 365 groups of up to 250,000 members.
DEFAULT_MEMBER_LIMIT = 250_000
NAMINGS = ("id", "displayname")


@dataclass(frozen=True, slots=True)
class WritebackConfig:
    onprem: str
    cloud: str
    ou: str
    #: ``id``: CN=Group_<id>; ``displayname``: CN=<displayName>_<last 12 chars of the id>
    naming: str = "id"
    member_limit: int = DEFAULT_MEMBER_LIMIT


def _names(naming: str, ou: str) -> tuple[str, str]:
    """(dn expression, cn expression) for a naming scheme."""
    if naming == "id":
        cn = '"Group_" & [cloudGroupId]'
    elif naming == "displayname":
        cn = '[displayName] & "_" & Right([cloudGroupId],12)'
    else:
        raise ConfigurationError(f"naming must be one of {', '.join(NAMINGS)}")
    # EscapeDNComponent: a display name may hold a comma or a plus sign.
    return f'EscapeDNComponent("CN=" & {cn}) & ",{ou}"', cn


def writeback_rules(config: WritebackConfig) -> list[SyncRule]:
    """The three reserved writeback rules for ``config`` (validated by the rule loader)."""
    if not config.ou or "=" not in config.ou:
        raise ConfigurationError(f"the writeback OU must be a DN, not {config.ou!r}")
    if not 1 <= config.member_limit <= DEFAULT_MEMBER_LIMIT:
        raise ConfigurationError(f"member limit must be between 1 and {DEFAULT_MEMBER_LIMIT}")
    dn_expression, cn_expression = _names(config.naming, config.ou)
    substitutions = {"onprem": config.onprem, "cloud": config.cloud, "ou": config.ou,
                     "limit": str(config.member_limit),
                     # single-quoted YAML: a quote doubles
                     "dn_expression": dn_expression.replace("'", "''"),
                     "cn_expression": cn_expression.replace("'", "''")}
    text = builtin_text(RULE_SET)
    for key in ("onprem", "cloud", "ou"):
        if '"' in substitutions[key] or "'" in substitutions[key]:
            raise ConfigurationError(f"{key} {substitutions[key]!r}: quotes are not allowed")
    for key, value in substitutions.items():
        text = text.replace("{" + key + "}", value)
    return load_rules_text(text, "group writeback rules")


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
    saved = save_rules(store, rules, installing_builtin=True)
    with store.transaction():
        store.settings.set(SETTING, asdict(config))
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
    rows = store.db.query(
        "SELECT id, dn, anchor, mv_id FROM cs_objects WHERE connector_id = ? "
        "AND link_rule_id = ? AND link_direction = 'outbound' ORDER BY dn",
        (onprem.id, rule.id))
    mvs = store.mv.by_ids([r[3] for r in rows if r[3] is not None])
    out = []
    for cs_id, dn, anchor, mv_id in rows:
        mv = mvs.get(mv_id)
        attrs = mv.attributes if mv else {}
        name = (attrs.get("displayName") or [dn])[0]
        count = int((attrs.get("memberCount") or [store.cs.ref_count(cs_id, "member")])[0])
        out.append(WrittenBackGroup(dn, str(name), count, anchor is not None))
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
        store.events.add(int(EventId.RULES_CHANGED), "warning",
                         f"group writeback disabled: {len(groups)} written-back group(s) will "
                         "be deleted on-premises by the next full sync and export")
    return groups
