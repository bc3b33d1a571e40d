"""Switching a cloud connector's sync API versions, with the rollback to API v1 listed first.

The system idsync models deletes every synced group above 50,000 members silently after the
next full sync once it is back on API v1. idsync lists them first (``largegroups.rollback``:
every group above the limit the cloud holds or will hold because of idsync, with its fate) and
changes nothing without a confirmation; on confirmation the cloud-side deletes are staged at
once (so ``export preview`` shows them and the export deletion threshold counts them), and the
written-back groups follow the engine's own path: the v1 full import leaves the large Unified
group out, the full sync deletes its metaverse object and stages the on-premises delete, which
the next export counts against the same threshold.
"""

from __future__ import annotations

from idsync.audit_log import AuditAction, record_change
from idsync.connectors import registry
from idsync.connectors.cloud.connector import API_VERSIONS
from idsync.errors import ConfigurationError, IdsyncError
from idsync.events import EventId
from idsync.largegroups.rollback import (
    TO_CLOUD,
    TO_ONPREM,
    V1_MEMBER_LIMIT,
    AtRiskGroup,
    rollback_plan,
    stage_rollback,
)
from idsync.store import Store

__all__ = ["TO_CLOUD", "TO_ONPREM", "V1_MEMBER_LIMIT", "AtRiskGroup", "api_versions_of",
           "plan_api_versions", "rollback_plan", "service_v1_limit", "set_api_versions"]


def api_versions_of(store: Store, connector: str) -> dict[str, int]:
    """A cloud connector's sync API versions (2 unless set)."""
    settings = store.connectors.get(connector).settings or {}
    return {"export_api_version": int(settings.get("export_api_version", 2)),
            "import_api_version": int(settings.get("import_api_version", 2))}


def plan_api_versions(store: Store, connector: str, export_version: int, import_version: int,
                      limit: int = V1_MEMBER_LIMIT) -> list[AtRiskGroup]:
    """What switching to these versions does to the groups above the v1 limit (empty unless
    the switch goes to 1), changing nothing: the list shown before the confirmation."""
    for value in (export_version, import_version):
        if value not in API_VERSIONS:
            raise ConfigurationError("API versions are 1 or 2")
    record = store.connectors.get(connector)
    if record.type != "cloud":
        raise ConfigurationError(f"connector {connector!r} is of type {record.type!r}, "
                                 "not cloud")
    before = tuple(api_versions_of(store, connector).values())
    down = 1 in (export_version, import_version) and before != (export_version, import_version)
    return rollback_plan(store, connector, limit) if down else []


def set_api_versions(store: Store, connector: str, export_version: int, import_version: int,
                     *, confirm: bool, limit: int = V1_MEMBER_LIMIT
                     ) -> tuple[list[AtRiskGroup], bool]:
    """Set ``export_api_version`` / ``import_api_version`` of a cloud connector.

    Going to 1 (either setting) first computes ``rollback_plan``; with groups at risk nothing
    changes unless ``confirm``. A change is recorded in the audit log as the acting admin's,
    in the change's transaction. Returns (the plan, whether the settings were changed)."""
    plan = plan_api_versions(store, connector, export_version, import_version, limit)
    if plan and not confirm:
        return plan, False
    record = store.connectors.get(connector)
    settings = dict(record.settings or {})
    before = (int(settings.get("export_api_version", 2)),
              int(settings.get("import_api_version", 2)))
    settings.update(export_api_version=export_version, import_api_version=import_version)
    with store.transaction():
        store.connectors.update(record.id, settings=settings)
        if before != (export_version, import_version):
            # The other version shows the directory differently (v1 leaves large groups out).
            store.connectors.set_required(record.id, full_import=True, full_sync=True)
        stage_rollback(store, plan)
        if before != (export_version, import_version):
            record_change(store, AuditAction.API_VERSION, connector,
                          {"export_api_version": before[0], "import_api_version": before[1]},
                          {"export_api_version": export_version,
                           "import_api_version": import_version})
        store.events.add(
            int(EventId.CONNECTOR_CHANGED), "warning" if plan else "information",
            f"connector {connector!r}: export API v{export_version}, import API "
            f"v{import_version}" + (f"; {len(plan)} group(s) above the v1 limit listed "
                                    "for the rollback" if plan else ""), connector_id=record.id)
    return plan, True


def service_v1_limit(store: Store, connector: str, workspace: str) -> int:
    """The cloud directory's own API v1 member limit (its ``/sync/ping``), so the plan matches
    what the service will refuse; 50,000 when the service cannot be reached."""
    try:
        instance = registry.create(store.connectors.get(connector), workspace)
    except IdsyncError:
        return V1_MEMBER_LIMIT
    try:
        return int(instance.limits()["v1_member_limit"])  # type: ignore[attr-defined]
    except (IdsyncError, KeyError, AttributeError):
        return V1_MEMBER_LIMIT
    finally:
        instance.close()
