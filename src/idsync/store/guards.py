"""The counts the data-safety guards decide on (deletion limits, member removal limit,
discarded exports): grouped counts and small samples, never whole lists."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from idsync.model import ExportState
from idsync.store.database import BaseDatabase, utcnow


class GuardQueries:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def objects_by_type(self, connector_id: int) -> dict[str, int]:
        """Objects of a connector space per object type (placeholders left out)."""
        return {t or "": n for t, n in self.db.query(
            "SELECT object_type, count(*) FROM cs_objects WHERE connector_id = ? "
            "AND placeholder = 0 GROUP BY object_type", (connector_id,))}

    def types_of(self, cs_ids: Sequence[int]) -> Counter[str]:
        """How many of ``cs_ids`` there are per object type."""
        out: Counter[str] = Counter()
        for t, n in self.db.query_in(
                "SELECT object_type, count(*) FROM cs_objects WHERE id IN ({ids}) "
                "GROUP BY object_type", list(cs_ids)):
            out[t or ""] += n
        return out

    def pending_by_type(self, connector_id: int, kind: str | None = None,
                        object_type: str | None = None) -> dict[tuple[str, str], int]:
        """Unsent pending exports of a connector per (kind, object type)."""
        sql, params = self._pending_where(connector_id, kind, object_type)
        return {(k, t or ""): n for k, t, n in self.db.query(
            "SELECT p.kind, c.object_type, count(*) FROM pending_exports p "
            f"JOIN cs_objects c ON c.id = p.cs_id WHERE {sql} GROUP BY p.kind, c.object_type",
            params)}

    def pending_sample(self, connector_id: int, kind: str, object_type: str,
                       limit: int = 5) -> list[tuple[int, str]]:
        """A few (cs id, DN) of the unsent pending exports of one kind and object type."""
        sql, params = self._pending_where(connector_id, kind, object_type)
        return [(i, dn) for i, dn in self.db.query(
            f"SELECT c.id, c.dn FROM pending_exports p JOIN cs_objects c ON c.id = p.cs_id "
            f"WHERE {sql} ORDER BY p.cs_id LIMIT ?", (*params, limit))]

    def pending_page(self, connector_id: int, kind: str | None, object_type: str | None,
                     limit: int) -> list[tuple[int, str, str | None, str]]:
        """The first ``limit`` unsent pending exports that match: (cs id, DN, type, kind)."""
        sql, params = self._pending_where(connector_id, kind, object_type)
        return list(self.db.query(
            f"SELECT c.id, c.dn, c.object_type, p.kind FROM pending_exports p "
            f"JOIN cs_objects c ON c.id = p.cs_id WHERE {sql} ORDER BY p.cs_id LIMIT ?",
            (*params, limit)))

    @staticmethod
    def _pending_where(connector_id: int, kind: str | None, object_type: str | None
                       ) -> tuple[str, list[object]]:
        where = ["p.connector_id = ?", f"p.state = '{ExportState.PENDING}'"]
        params: list[object] = [connector_id]
        if kind:
            where.append("p.kind = ?")
            params.append(kind)
        if object_type:
            where.append("c.object_type = ?")
            params.append(object_type)
        return " AND ".join(where), params

    def record_discarded(self, connector_id: int,
                         rows: Sequence[tuple[int, str, str | None, str]]) -> None:
        now = utcnow()
        self.db.insert_rows(
            "discarded_exports",
            ("connector_id", "cs_id", "dn", "object_type", "kind", "discarded_at"),
            ("INTEGER", "INTEGER", "TEXT", "TEXT", "TEXT", "TEXT"),
            [(connector_id, i, dn, t, k, now) for i, dn, t, k in rows])

    def discarded(self, connector_id: int, limit: int = 100
                  ) -> list[tuple[str, str | None, str, str, str | None]]:
        """The latest discarded exports of a connector: (DN, type, kind, when, outcome)."""
        return list(self.db.query(
            "SELECT dn, object_type, kind, discarded_at, outcome FROM discarded_exports "
            "WHERE connector_id = ? ORDER BY discarded_at DESC, cs_id LIMIT ?",
            (connector_id, limit)))

    def discarded_waiting(self, after: int, limit: int) -> list[tuple[int, int, str]]:
        """Discarded exports whose outcome the next full synchronization decides:
        (cs id, connector id, kind), in cs id order."""
        return list(self.db.query(
            "SELECT cs_id, connector_id, kind FROM discarded_exports WHERE outcome IS NULL "
            "AND cs_id > ? ORDER BY cs_id LIMIT ?", (after, limit)))

    def settle_discarded(self, cs_ids: Sequence[int], outcome: str) -> None:
        self.db.execute_in("UPDATE discarded_exports SET outcome = ? WHERE outcome IS NULL "
                           "AND cs_id IN ({ids})", list(cs_ids), (outcome,))

    def full_sync_pending(self) -> bool:
        """Some connector still waits for a full synchronization."""
        return bool(self.db.scalar(
            "SELECT 1 FROM connectors WHERE full_sync_required = 1 LIMIT 1"))

    def list_sizes(self, cs_ids: Sequence[int], attrs: Sequence[str]
                   ) -> dict[tuple[int, str], int]:
        """Values each (object, reference attribute) holds now: counted in the store from
        the list's primary key, never read."""
        if not cs_ids or not attrs:
            return {}
        marks = ",".join("?" * len(attrs))
        return {(i, a): n for i, a, n in self.db.query_in(
            f"SELECT cs_id, attr, count(*) FROM cs_refs WHERE attr IN ({marks}) "
            f"AND cs_id IN ({{ids}}) GROUP BY cs_id, attr", list(cs_ids), tuple(attrs))}

    def has_error(self, cs_id: int, stage: str, code: str) -> bool:
        return bool(self.db.scalar(
            "SELECT 1 FROM object_errors WHERE cs_id = ? AND stage = ? AND code = ?",
            (cs_id, stage, code)))
