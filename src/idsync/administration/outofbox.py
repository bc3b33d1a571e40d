"""Installing the out-of-box sync rules (``idsync rules install-outofbox``): the flavour told
by the on-premises connector (``flavour``), the rules of ``idsync.rules.outofbox`` saved
reserved, and an administrator's disable kept across a reinstall."""

from __future__ import annotations

from idsync.administration.audit import AuditAction, record_change
from idsync.administration.flavour import choose_flavour, detect_flavour
from idsync.administration.rule_changes import save_rules
from idsync.errors import ConfigurationError
from idsync.rules.model import SyncRule
from idsync.rules.outofbox import FLAVOURS, Target, outofbox_rules
from idsync.store import Store


def resolve_flavour(store: Store, onprem: str, flavour: str | None,
                    workspace: str | None) -> tuple[str, str]:
    """(the flavour to install for connector ``onprem``, how it was told)."""
    if flavour is not None and flavour not in FLAVOURS:
        raise ConfigurationError(
            f"unknown directory flavour {flavour!r} (one of {', '.join(sorted(FLAVOURS))})")
    record = store.connectors.get(onprem)
    detected = detect_flavour(record, workspace)
    chosen = choose_flavour(record, flavour, detected)
    return chosen, detected.how if detected.flavour else f"--flavour {chosen} ({detected.how})"


def check_connector_types(store: Store, onprem: str, cloud: str, target: Target) -> None:
    """Both connectors exist, and ``cloud`` is of the type ``target`` writes to (``cloud``
    for the sync API, ``graph`` for Microsoft Graph): one clear line otherwise."""
    store.connectors.get(onprem)
    record = store.connectors.get(cloud)
    if record.type != target.value:
        other = {Target.CLOUD: "--graph", Target.GRAPH: "--cloud"}[target]
        hint = (f" (name a {record.type} connector with {other})"
                if record.type in {t.value for t in Target} else "")
        raise ConfigurationError(
            f"connector {cloud!r} is of type {record.type!r}, expected {target.value!r}{hint}")


def install_outofbox(store: Store, onprem: str, cloud: str, flavour: str | None = None, *,
                     workspace: str | None = None,
                     target: Target = Target.CLOUD) -> list[SyncRule]:
    """Save the out-of-box rules (validated, reserved). Installing again restores them as
    shipped and keeps each rule's disabled state, as an upgrade does; connectors are marked
    for a full synchronization.

    The flavour comes from the on-premises connector (``flavour.detect_flavour``: the LDAP
    server's root DSE when ``workspace`` is given, else its settings); a ``flavour`` that
    contradicts it is refused, and an undetectable one must be named. ``target``: the sync
    API (``cloud`` a cloud connector) or Microsoft Graph (``cloud`` a graph connector)."""
    check_connector_types(store, onprem, cloud, target)
    flavour, _how = resolve_flavour(store, onprem, flavour, workspace)
    rules = outofbox_rules(onprem, cloud, flavour, target)
    for rule in rules:
        existing = store.rules.find(rule.name)
        if existing is not None:
            if not existing.reserved:
                raise ConfigurationError(
                    f"a custom rule named {rule.name!r} exists; rename or delete it first")
            rule.disabled = existing.disabled
    with store.transaction():
        saved = save_rules(store, rules, installing_builtin=True, audit=False)
        record_change(store, AuditAction.RULES_INSTALL_OUTOFBOX, f"{onprem} -> {cloud}", None,
                      {"flavour": flavour, "target": target.value,
                       "rules": [r.name for r in saved]})
    return saved
