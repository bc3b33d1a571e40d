"""Written-back copies: the groups group writeback wrote into its OU on-premises.

A copy is the cloud's group, not the directory's. The server that wrote it holds it by an
outbound link (Out to AD - Group Writeback); a server that does not hold the cloud group sees
the copy as an ordinary on-premises group. That is a v1 server (API v1 leaves the groups above
its limit out, so the copy of a large Microsoft 365 group is all it sees) or any server before
its cloud import. Projected by In from AD - Group Join, the copy became a synced group of its
own and the out-of-box rules staged its add to the cloud: a second group named ``Group_<id>``
beside the Microsoft 365 group. So the inbound pass never joins nor projects an object of the
writeback OU (``WritebackOU.holds``): it stays a disconnector until the writeback rules link it
by its DN (the reverse join), and an earlier projection is disconnected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from idsync.dn import normalize_dn, split_dn
from idsync.errors import IdsyncError
from idsync.model import CSObject
from idsync.store import Store

#: The settings key of the writeback configuration (``idsync.writeback.rules.SETTING``).
SETTING = "group_writeback"


@dataclass(frozen=True, slots=True)
class WritebackOU:
    connector_id: int
    connector: str
    #: the OU's comparison key, with the leading comma of a child's DN
    suffix: str

    def holds(self, cs: CSObject) -> bool:
        """Whether ``cs`` is an object of the writeback OU (a written-back copy)."""
        return (cs.connector_id == self.connector_id and bool(cs.dn)
                and normalize_dn(cs.dn).endswith(self.suffix))


def writeback_ou(store: Store) -> WritebackOU | None:
    """The writeback OU of this server, if group writeback is configured."""
    raw = store.settings.get(SETTING)
    if not raw or not raw.get("ou") or not raw.get("onprem"):
        return None
    try:
        record = store.connectors.get(str(raw["onprem"]))
    except IdsyncError:
        return None
    return WritebackOU(record.id, record.name, "," + normalize_dn(str(raw["ou"])))


class CopyNames:
    """Tells which cloud group a copy's DN names: ``CN=Group_<id>`` or ``CN=<displayName>_<last
    12 characters of the id>`` (``idsync.writeback.rules``)."""

    def __init__(self, cloud_ids: Iterable[str]) -> None:
        ids = [i for i in cloud_ids if i]
        self._by_name = {f"group_{i.lower()}": i for i in ids}
        self._by_tail = {i.lower()[-12:]: i for i in ids}

    def cloud_id(self, dn: str) -> str | None:
        rdns = split_dn(dn)
        if not rdns:
            return None
        value = rdns[0].partition("=")[2].strip().lower()
        return self._by_name.get(value) or self._by_tail.get(value.rpartition("_")[2])


def copies_of(store: Store, cloud_ids: Iterable[str]) -> dict[str, CSObject]:
    """cloud id -> the on-premises connector space object of its written-back copy, for the
    ids that have one."""
    ou = writeback_ou(store)
    names = CopyNames(cloud_ids)
    if ou is None:
        return {}
    out: dict[str, CSObject] = {}
    for cs in store.cs.search(ou.connector_id, object_type="group"):
        found = names.cloud_id(cs.dn) if ou.holds(cs) else None
        if found is not None:
            out[found] = cs
    return out
