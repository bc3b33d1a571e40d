"""The out-of-box sync rules between an on-premises directory and the cloud directory.

``outofbox_rules(onprem, cloud, flavour)`` gives the reserved rule set (In from AD, In from AAD,
Out to AAD, Azure AD Connect's names and default precedences from 100) for two connectors;
``idsync.administration.outofbox.install_outofbox`` saves it. The rules themselves live in
``builtin/outofbox.yaml``, readable and exportable like any rule file.

Two cloud targets (``Target``): the sync API (connector type ``cloud``, the rules above) and
Microsoft Graph (connector type ``graph``): the same In from AD rules with the Graph side of
``builtin/outofbox-graph.yaml`` (In from Graph, Out to Graph), under names of their own so both
sets can be installed at once (a tenant moving from one API to the other).

The on-premises side comes in two flavours, because the anchor and the account name differ:

* ``ad``: sourceAnchor is ``ConvertToBase64([objectGUID])``, the account is sAMAccountName;
* ``openldap``: sourceAnchor is ``[entryUUID]``, the account is uid (users) / cn (groups).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from idsync.errors import ConfigurationError
from idsync.rules.files import builtin_text, load_rules_text
from idsync.rules.model import SyncRule

RULE_SET = "outofbox"
GRAPH_RULE_SET = "outofbox-graph"
#: The rule whose ``member`` transformation holds the group member limit.
GROUP_JOIN_RULE = "Out to AAD - Group Join"
#: Its Graph counterpart (the limit is on ``members``, Graph's name).
GRAPH_GROUP_JOIN_RULE = "Out to Graph - Group Join"
#: The on-premises side's rules all start so (shared by both targets).
ONPREM_PREFIX = "In from AD - "


class Target(Enum):
    """Where the cloud side of the rule set writes; the value is the connector type."""

    CLOUD = "cloud"
    GRAPH = "graph"

    @property
    def group_join_rule(self) -> str:
        return GRAPH_GROUP_JOIN_RULE if self is Target.GRAPH else GROUP_JOIN_RULE
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


def rules_text(target: Target = Target.CLOUD) -> str:
    """The rule file as shipped, placeholders and all (for Graph: its Graph side only)."""
    return builtin_text(GRAPH_RULE_SET if target is Target.GRAPH else RULE_SET)


def outofbox_rules(onprem: str, cloud: str, flavour: str = "ad",
                   target: Target = Target.CLOUD) -> list[SyncRule]:
    """The out-of-box rule set for connector ``onprem`` (ldap or file) and ``cloud`` (of type
    ``target.value``)."""
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
    for key, value in substitutions.items():
        # Connector names land in YAML strings; a quote in a name would break the file.
        if '"' in value or "'" in value:
            raise ConfigurationError(f"{key} {value!r}: quotes are not allowed")
    rules = _load(rules_text(), substitutions, f"out-of-box rules ({flavour})")
    if target is Target.CLOUD:
        return rules
    onprem_rules = [r for r in rules if r.name.startswith(ONPREM_PREFIX)]
    return onprem_rules + _load(rules_text(Target.GRAPH), substitutions,
                                "out-of-box rules (graph)")


def _load(text: str, substitutions: dict[str, str], where: str) -> list[SyncRule]:
    for key, value in substitutions.items():
        text = text.replace("{" + key + "}", value)
    return load_rules_text(text, where)
