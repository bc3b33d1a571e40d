"""Swing back: a staging server whose cloud connector is on sync API v1 made active again.

The reference: "If you need to transition back to your previous configuration, you can perform
a swing migration from the V2 server back to the V1 server. Since the V1 endpoint does not
support groups with over 50k members, any large group that was provisioned by Azure AD Connect
... will be subsequently deleted."

The v1 server cannot learn these groups from its imports: API v1 leaves groups above its limit
out (the v2 server made them, so the v1 server's connector space never held them). It asks the
cloud instead (``GET /sync/v1/large-groups``, the groups v1 leaves out) and keeps the synced ones
whose sourceAnchor is one of its own metaverse groups: the groups the sync provisioned from the
directories this server serves. A v1 server cannot tell a group the v2 server joined from one
it created; both come from these directories and are listed, named by their on-premises group,
before anything changes. Synced groups from other directories (no metaverse group here) and
cloud-born groups are left alone, and listed as such.

A cloud-born (Microsoft 365) group above the limit is not the sync's to delete in the cloud, but
its written-back copy on-premises is: the sync provisioned it "in on-prem AD". The v1 server
imported the copy (``writeback.copies``: a disconnector of the writeback OU, never projected
as its own group), found by the cloud id its name carries, and lists it as deleted on-premises.

On confirmation each delete is staged on a connector space like any other (cloud: the object
the v1 server holds for the group, else a disconnector made for it carrying the cloud id;
on-premises: the copy), so ``export preview`` shows it and the deletion limits count it. The
deletes carry no deprovisioning record, so the synchronizations that follow do not cancel them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from idsync.connectors import registry
from idsync.errors import ConfigurationError, IdsyncError
from idsync.largegroups.rollback import SOURCE_ANCHOR, stage_cloud_delete
from idsync.model import ConnectorRecord, CSObject, ExportKind, ExportState, PendingExport
from idsync.store import Store
from idsync.writeback.copies import copies_of


class SwingFate(StrEnum):
    DELETED = "deleted in the cloud (the sync provisioned it from this server's directories)"
    WRITTEN_BACK = "written back on-premises: deleted (the cloud group stays)"
    LEFT_ALONE = "left alone (not from this server's directories)"


@dataclass(frozen=True, slots=True)
class SwingGroup:
    name: str
    member_count: int
    connector: str
    cloud_id: str
    dn: str
    source_anchor: str | None
    fate: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def deleted(self) -> bool:
        return self.fate in (SwingFate.DELETED.value, SwingFate.WRITTEN_BACK.value)


def v1_cloud_connectors(store: Store) -> list[ConnectorRecord]:
    """Cloud connectors exporting or importing on API v1."""
    return [c for c in store.connectors.list() if c.type == "cloud" and 1 in (
        int((c.settings or {}).get("export_api_version", 2)),
        int((c.settings or {}).get("import_api_version", 2)))]


def swing_back_plan(store: Store, workspace: str) -> list[SwingGroup]:
    """The groups above the v1 limit in the clouds this server exports to on API v1 and what
    making it active does to each. Raises when a cloud cannot be asked."""
    records = v1_cloud_connectors(store)
    if not records:
        return []
    ours = _metaverse_anchors(store.mv.search(object_type="group"))
    out: list[SwingGroup] = []
    for record in records:
        cloud_born: dict[str, dict[str, Any]] = {}
        for g in _ask(record, workspace):
            anchor = g.get("source_anchor")
            if not g.get("sync_enabled") or not anchor:
                cloud_born[str(g["id"])] = g  # never the sync's to delete in the cloud
                continue
            fate = SwingFate.DELETED if anchor in ours else SwingFate.LEFT_ALONE
            out.append(SwingGroup(str(g.get("displayName") or g.get("dn") or g["id"]),
                                  int(g.get("member_count") or 0), record.name, str(g["id"]),
                                  str(g.get("dn") or ""), anchor, fate.value))
        for cloud_id, copy in copies_of(store, cloud_born).items():
            g = cloud_born[cloud_id]
            out.append(SwingGroup(str(g.get("displayName") or copy.dn),
                                  int(g.get("member_count") or 0), _connector_name(store, copy),
                                  cloud_id, copy.dn, None, SwingFate.WRITTEN_BACK.value))
    return sorted(out, key=lambda g: (g.connector, g.fate, g.name))


def stage_swing_back(store: Store, plan: Iterable[SwingGroup]) -> int:
    """Stage the cloud deletes of ``plan`` (inside the caller's transaction). Returns how many
    were staged."""
    staged = 0
    records = {c.name: c for c in store.connectors.list()}
    for group in plan:
        if not group.deleted:
            continue
        record = records[group.connector]
        if group.fate == SwingFate.WRITTEN_BACK.value:
            _stage_onprem_delete(store, record, group)
            staged += 1
            continue
        cs = _held(store, record, group)
        if cs is None:
            cs_id = store.cs.insert(record.id, anchor=group.cloud_id, dn=group.dn,
                                    object_type="group",
                                    attributes={"displayName": [group.name]})
        else:
            cs_id = cs.id
            if cs.anchor != group.cloud_id:
                # The v1 server's own object for the group (an add v1 refused): it is the
                # cloud object the v2 server made.
                store.cs.set_anchors([(group.cloud_id, cs.id)])
        stage_cloud_delete(store, cs_id)
        if cs is None and group.source_anchor:
            # The new object's export names the group by sourceAnchor too; the object itself
            # stays out of In from AAD's scope (no sourceAnchor attribute), so it joins nothing
            # before the delete is sent.
            pending = store.exports.get_many([cs_id], with_refs=False)[cs_id]
            pending.attributes = {SOURCE_ANCHOR: [group.source_anchor]}
            store.exports.stage(pending)
        staged += 1
    return staged


def _stage_onprem_delete(store: Store, record: ConnectorRecord, group: SwingGroup) -> None:
    """An ordinary pending delete on the written-back copy. It carries no deprovisioning
    record: the copy is a disconnector that no rule writes, so no synchronization restores
    it, and the import that follows the export removes it."""
    for cs in store.cs.search(record.id, dn=group.dn):
        store.exports.stage(PendingExport(cs_id=cs.id, connector_id=record.id,
                                          kind=ExportKind.DELETE, new_dn=None, attributes={},
                                          state=ExportState.PENDING, attempts=0))


def _connector_name(store: Store, cs: CSObject) -> str:
    return next(c.name for c in store.connectors.list() if c.id == cs.connector_id)


def _held(store: Store, record: ConnectorRecord, group: SwingGroup) -> CSObject | None:
    """The cloud connector space object of ``group`` on this server, if it has one: by the
    cloud id, else linked to the metaverse group of the same sourceAnchor."""
    by_anchor = store.cs.by_anchors(record.id, [group.cloud_id])
    if group.cloud_id in by_anchor:
        return by_anchor[group.cloud_id]
    if not group.source_anchor:
        return None
    mvs = [m for m in store.mv.search(object_type="group", attribute=SOURCE_ANCHOR,
                                      value=group.source_anchor)]
    for linked in store.cs.linked_to([m.id for m in mvs]):
        if linked.connector_id == record.id:
            return linked
    return None


def _metaverse_anchors(groups: Iterable[Any]) -> set[str]:
    return {str(v) for mv in groups for v in mv.attributes.get(SOURCE_ANCHOR, [])}


def _ask(record: ConnectorRecord, workspace: str) -> list[dict[str, Any]]:
    def refused(exc: Exception) -> ConfigurationError:
        return ConfigurationError(
            f"cannot ask cloud connector {record.name!r} which large groups it holds ({exc}); "
            "staging mode stays on: try again once the cloud answers")

    try:
        instance = registry.create(record, workspace)
    except IdsyncError as exc:
        raise refused(exc) from None
    try:
        # Only the cloud connector answers large_groups (not in the Connector protocol).
        return instance.large_groups()  # type: ignore[attr-defined]
    except IdsyncError as exc:
        raise refused(exc) from None
    finally:
        instance.close()
