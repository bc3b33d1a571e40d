"""What switching a cloud connector back to sync API v1 deletes, and the switch itself.

The system idsync models deletes every synced group above 50,000 members silently after the
next full sync once it is back on API v1: groups from on-premises in the cloud, and Microsoft
365 groups written back on-premises. idsync lists them first and changes nothing without a
confirmation; on confirmation the cloud-side deletes are staged at once (so ``export preview``
shows them and the export deletion threshold counts them), and the written-back groups follow
the engine's own path: the v1 full import leaves the large Unified group out, the full sync
deletes its metaverse object and stages the on-premises delete, which the next export counts
against the same threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from idsync.connectors.cloud.connector import API_VERSIONS
from idsync.errors import ConfigurationError
from idsync.events import EventId
from idsync.model import PendingExport
from idsync.rules.model import LinkType
from idsync.store import Store

#: The sync API v1 member limit (the cloud directory refuses larger groups under v1).
V1_MEMBER_LIMIT = 50_000
TO_CLOUD = "on-prem -> cloud"
TO_ONPREM = "cloud -> on-prem (writeback)"


@dataclass(frozen=True, slots=True)
class AtRiskGroup:
    name: str
    member_count: int
    direction: str
    #: the connector space object the delete is staged on (cloud or on-premises)
    connector: str
    cs_id: int
    dn: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _large_groups(store: Store, connector_id: int, limit: int) -> list[tuple[int, int]]:
    """(cs id, member count) of the linked groups of a connector space above ``limit``."""
    return [(r[0], int(r[1])) for r in store.db.query(
        "SELECT c.id, count(*) FROM cs_objects c JOIN cs_refs r ON r.cs_id = c.id "
        "WHERE c.connector_id = ? AND r.attr = 'member' AND c.mv_id IS NOT NULL "
        "GROUP BY c.id HAVING count(*) > ?", (connector_id, limit))]


def rollback_plan(store: Store, cloud: str, limit: int = V1_MEMBER_LIMIT) -> list[AtRiskGroup]:
    """The groups the next full sync deletes when ``cloud`` goes back to API v1: groups the
    cloud holds from on-premises, and written-back groups, with more than ``limit`` members
    (counted in the cloud connector space: what the cloud holds)."""
    record = store.connectors.get(cloud)
    if record.type != "cloud":
        raise ConfigurationError(f"connector {cloud!r} is not a cloud connector")
    large = _large_groups(store, record.id, limit)
    objects = store.cs.by_ids([cs_id for cs_id, _ in large])
    mvs = store.mv.by_ids([o.mv_id for o in objects.values() if o.mv_id is not None])
    names = {c.id: c.name for c in store.connectors.list()}
    out: list[AtRiskGroup] = []
    for cs_id, count in large:
        cs = objects[cs_id]
        mv = mvs.get(cs.mv_id) if cs.mv_id is not None else None
        name = str(((mv.attributes if mv else cs.attributes).get("displayName") or [cs.dn])[0])
        if (cs.link_direction == "outbound" and cs.link_type == LinkType.PROVISION.value
                and cs.anchor is not None):
            out.append(AtRiskGroup(name, count, TO_CLOUD, cloud, cs.id, cs.dn))
            continue
        # A cloud-born group: at risk where it was written back to another connector.
        for linked in store.cs.linked_to([cs.mv_id]) if cs.mv_id is not None else []:
            if (linked.connector_id != record.id and linked.link_direction == "outbound"
                    and linked.anchor is not None):
                out.append(AtRiskGroup(name, count, TO_ONPREM, names[linked.connector_id],
                                       linked.id, linked.dn))
    return sorted(out, key=lambda g: (g.direction, g.name))


def set_api_versions(store: Store, connector: str, export_version: int, import_version: int,
                     *, confirm: bool, limit: int = V1_MEMBER_LIMIT
                     ) -> tuple[list[AtRiskGroup], bool]:
    """Set ``export_api_version`` / ``import_api_version`` of a cloud connector.

    Going to 1 (either setting) first computes ``rollback_plan``; with groups at risk nothing
    changes unless ``confirm``. Returns (the plan, whether the settings were changed)."""
    for value in (export_version, import_version):
        if value not in API_VERSIONS:
            raise ConfigurationError("API versions are 1 or 2")
    record = store.connectors.get(connector)
    if record.type != "cloud":
        raise ConfigurationError(f"connector {connector!r} is of type {record.type!r}, "
                                 "not cloud")
    settings = dict(record.settings or {})
    before = (int(settings.get("export_api_version", 2)),
              int(settings.get("import_api_version", 2)))
    down = 1 in (export_version, import_version) and before != (export_version, import_version)
    plan = rollback_plan(store, connector, limit) if down else []
    if plan and not confirm:
        return plan, False
    settings.update(export_api_version=export_version, import_api_version=import_version)
    with store.transaction():
        store.connectors.update(record.id, settings=settings)
        if before != (export_version, import_version):
            # The other version shows the directory differently (v1 leaves large groups out).
            store.connectors.set_required(record.id, full_import=True, full_sync=True)
        for group in plan:
            if group.direction == TO_CLOUD:
                _stage_delete(store, group)
        store.events.add(
            int(EventId.CONNECTOR_CHANGED), "warning" if plan else "information",
            f"connector {connector!r}: export API v{export_version}, import API "
            f"v{import_version}" + (f"; {len(plan)} large group(s) to be deleted" if plan
                                    else ""), connector_id=record.id)
    return plan, True


def service_v1_limit(store: Store, connector: str, workspace: str) -> int:
    """The cloud directory's own API v1 member limit (its ``/sync/ping``), so the plan matches
    what the service will refuse; 50,000 when the service cannot be reached."""
    from idsync.connectors import registry
    from idsync.errors import IdsyncError

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


def _stage_delete(store: Store, group: AtRiskGroup) -> None:
    """A pending delete the export sends. The link stays: the v1 full import that follows no
    longer returns the group, and the sync of that delete unlinks it and recomputes the
    metaverse object (its cloudSourceAnchor goes, so the default rule does not provision it
    again). Unlinking here would leave the metaverse object's cloud values in place."""
    store.exports.stage(PendingExport(group.cs_id, store.cs.get(group.cs_id).connector_id,
                                      "delete", None, {}, "pending", 0))
