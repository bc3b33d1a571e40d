"""The out-of-box sync rules between an on-premises directory and the cloud directory.

``outofbox_rules(onprem, cloud, flavour)`` gives the reserved rule set (In from AD, In from AAD,
Out to AAD, Azure AD Connect's names and default precedences from 100) for two connectors;
``install_outofbox(store, ...)`` saves it. The rules themselves live in ``outofbox.yaml`` next
to this module, readable and exportable like any rule file.

The on-premises side comes in two flavours, because the anchor and the account name differ:

* ``ad``: sourceAnchor is ``ConvertToBase64([objectGUID])``, the account is sAMAccountName;
* ``openldap``: sourceAnchor is ``[entryUUID]``, the account is uid (users) / cn (groups).
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass

from idsync.administration.rule_changes import save_rules
from idsync.errors import ConfigurationError
from idsync.rules.files import load_rules_text
from idsync.rules.model import SyncRule
from idsync.rules.outofbox.detect import choose_flavour, detect_flavour
from idsync.store import Store

RULE_FILE = "outofbox.yaml"
#: The rule whose ``member`` transformation holds the group member limit.
GROUP_JOIN_RULE = "Out to AAD - Group Join"
DEFAULT_MEMBER_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class Flavour:
    """What differs between on-premises directories."""

    anchor_attribute: str
    source_anchor: str
    user_account: str
    group_account: str


FLAVOURS: dict[str, Flavour] = {
    "ad": Flavour("objectGUID", "ConvertToBase64([objectGUID])", "sAMAccountName",
                  "sAMAccountName"),
    "openldap": Flavour("entryUUID", "[entryUUID]", "uid", "cn"),
}


def rules_text() -> str:
    """The rule file as shipped, placeholders and all."""
    return (importlib.resources.files(__package__) / RULE_FILE).read_text("utf-8")


def outofbox_rules(onprem: str, cloud: str, flavour: str = "ad") -> list[SyncRule]:
    """The out-of-box rule set for connector ``onprem`` (ldap) and ``cloud`` (cloud)."""
    if flavour not in FLAVOURS:
        raise ConfigurationError(
            f"unknown directory flavour {flavour!r} (one of {', '.join(sorted(FLAVOURS))})")
    if not onprem or not cloud:
        raise ConfigurationError("the out-of-box rules need an on-premises and a cloud connector")
    chosen = FLAVOURS[flavour]
    substitutions = {"onprem": onprem, "cloud": cloud,
                     "anchor_attribute": chosen.anchor_attribute,
                     "source_anchor": chosen.source_anchor,
                     "user_account": chosen.user_account,
                     "group_account": chosen.group_account}
    text = rules_text()
    for key, value in substitutions.items():
        # Connector names land in YAML strings; a quote in a name would break the file.
        if '"' in value or "'" in value:
            raise ConfigurationError(f"{key} {value!r}: quotes are not allowed")
        text = text.replace("{" + key + "}", value)
    return load_rules_text(text, f"out-of-box rules ({flavour})")


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


def install_outofbox(store: Store, onprem: str, cloud: str, flavour: str | None = None, *,
                     workspace: str | None = None) -> list[SyncRule]:
    """Save the out-of-box rules (validated, reserved). Installing again restores them as
    shipped and keeps each rule's disabled state, as an upgrade does; connectors are marked
    for a full synchronization.

    The flavour comes from the on-premises connector (``detect.detect_flavour``: the LDAP
    server's root DSE when ``workspace`` is given, else its settings); a ``flavour`` that
    contradicts it is refused, and an undetectable one must be named."""
    for name, wanted_type in ((onprem, None), (cloud, "cloud")):
        record = store.connectors.get(name)
        if wanted_type and record.type != wanted_type:
            raise ConfigurationError(
                f"connector {name!r} is of type {record.type!r}, expected {wanted_type!r}")
    flavour, _how = resolve_flavour(store, onprem, flavour, workspace)
    rules = outofbox_rules(onprem, cloud, flavour)
    for rule in rules:
        existing = store.rules.find(rule.name)
        if existing is not None:
            if not existing.reserved:
                raise ConfigurationError(
                    f"a custom rule named {rule.name!r} exists; rename or delete it first")
            rule.disabled = existing.disabled
    return save_rules(store, rules, installing_builtin=True)
