"""Directory objects: users, groups and contacts of a tenant, their attributes one JSON
document per row. Deleting one also ends its memberships, its uniqueness claims and its
quarantined values, and logs the delete (with its name, for deltas that mention it later)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from clouddir.storage.claims import ClaimRepository
from clouddir.storage.memberships import MembershipRepository
from clouddir.storage.quarantine import QuarantineRepository
from clouddir.storage.quotas import object_weight
from clouddir.storage.records import OBJECT_DELETED, DirObject

_OBJECT_COLUMNS = ("seq, tenant_id, id, object_type, dn, source_anchor, sync_enabled, attributes, "
                   "member_count")
# The source of authority (clouddir.storage.authority): one primary-key probe per row.
_OBJECT_COLUMNS += (", EXISTS (SELECT 1 FROM cloud_managed c WHERE c.object_seq = objects.seq)"
                    " AS cloud_managed")


def _row_to_object(row: Sequence[Any]) -> DirObject:
    return DirObject(
        seq=row[0], tenant_id=row[1], id=row[2], object_type=row[3], dn=row[4],
        source_anchor=row[5], sync_enabled=bool(row[6]), attributes=json.loads(row[7]),
        member_count=row[8], stored_bytes=object_weight(row[7], row[4]),
        cloud_managed=bool(row[9]))


class ObjectRepository(MembershipRepository, ClaimRepository, QuarantineRepository):
    # --- look-ahead for a batch --------------------------------------------------------------

    def prefetch(self, tenant_id: str, anchors: Iterable[str],
                 unique: Iterable[tuple[str, str]], new_objects: int = 0) -> None:
        """Inside ``transaction(tenant_id)``: learn in two queries which of ``anchors`` no
        object has and who holds each (kind, value) of ``unique``, so that ``find_by_anchor``
        and ``unique_holder`` answer those without a round trip each (an export batch asks
        five or six per object). Exact because the tenant's writers take turns and this
        transaction's own writes keep the answers up to date; forgotten when a savepoint
        rolls back or the unit ends. ``new_objects``: how many objects the batch may create;
        a backend may hand out their seqs now (``_allocate_seqs``), so that creating one
        needs no answer from the database."""
        self._writing(tenant_id)
        wanted = list(dict.fromkeys(a for a in anchors if a))
        present = {r[0] for r in self._rows_in(
            "SELECT source_anchor FROM objects WHERE tenant_id = ? AND source_anchor IN ({ids})",
            wanted, (tenant_id,))}
        self._prefetch_holders(tenant_id, unique)
        state = self._unit_state
        state.absent_anchors = {a for a in wanted if a not in present}
        state.seqs = self._allocate_seqs(new_objects)[::-1]  # pop() takes the lowest

    # --- objects -------------------------------------------------------------------------------

    def get(self, tenant_id: str, object_id: str) -> DirObject | None:
        row = self._one(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND id = ?",
                        (tenant_id, object_id))
        return _row_to_object(row) if row else None

    def get_by_seq(self, tenant_id: str, seq: int) -> DirObject | None:
        row = self._one(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND seq = ?",
                        (tenant_id, seq))
        return _row_to_object(row) if row else None

    def get_many_by_seq(self, tenant_id: str, seqs: Sequence[int]) -> dict[int, DirObject]:
        rows = self._rows_in(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? "
                             "AND seq IN ({ids})", dict.fromkeys(seqs), (tenant_id,))
        return {row[0]: _row_to_object(row) for row in rows}

    def find_by_anchor(self, tenant_id: str, source_anchor: str) -> DirObject | None:
        known = self._prefetched(tenant_id)
        if known and known.absent_anchors and source_anchor in known.absent_anchors:
            return None
        row = self._one(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND "
                        "source_anchor = ?", (tenant_id, source_anchor))
        return _row_to_object(row) if row else None

    def page_objects(self, tenant_id: str, after_seq: int, limit: int) -> list[DirObject]:
        rows = self._rows(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND "
                          "seq > ? ORDER BY seq LIMIT ?", (tenant_id, after_seq, limit))
        return [_row_to_object(r) for r in rows]

    def groups_above(self, tenant_id: str, member_count: int) -> list[DirObject]:
        """The tenant's groups with more than ``member_count`` members (those API v1 cannot
        hold), in creation order."""
        rows = self._rows(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND "
                          "object_type = 'group' AND member_count > ? ORDER BY seq",
                          (tenant_id, member_count))
        return [_row_to_object(r) for r in rows]

    def list_objects(self, tenant_id: str, object_type: str, after_seq: int,
                     limit: int) -> list[DirObject]:
        rows = self._rows(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE tenant_id = ? AND "
                          "object_type = ? AND seq > ? ORDER BY seq LIMIT ?",
                          (tenant_id, object_type, after_seq, limit))
        return [_row_to_object(r) for r in rows]

    def resolve_ids(self, tenant_id: str, ids: Iterable[str]) -> dict[str, int]:
        """Object id -> seq for the ids the tenant has."""
        rows = self._rows_in("SELECT id, seq FROM objects WHERE tenant_id = ? AND id IN ({ids})",
                             dict.fromkeys(ids), (tenant_id,))
        return dict(rows)

    def resolve_dns(self, tenant_id: str, dns: Iterable[str]) -> dict[str, int]:
        """DN (case-insensitive) -> seq for the DNs the tenant has."""
        rows = self._rows_in("SELECT lower(dn), seq FROM objects WHERE tenant_id = ? "
                             "AND lower(dn) IN ({ids})", dict.fromkeys(dn.lower() for dn in dns),
                             (tenant_id,))
        return dict(rows)

    def _live_or_deleted(self, tenant_id: str, seqs: Iterable[int], live: str,
                         deleted: str) -> dict[int, tuple[Any, ...]]:
        """seq -> the ``live`` columns of live objects and, failing that, the ``deleted``
        columns of their delete record in the change log."""
        wanted = list(dict.fromkeys(seqs))
        found = {r[0]: r[1:] for r in self._rows_in(
            f"SELECT seq, {live} FROM objects WHERE tenant_id = ? AND seq IN ({{ids}})",
            wanted, (tenant_id,))}
        found.update(self._deleted_rows(tenant_id, [s for s in wanted if s not in found],
                                        deleted))
        return found

    def dns_of(self, tenant_id: str, seqs: Iterable[int]) -> dict[int, str]:
        """seq -> DN, for live objects and, failing that, from their delete record."""
        return {seq: row[0] for seq, row in
                self._live_or_deleted(tenant_id, seqs, "dn", "dn").items()}

    def refs_of(self, tenant_id: str, seqs: Iterable[int]) -> dict[int, tuple[str, str]]:
        """seq -> (id, object_type), for live objects and, failing that, deleted ones."""
        return {seq: (row[0], row[1]) for seq, row in self._live_or_deleted(
            tenant_id, seqs, "id, object_type", "object_id, object_type").items()}

    def insert(self, obj: DirObject) -> DirObject:
        self._writing(obj.tenant_id)
        obj.id = obj.id or str(uuid.uuid4())
        values = (obj.tenant_id, obj.id, obj.object_type, obj.dn, obj.source_anchor,
                  int(obj.sync_enabled), json.dumps(obj.attributes))
        self._object_written(obj, values[-1], new=True)
        known = self._prefetched(obj.tenant_id)
        if known and known.seqs:
            obj.seq = known.seqs.pop()
            self._run("INSERT INTO objects (seq, tenant_id, id, object_type, dn, source_anchor, "
                      "sync_enabled, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      (obj.seq, *values))
        else:
            row = self._one(
                "INSERT INTO objects (tenant_id, id, object_type, dn, source_anchor, "
                "sync_enabled, attributes) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq", values)
            assert row is not None
            obj.seq = row[0]
        self._anchor_taken(obj)
        return obj

    def _anchor_taken(self, obj: DirObject) -> None:
        known = self._prefetched(obj.tenant_id)
        if known and known.absent_anchors is not None:
            known.absent_anchors.discard(obj.source_anchor)

    def update(self, obj: DirObject) -> None:
        self._writing(obj.tenant_id)
        self._anchor_taken(obj)
        self._object_written(obj, text := json.dumps(obj.attributes), new=False)
        self._run("UPDATE objects SET dn = ?, source_anchor = ?, sync_enabled = ?, "
                  "attributes = ? WHERE tenant_id = ? AND seq = ?",
                  (obj.dn, obj.source_anchor, int(obj.sync_enabled), text, obj.tenant_id, obj.seq))

    def delete(self, obj: DirObject) -> None:
        """Remove the object, its edges on both sides (logging the removals from other groups)
        and the unique values it holds."""
        self._writing(obj.tenant_id)
        self._object_deleted(obj)
        self._drop_edges_of(obj)
        self._release_all_of(obj.tenant_id, obj.seq)
        self._drop_quarantine_of(obj.seq)
        self._run("DELETE FROM cloud_managed WHERE object_seq = ?", (obj.seq,))
        self._run("DELETE FROM objects WHERE seq = ?", (obj.seq,))
        self.log(obj.tenant_id, obj.seq, OBJECT_DELETED, object_id=obj.id,
                 object_type=obj.object_type, dn=obj.dn)
