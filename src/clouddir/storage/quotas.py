"""Quotas: a tenant's own object quota, and the bytes its objects and memberships take.

The object quota (``tenant_quotas``; the rule is clouddir.quota's) times the object size bound
(``Limits.max_object_bytes``) still lets a tenant hold 300,000 x 1 MiB; the storage quota
bounds the bytes themselves. A tenant's *weight* is the sum over its objects of the stored
attribute JSON, the DN and a fixed ``OBJECT_BYTES`` for the row and its index entries, plus
``MEMBER_BYTES`` per membership edge (a 250,000-member group counts, although its members are
rows of their own).

The weight is kept incrementally in ``tenant_storage.used_bytes``: the store's write methods
(insert, update, delete, member adds and removes) call the hooks here, which adjust it in the
same transaction as the write (at its commit, see below), so every write path (sync API v1/v2,
Graph face, admin) counts without knowing about it. A write that grows the tenant past its
quota raises ``StorageQuotaExceeded`` before it touches a row; shrinking writes and deletes
always go on.

The quota is read once per unit of work, at its first write (the tenant's writers take turns,
so it holds for the unit), and kept in the unit's state; a savepoint rollback rewinds it. A
tenant without a row (a database from before, or a new tenant) is recounted exactly at that
first read; ``recount`` does the same on demand (``clouddir tenant quota TENANT_ID
--recount``).
"""

from __future__ import annotations

from dataclasses import dataclass

from clouddir.errors import ChangeRefused
from clouddir.settings import Limits
from clouddir.storage.database import Database
from clouddir.storage.records import DirObject

#: The row of an object beyond its attributes and DN (ids, anchor, flags, index entries).
OBJECT_BYTES = 200
#: One membership edge (two integers, its primary key and reverse index entries).
MEMBER_BYTES = 40
#: An object row's weight in SQL; the same sum as ``object_weight`` (the stored JSON is
#: ASCII, json.dumps escapes the rest; a DN's length is counted in characters on both sides).
WEIGHT_SQL = f"length(attributes) + coalesce(length(dn), 0) + {OBJECT_BYTES}"

#: Entra's code for any quota (clouddir.quota's too).
QUOTA_EXCEEDED = "Directory_QuotaExceeded"
MESSAGE = ("The storage quota for the tenant has been exceeded: this change needs {need} more "
           "bytes, {used} of {quota} bytes are used. Ask the administrator to raise the "
           "tenant's storage quota (clouddir tenant quota TENANT_ID --max-bytes N) or delete "
           "objects or members to free space.")


class StorageQuotaExceeded(ChangeRefused):
    """A change refused alone (sync API) or with Directory_QuotaExceeded (Graph)."""

    def __init__(self, need: int, used: int, quota: int) -> None:
        super().__init__(QUOTA_EXCEEDED, MESSAGE.format(need=need, used=used, quota=quota))
        self.used = used
        self.quota = quota


def object_weight(attributes_json: str, dn: str | None) -> int:
    return len(attributes_json) + len(dn or "") + OBJECT_BYTES


@dataclass(slots=True)
class StorageQuota:
    """The unit's view: the quota, the bytes used with the unit's writes so far, and what of
    that the counter row has not been told yet (written once, at the unit's commit)."""

    quota: int
    used: int
    pending: int = 0

    def grow(self, delta: int) -> None:
        """Before a write that adds ``delta`` bytes: refuse it past the quota."""
        if delta > 0 and self.used + delta > self.quota:
            raise StorageQuotaExceeded(delta, self.used, self.quota)
        self.used += delta
        self.pending += delta


