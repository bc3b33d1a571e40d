"""Deprovisioned objects: what a connector space object with a staged delete was linked to.

Outbound deprovisioning unlinks an object it provisioned and stages its delete. The row kept
here (migration 0006) names the metaverse object it left and the source objects (connector,
anchor) behind that metaverse object, so the synchronization that finds the delete's cause
gone can link the same object back (``idsync.engine.reconciliation``). A row only counts while
its object holds an unsent delete: every read joins ``pending_exports``, so a row whose delete
was exported, confirmed or discarded is inert, and ``forget_spent`` drops it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from idsync.model import ExportKind, ExportState
from idsync.store.database import BaseDatabase, utcnow

#: An unsent delete: staged (``pending``) or held by a failing rule; one the export run has
#: sent (``exported``) cannot be taken back.
_UNSENT_DELETE = (f"JOIN pending_exports p ON p.cs_id = d.cs_id "
                  f"AND p.kind = '{ExportKind.DELETE}' AND p.state <> '{ExportState.EXPORTED}'")
#: ... and the very delete deprovisioning staged (it stages, then records): a delete staged
#: later by something else (a rollback's, which keeps the link) is never taken for it.
_RECORDED_DELETE = _UNSENT_DELETE + " AND p.staged_at <= d.deprovisioned_at"


@dataclass(slots=True)
class Deprovisioned:
    cs_id: int
    connector_id: int
    #: the metaverse object it left; None once that object is deleted (its id may be reused)
    mv_id: int | None
    link_rule_id: int | None
    cause: str
    detail: str
    #: (connector id, anchor) of the source objects of the metaverse object it left
    sources: set[tuple[int, str]] = field(default_factory=set)


class DeprovisionRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def record(self, rows: Sequence[Deprovisioned]) -> None:
        """Remember what each object was linked to (replacing an older record)."""
        if not rows:
            return
        ids = [r.cs_id for r in rows]
        self.db.execute_in("DELETE FROM deprovisioned_sources WHERE cs_id IN ({ids})", ids)
        self.db.insert_rows(
            "deprovisioned",
            ("cs_id", "connector_id", "mv_id", "link_rule_id", "cause", "detail",
             "deprovisioned_at"),
            ("INTEGER", "INTEGER", "INTEGER", "INTEGER", "TEXT", "TEXT", "TEXT"),
            [(r.cs_id, r.connector_id, r.mv_id, r.link_rule_id, r.cause, r.detail, utcnow())
             for r in rows],
            "ON CONFLICT (cs_id) DO UPDATE SET connector_id = excluded.connector_id, "
            "mv_id = excluded.mv_id, link_rule_id = excluded.link_rule_id, "
            "cause = excluded.cause, detail = excluded.detail, "
            "deprovisioned_at = excluded.deprovisioned_at")
        self.db.insert_rows(
            "deprovisioned_sources", ("cs_id", "connector_id", "anchor"),
            ("INTEGER", "INTEGER", "TEXT"),
            [(r.cs_id, c, a) for r in rows for c, a in sorted(r.sources)],
            "ON CONFLICT DO NOTHING")

    def any(self) -> bool:
        return bool(self.db.scalar("SELECT 1 FROM deprovisioned LIMIT 1"))

    def get_many(self, cs_ids: Sequence[int]) -> dict[int, Deprovisioned]:
        """The records of the objects among ``cs_ids`` that hold an unsent delete."""
        out: dict[int, Deprovisioned] = {}
        for row in self.db.query_in(
                "SELECT d.cs_id, d.connector_id, d.mv_id, d.link_rule_id, d.cause, d.detail "
                f"FROM deprovisioned d {_RECORDED_DELETE} WHERE d.cs_id IN ({{ids}})",
                list(cs_ids)):
            out[row[0]] = Deprovisioned(*row)
        if out:
            for cs_id, cid, anchor in self.db.query_in(
                    "SELECT cs_id, connector_id, anchor FROM deprovisioned_sources "
                    "WHERE cs_id IN ({ids})", list(out)):
                out[cs_id].sources.add((cid, anchor))
        return out

    def tied_to(self, mv_ids: Sequence[int], anchors: Iterable[str]) -> dict[int, Deprovisioned]:
        """Records of unlinked objects with an unsent delete that name one of ``mv_ids`` as
        their metaverse object, or one of ``anchors`` among their sources."""
        # Only unlinked objects: one that a join linked meanwhile is its link's business.
        unlinked = "JOIN cs_objects c ON c.id = d.cs_id AND c.mv_id IS NULL"
        ids = {r[0] for r in self.db.query_in(
            f"SELECT d.cs_id FROM deprovisioned d {_RECORDED_DELETE} {unlinked} "
            "WHERE d.mv_id IN ({ids})", list(mv_ids))}
        anchors = sorted(set(anchors))
        if anchors:
            ids |= {r[0] for r in self.db.query_in(
                f"SELECT d.cs_id FROM deprovisioned_sources d {_UNSENT_DELETE} {unlinked} "
                "WHERE d.anchor IN ({ids})", anchors)}
        # get_many keeps only the records of the delete they were made with
        return self.get_many(sorted(ids)) if ids else {}

    def unsent_deletes(self, cs_ids: Sequence[int]) -> set[int]:
        """The objects among ``cs_ids`` that hold an unsent delete."""
        return {r[0] for r in self.db.query_in(
            f"SELECT cs_id FROM pending_exports WHERE kind = '{ExportKind.DELETE}' "
            f"AND state <> '{ExportState.EXPORTED}' "
            "AND cs_id IN ({ids})", list(cs_ids))}

    def metaverse_deleted(self, mv_id: int) -> None:
        """The metaverse object is gone: records naming it keep only their sources (a new
        metaverse object may later get the same id)."""
        self.db.execute("UPDATE deprovisioned SET mv_id = NULL WHERE mv_id = ?", (mv_id,))

    def forget(self, cs_ids: Sequence[int]) -> None:
        if cs_ids:
            self.db.execute_in("DELETE FROM deprovisioned WHERE cs_id IN ({ids})", list(cs_ids))
            self.db.execute_in("DELETE FROM deprovisioned_sources WHERE cs_id IN ({ids})",
                               list(cs_ids))

    def forget_spent(self) -> None:
        """Drop the records whose delete is gone (exported and confirmed, discarded,
        cancelled): they no longer tie anything."""
        for table in ("deprovisioned", "deprovisioned_sources"):
            self.db.execute(
                f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM pending_exports p "
                f"WHERE p.cs_id = {table}.cs_id AND p.kind = '{ExportKind.DELETE}')")

    def unlinked_pending(self, connector_id: int, after: int, limit: int
                         ) -> list[tuple[int, str]]:
        """(cs id, kind) of the unsent exports of a connector's unlinked objects, in id order:
        what a full synchronization reconsiders beyond the objects linked to the metaverse."""
        return [(r[0], r[1]) for r in self.db.query(
            "SELECT p.cs_id, p.kind FROM pending_exports p JOIN cs_objects c ON c.id = p.cs_id "
            f"WHERE p.connector_id = ? AND p.state <> '{ExportState.EXPORTED}' "
            "AND c.mv_id IS NULL "
            "AND p.cs_id > ? ORDER BY p.cs_id LIMIT ?", (connector_id, after, limit))]

    def linked_by_anchor(self, sources: Iterable[tuple[int, str]]) -> set[int]:
        """Metaverse objects linked to the connector space objects with these anchors."""
        by_conn: dict[int, list[str]] = {}
        for cid, anchor in sources:
            by_conn.setdefault(cid, []).append(anchor)
        out: set[int] = set()
        for cid, anchors in by_conn.items():
            out |= {r[0] for r in self.db.query_in(
                "SELECT mv_id FROM cs_objects WHERE connector_id = ? AND mv_id IS NOT NULL "
                "AND anchor IN ({ids})", anchors, (cid,))}
        return out

    def existing_mv(self, mv_ids: Sequence[int]) -> set[int]:
        return {r[0] for r in self.db.query_in("SELECT id FROM mv_objects WHERE id IN ({ids})",
                                               list(mv_ids))}
