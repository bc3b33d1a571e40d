"""Pending exports: what the next export run sends to a connected directory.

The attribute-level delta is one JSON document (attributes replaced wholesale, ``[]`` removes
one); reference values are value-level adds and removes, one row per value. ``state`` is
``pending`` until the export run sends it, then ``exported`` until an import confirms it; an
import that shows the change missing puts it back to ``pending`` so it is sent again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from idsync import values
from idsync.model import ExportKind, ExportState, PendingExport
from idsync.store.authority import not_held
from idsync.store.database import BaseDatabase, utcnow

#: ``pending_export_refs.op``: a reference value the export adds or removes.
REF_ADD = "add"
REF_REMOVE = "remove"

KIND_ORDER = {ExportKind.ADD: 0, ExportKind.MODIFY: 1, ExportKind.RENAME: 2, ExportKind.DELETE: 3}


class PendingExportRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def get_many(self, cs_ids: Sequence[int], *, with_refs: bool = True
                 ) -> dict[int, PendingExport]:
        out: dict[int, PendingExport] = {}
        for row in self.db.query_in(
                "SELECT cs_id, connector_id, kind, new_dn, attributes, state, attempts "
                "FROM pending_exports WHERE cs_id IN ({ids})", list(cs_ids)):
            out[row[0]] = PendingExport(
                cs_id=row[0], connector_id=row[1], kind=ExportKind(row[2]), new_dn=row[3],
                attributes=values.loads_attributes(row[4]), state=ExportState(row[5]),
                attempts=row[6])
        if with_refs and out:
            for cs_id, attr, target, op in self.db.query_in(
                    "SELECT cs_id, attr, target_id, op FROM pending_export_refs "
                    "WHERE cs_id IN ({ids})", list(out)):
                pe = out[cs_id]
                bucket = pe.ref_adds if op == REF_ADD else pe.ref_removes
                bucket.setdefault(attr, set()).add(target)
        return out

    def ref_counts_of(self, cs_ids: Sequence[int]) -> dict[int, dict[tuple[str, str], int]]:
        """Per object: (attribute, 'add' | 'remove') -> how many reference values its pending
        export changes (a page that lists the first few reads them apart, by keyset)."""
        out: dict[int, dict[tuple[str, str], int]] = {}
        for cs_id, attr, op, n in self.db.query_in(
                "SELECT cs_id, attr, op, count(*) FROM pending_export_refs "
                "WHERE cs_id IN ({ids}) GROUP BY cs_id, attr, op", list(cs_ids)):
            out.setdefault(cs_id, {})[(attr, op)] = int(n)
        return out

    def stage(self, pe: PendingExport) -> None:
        """Replace the pending export of an object."""
        self.stage_many([pe])

    def stage_many(self, pes: Sequence[PendingExport]) -> None:
        """``stage`` for a batch: three statements for the whole batch instead of three per
        object (each a round trip on PostgreSQL)."""
        if not pes:
            return
        now = utcnow()
        self.db.insert_rows(
            "pending_exports",
            ("cs_id", "connector_id", "kind", "new_dn", "attributes", "state", "staged_at",
             "attempts"),
            ("INTEGER", "INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "INTEGER"),
            [(pe.cs_id, pe.connector_id, pe.kind, pe.new_dn,
              values.dumps_attributes(pe.attributes), pe.state, now, pe.attempts) for pe in pes],
            "ON CONFLICT (cs_id) DO UPDATE SET kind = excluded.kind, new_dn = excluded.new_dn, "
            "attributes = excluded.attributes, state = excluded.state, "
            "staged_at = excluded.staged_at, attempts = excluded.attempts")
        self.db.execute_in("DELETE FROM pending_export_refs WHERE cs_id IN ({ids})",
                           [pe.cs_id for pe in pes])
        rows = [(pe.cs_id, a, t, REF_ADD) for pe in pes for a, ts in pe.ref_adds.items()
                for t in ts]
        rows += [(pe.cs_id, a, t, REF_REMOVE) for pe in pes for a, ts in pe.ref_removes.items()
                 for t in ts]
        self.db.insert_rows("pending_export_refs", ("cs_id", "attr", "target_id", "op"),
                            ("INTEGER", "TEXT", "INTEGER", "TEXT"), rows)

    def drop(self, cs_id: int) -> None:
        self.db.execute("DELETE FROM pending_exports WHERE cs_id = ?", (cs_id,))
        self.db.execute("DELETE FROM pending_export_refs WHERE cs_id = ?", (cs_id,))

    def drop_many(self, cs_ids: Sequence[int]) -> None:
        """``drop`` for many objects (an import confirming a whole batch of exports)."""
        if cs_ids:
            self.db.execute_in("DELETE FROM pending_exports WHERE cs_id IN ({ids})", cs_ids)
            self.db.execute_in("DELETE FROM pending_export_refs WHERE cs_id IN ({ids})",
                               cs_ids)

    def set_state(self, cs_ids: Sequence[int], state: ExportState) -> None:
        self.db.execute_in("UPDATE pending_exports SET state = ? WHERE cs_id IN ({ids})",
                           list(cs_ids), (state,))

    def failed(self, cs_id: int) -> None:
        self.db.execute("UPDATE pending_exports SET attempts = attempts + 1 WHERE cs_id = ?",
                        (cs_id,))

    def page(self, connector_id: int, kind: ExportKind, after: int, limit: int, *,
             with_refs: bool | None = None) -> list[int]:
        """Pending (unsent) exports of one kind, in id order. ``with_refs`` False / True
        keeps only those without / with reference values, so an export run can add every
        object before the objects that reference them."""
        refs = ""
        if with_refs is not None:
            refs = ("AND " + ("" if with_refs else "NOT ") + "EXISTS (SELECT 1 FROM "
                    "pending_export_refs r WHERE r.cs_id = pending_exports.cs_id)")
        return [r[0] for r in self.db.query(
            "SELECT cs_id FROM pending_exports WHERE connector_id = ? "
            f"AND state = '{ExportState.PENDING}' "
            f"AND kind = ? AND cs_id > ? {refs} AND {not_held()} ORDER BY cs_id LIMIT ?",
            (connector_id, kind, after, limit))]

    def ready_adds(self, connector_id: int, after: int, limit: int) -> list[int]:
        """Pending adds whose every referenced object already has an anchor (exists in the
        directory), in id order: the next round of adds that can name all their targets."""
        return [r[0] for r in self.db.query(
            "SELECT p.cs_id FROM pending_exports p WHERE p.connector_id = ? "
            f"AND p.state = '{ExportState.PENDING}' AND p.kind = '{ExportKind.ADD}' "
            "AND p.cs_id > ? AND NOT EXISTS ("
            "SELECT 1 FROM pending_export_refs r JOIN cs_objects t ON t.id = r.target_id "
            f"WHERE r.cs_id = p.cs_id AND r.op = '{REF_ADD}' AND t.anchor IS NULL) "
            f"AND {not_held('p')} "
            "ORDER BY p.cs_id LIMIT ?", (connector_id, after, limit))]

    def freeing(self, connector_id: int, after: int, limit: int) -> list[int]:
        """Unsent deletes and renames of objects whose DN a pending add of another object
        wants (a DN freed and taken again in one cycle), in id order: on a directory where
        the DN is the identity they go before the adds."""
        return [r[0] for r in self.db.query(
            "SELECT p.cs_id FROM pending_exports p JOIN cs_objects o ON o.id = p.cs_id "
            f"WHERE p.connector_id = ? AND p.state = '{ExportState.PENDING}' "
            f"AND p.kind IN ('{ExportKind.DELETE}', '{ExportKind.RENAME}') AND p.cs_id > ? "
            "AND EXISTS (SELECT 1 FROM cs_objects n JOIN pending_exports a ON a.cs_id = n.id "
            "WHERE n.connector_id = o.connector_id AND n.dn_norm = o.dn_norm "
            f"AND n.id <> o.id AND a.kind = '{ExportKind.ADD}' "
            f"AND a.state = '{ExportState.PENDING}') AND {not_held('p')} "
            "ORDER BY p.cs_id LIMIT ?", (connector_id, after, limit))]

    def count(self, connector_id: int, *, kind: ExportKind | None = None,
              state: ExportState | None = None) -> int:
        sql = "SELECT count(*) FROM pending_exports WHERE connector_id = ?"
        params: list[Any] = [connector_id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        if state:
            sql += " AND state = ?"
            params.append(state)
        return self.db.scalar(sql, params)

    def counts_by_kind(self, connector_id: int) -> dict[str, int]:
        return dict(self.db.query(
            "SELECT kind, count(*) FROM pending_exports WHERE connector_id = ? GROUP BY kind",
            (connector_id,)))

    def ref_counts(self, cs_id: int) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for attr, op, n in self.db.query(
                "SELECT attr, op, count(*) FROM pending_export_refs WHERE cs_id = ? "
                "GROUP BY attr, op", (cs_id,)):
            out[attr][op] = n
        return out