class QuotaRepository(Database):
    #: The server's default storage quota (``Service`` sets it from
    #: ``Limits.max_tenant_bytes``); None: ``Limits``' default.
    default_max_bytes: int | None = None

    # --- the object quota --------------------------------------------------------------------

    def set_max_objects(self, tenant_id: str, max_objects: int | None) -> None:
        """A tenant's own object quota; None goes back to the server's default."""
        with self.transaction():
            self._run("DELETE FROM tenant_quotas WHERE tenant_id = ?", (tenant_id,))
            if max_objects is not None:
                self._run("INSERT INTO tenant_quotas (tenant_id, max_objects) VALUES (?, ?)",
                          (tenant_id, max_objects))

    def tenant_max_objects(self, tenant_id: str) -> int | None:
        row = self._one("SELECT max_objects FROM tenant_quotas WHERE tenant_id = ?",
                        (tenant_id,))
        return int(row[0]) if row else None

    def object_count(self, tenant_id: str) -> int:
        row = self._one("SELECT COUNT(*) FROM objects WHERE tenant_id = ?", (tenant_id,))
        return int(row[0]) if row else 0

    # --- the storage quota: reading and setting ----------------------------------------------

    def recount_bytes(self, tenant_id: str) -> int:
        """The exact weight from the rows, written as the tenant's counter."""
        with self.transaction(tenant_id):
            row = self._one(f"SELECT coalesce(sum({WEIGHT_SQL}), 0) FROM objects "
                            "WHERE tenant_id = ?", (tenant_id,))
            edges = self._one("SELECT count(*) FROM members m JOIN objects o ON o.seq = "
                              "m.group_seq WHERE o.tenant_id = ?", (tenant_id,))
            used = int(row[0] if row else 0) + MEMBER_BYTES * int(edges[0] if edges else 0)
            self._run("INSERT INTO tenant_storage (tenant_id, used_bytes) VALUES (?, ?) "
                      "ON CONFLICT (tenant_id) DO UPDATE SET used_bytes = excluded.used_bytes",
                      (tenant_id, used))
        return used

    def storage_usage(self, tenant_id: str) -> tuple[int | None, int | None]:
        """(bytes used or None if never counted, the tenant's own quota or None)."""
        row = self._one("SELECT used_bytes, max_bytes FROM tenant_storage WHERE tenant_id = ?",
                        (tenant_id,))
        if row is None:
            return None, None
        return int(row[0]), (int(row[1]) if row[1] is not None else None)

    def set_max_bytes(self, tenant_id: str, max_bytes: int | None) -> None:
        """A tenant's own storage quota; None goes back to the server's default."""
        with self.transaction(tenant_id):
            if self.storage_usage(tenant_id)[0] is None:
                self.recount_bytes(tenant_id)
            self._run("UPDATE tenant_storage SET max_bytes = ? WHERE tenant_id = ?",
                      (max_bytes, tenant_id))

    def _storage_quota(self, tenant_id: str) -> StorageQuota:
        state = self._unit_state
        if state.storage is None:
            used, own = self.storage_usage(tenant_id)
            if used is None:
                used = self.recount_bytes(tenant_id)
            default = self.default_max_bytes
            if default is None:
                default = Limits().max_tenant_bytes
            state.storage = StorageQuota(own if own is not None else default, used)
        quota: StorageQuota = state.storage
        return quota

    # --- the write methods' hooks (inside the tenant's write unit) ---------------------------
    #
    # Creates, updates and member changes add to the unit's pending delta, written by one
    # UPDATE at commit: a counter row updated once per write would pile up row versions on
    # PostgreSQL (every UPDATE of one row in one transaction is a new version the next has to
    # step over), which made a 500-object batch 60 % slower. A delete writes its own share at
    # once (the row's weight and its edges on both sides, as stored). A savepoint's rollback
    # rewinds the delta with it.

    def _object_written(self, obj: DirObject, attributes_json: str, new: bool) -> None:
        """Before inserting (``new``) or rewriting ``obj`` with ``attributes_json``. ``obj``
        was read from its row or inserted in this unit, so ``stored_bytes`` is the row's
        weight."""
        weight = object_weight(attributes_json, obj.dn)
        self._storage_quota(obj.tenant_id).grow(weight - (0 if new else obj.stored_bytes))
        obj.stored_bytes = weight

    def _object_deleted(self, obj: DirObject) -> None:
        """Before deleting ``obj`` and its edges on both sides."""
        self._storage_quota(obj.tenant_id).used -= obj.stored_bytes
        self._run(f"UPDATE tenant_storage SET used_bytes = used_bytes - (SELECT {WEIGHT_SQL} "
                  f"FROM objects WHERE seq = ?) - {MEMBER_BYTES} * (SELECT count(*) FROM "
                  "members WHERE group_seq = ? OR member_seq = ?) WHERE tenant_id = ?",
                  (obj.seq, obj.seq, obj.seq, obj.tenant_id))

    def _members_changed(self, tenant_id: str, edges: int) -> None:
        """Before adding (``edges`` > 0) or removing edges that are (not) there."""
        self._storage_quota(tenant_id).grow(MEMBER_BYTES * edges)

    def _committing(self) -> None:
        """At the unit's commit: the pending delta into the counter row."""
        state = self._unit_state
        quota: StorageQuota | None = state.storage
        if quota is not None and quota.pending and state.tenant is not None:
            self._run("UPDATE tenant_storage SET used_bytes = used_bytes + ? "
                      "WHERE tenant_id = ?", (quota.pending, state.tenant))
            quota.pending = 0

    def _savepoint_mark(self) -> tuple[int, int] | None:
        """At a savepoint: where the unit's count stands."""
        quota: StorageQuota | None = self._unit_state.storage
        return None if quota is None else (quota.used, quota.pending)

    def _savepoint_rewind(self, mark: tuple[int, int] | None) -> None:
        """At a savepoint's rollback: back to the mark (None: read again when needed)."""
        state = self._unit_state
        if mark is None:
            state.storage = None
        else:
            state.storage.used, state.storage.pending = mark


# The functions the CLI and tests called before the quotas became the store's methods.

def usage(store: QuotaRepository, tenant_id: str) -> tuple[int | None, int | None]:
    return store.storage_usage(tenant_id)


def recount(store: QuotaRepository, tenant_id: str) -> int:
    return store.recount_bytes(tenant_id)


def set_max_bytes(store: QuotaRepository, tenant_id: str, max_bytes: int | None) -> None:
    store.set_max_bytes(tenant_id, max_bytes)
