"""The out-of-box sync rules between an on-premises directory and the cloud directory.

``outofbox_rules(onprem, cloud, flavour)`` gives the reserved rule set (In from AD, In from AAD,
Out to AAD, Azure AD Connect's names and default precedences from 100) for two connectors;
``idsync.administration.outofbox.install_outofbox`` saves it. The rules themselves live in
``builtin/outofbox.yaml``, readable and exportable like any rule file.

The on-premises side comes in two flavours, because the anchor and the account name differ:

* ``ad``: sourceAnchor is ``ConvertToBase64([objectGUID])``, the account is sAMAccountName;
* ``openldap``: sourceAnchor is ``[entryUUID]``, the account is uid (users) / cn (groups).
"""

from __future__ import annotations

from dataclasses import dataclass

from idsync.errors import ConfigurationError
from idsync.rules.files import builtin_text, load_rules_text
from idsync.rules.model import SyncRule

RULE_SET = "outofbox"
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
    return builtin_text(RULE_SET)


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
