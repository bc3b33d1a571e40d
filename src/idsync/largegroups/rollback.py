"""The groups above the API v1 member limit that exist, or will exist, in the cloud because of
idsync, and what the rollback to API v1 does to each, listed before anything changes.

The reference: "When switching back from the V2 to V1 endpoints, groups synced with more than
50k members will be deleted after a full sync is run, for both AD groups provisioned to Azure
AD and Microsoft 365 unified groups provisioned to AD." Provisioned means created by the sync:
an object linked by an outbound Provision rule gets a delete when it is deprovisioned, an
object the sync joined becomes a disconnector (the functional reference, "Deprovisioning").
So, per cloud group above the limit:

* provisioned by idsync, export confirmed, sent (awaiting the import that confirms it) or only
  staged: deleted in the cloud. A staged add is replaced by a delete that names the group by
  its sourceAnchor, so an add whose answer was lost (the group exists, idsync never learnt its
  id) is deleted too, and one never sent deletes nothing;
* joined (it was in the cloud before idsync linked it): not deleted; the v1 full import no
  longer shows it, so it becomes a disconnector and stays in the cloud as it is, no longer
  updated, until its on-premises group is under the limit and idsync joins it again;
* a cloud-born group written back on-premises: the written-back group is deleted on-premises
  (the engine's own path: the v1 import leaves the group out, the sync stages the delete).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from idsync.errors import ConfigurationError
from idsync.model import (
    CSObject,
    Direction,
    ExportKind,
    ExportState,
    LinkType,
    PendingExport,
)
from idsync.store import Store
from idsync.store.large_groups import GroupSize, linked_group_sizes

#: The sync API v1 member limit (the cloud directory refuses larger groups under v1).
V1_MEMBER_LIMIT = 50_000
TO_CLOUD = "on-prem -> cloud"
TO_ONPREM = "cloud -> on-prem (writeback)"
SOURCE_ANCHOR = "sourceAnchor"


class GroupState(StrEnum):
    """Where idsync's hold on a cloud group stands."""

    CONFIRMED = "confirmed"  # provisioned, and an import showed it
    SENT = "sent"  # provisioned, the add sent, no import has confirmed it yet
    STAGED = "staged"  # provisioned, the add waits for the next export
    JOINED = "joined"  # in the cloud before idsync linked it
    WRITTEN_BACK = "written back"  # cloud-born, written back on-premises by idsync


class Fate(StrEnum):
    DELETED = "deleted in the cloud"
    ADD_CANCELLED = ("add cancelled; deleted in the cloud if an earlier send reached it "
                     "(by sourceAnchor)")
    DISCONNECTED = ("not deleted (idsync did not create it): disconnected, it stays in the "
                    "cloud as it is and on-premises changes no longer reach it; idsync joins "
                    "it again once its on-premises group is under the limit")
    DELETED_ON_PREMISES = "written-back group deleted on-premises"


@dataclass(frozen=True, slots=True)
class AtRiskGroup:
    name: str
    member_count: int
    direction: str
    #: the connector space object the change is staged on (cloud or on-premises)
    connector: str
    cs_id: int
    dn: str
    state: str = GroupState.CONFIRMED.value
    fate: str = Fate.DELETED.value

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def deleted_in_cloud(self) -> bool:
        return self.fate in (Fate.DELETED.value, Fate.ADD_CANCELLED.value)


def rollback_plan(store: Store, cloud: str, limit: int = V1_MEMBER_LIMIT) -> list[AtRiskGroup]:
    """Every group above ``limit`` members that the cloud holds or will hold because of idsync
    (counted in the cloud connector space, pending exports included), with its fate."""
    record = store.connectors.get(cloud)
    if record.type != "cloud":
        raise ConfigurationError(f"connector {cloud!r} is not a cloud connector")
    sizes = {s.cs_id: s for s in linked_group_sizes(store.db, record.id, limit)}
    objects = store.cs.by_ids(list(sizes))
    mvs = store.mv.by_ids([o.mv_id for o in objects.values() if o.mv_id is not None])
    names = {c.id: c.name for c in store.connectors.list()}
    out: list[AtRiskGroup] = []
    for cs_id, size in sizes.items():
        cs = objects[cs_id]
        mv = mvs.get(cs.mv_id) if cs.mv_id is not None else None
        name = str(((mv.attributes if mv else {}).get("displayName")
                    or cs.attributes.get("displayName") or [cs.dn])[0])
        if cs.link_direction == Direction.OUTBOUND and cs.link_type == LinkType.PROVISION:
            state = _state(cs, size)
            fate = Fate.ADD_CANCELLED if state is GroupState.STAGED else Fate.DELETED
            out.append(AtRiskGroup(name, size.most, TO_CLOUD, cloud, cs.id, cs.dn,
                                   state.value, fate.value))
            continue
        linked_to_mv = store.cs.linked_to([cs.mv_id]) if cs.mv_id is not None else []
        written_back = [o for o in linked_to_mv
                        if o.connector_id != record.id and o.link_direction == Direction.OUTBOUND
                        and o.link_type == LinkType.PROVISION and o.anchor is not None]
        for linked in written_back:
            out.append(AtRiskGroup(name, size.most, TO_ONPREM, names[linked.connector_id],
                                   linked.id, linked.dn, GroupState.WRITTEN_BACK.value,
                                   Fate.DELETED_ON_PREMISES.value))
        if not written_back and cs.attributes.get(SOURCE_ANCHOR):
            # A synced group idsync joined: it exports to it, so it is idsync's to list.
            out.append(AtRiskGroup(name, size.most, TO_CLOUD, cloud, cs.id, cs.dn,
                                   GroupState.JOINED.value, Fate.DISCONNECTED.value))
    return sorted(out, key=lambda g: (g.direction, g.name))


def _state(cs: CSObject, size: GroupSize) -> GroupState:
    if cs.anchor is None:
        return GroupState.STAGED
    if size.export_kind == ExportKind.ADD:
        return GroupState.SENT
    return GroupState.CONFIRMED


def stage_rollback(store: Store, plan: list[AtRiskGroup]) -> int:
    """Stage the cloud deletes of ``plan`` (inside the caller's transaction); the export sends
    them and the deletion threshold counts them. Returns how many were staged."""
    staged = 0
    for group in plan:
        if group.deleted_in_cloud:
            stage_cloud_delete(store, group.cs_id)
            staged += 1
    return staged


def stage_cloud_delete(store: Store, cs_id: int) -> None:
    """A pending delete on a cloud object, carrying its sourceAnchor so the cloud finds it even
    without its id (an add whose answer was lost). The link stays: the v1 full import that
    follows no longer returns the group, and the sync of that delete unlinks it and recomputes
    the metaverse object (its cloudSourceAnchor goes, so the default rule does not provision it
    again). Unlinking here would leave the metaverse object's cloud values in place."""
    cs = store.cs.get(cs_id)
    if cs is None:
        return
    pending = store.exports.get_many([cs_id], with_refs=False).get(cs_id)
    anchor = ((pending.attributes if pending else {}).get(SOURCE_ANCHOR)
              or cs.attributes.get(SOURCE_ANCHOR))
    attributes = {SOURCE_ANCHOR: list(anchor)} if anchor else {}
    store.exports.stage(PendingExport(cs_id=cs_id, connector_id=cs.connector_id,
                                      kind=ExportKind.DELETE, new_dn=None, attributes=attributes,
                                      state=ExportState.PENDING, attempts=0))
