"""Group writeback and the large-group rollback plan.

* ``enable_writeback(store, onprem, cloud, ou, ...)`` installs the reserved writeback rules
  (``rules/builtin/writeback.yaml``): Microsoft 365 ("Unified") groups created in the cloud are
  projected into the metaverse and provisioned into ``ou`` of the on-premises LDAP directory,
  members translated to on-premises DNs by the engine; membership changes flow as value adds
  and removes because the engine stages reference deltas.
* ``writeback_preview(store)`` / ``disable_writeback(store)``: the groups a disable deletes, and
  the disable itself (rules removed; the next full sync stages the deletes).
* ``rollback_plan(store, cloud, limit)``: the groups the next full sync deletes once the cloud
  connector goes back to sync API v1 (``idsync connector set-api-version``).
"""

from idsync.writeback.plan import AtRiskGroup, rollback_plan, set_api_versions
from idsync.writeback.rules import (
    INBOUND_RULE,
    MEMBER_LIMIT_RULE,
    RULE_NAMES,
    WRITEBACK_RULE,
    WritebackConfig,
    disable_writeback,
    enable_writeback,
    writeback_config,
    writeback_preview,
    writeback_rules,
)

__all__ = [
    "INBOUND_RULE",
    "MEMBER_LIMIT_RULE",
    "RULE_NAMES",
    "WRITEBACK_RULE",
    "AtRiskGroup",
    "WritebackConfig",
    "disable_writeback",
    "enable_writeback",
    "rollback_plan",
    "set_api_versions",
    "writeback_config",
    "writeback_preview",
    "writeback_rules",
]
