"""The writeback rule set for a configuration (OU, naming, member limit); enabling, previewing
and disabling it are administrator operations (``idsync.administration.writeback``)."""

from __future__ import annotations

from dataclasses import dataclass

from idsync.errors import ConfigurationError
from idsync.rules.files import builtin_text, load_rules_text
from idsync.rules.model import SyncRule

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
