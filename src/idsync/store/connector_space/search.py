"""Pages and searches over a connector space: the unit of work of a synchronization run, and
what the administrator's commands list."""

from __future__ import annotations

from typing import Any

from idsync.dn import normalize_dn
from idsync.model import CSObject
from idsync.store.connector_space.objects import COLUMNS, cs_from_row
from idsync.store.database import BaseDatabase


class CSSearch:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def ids_page(self, connector_id: int, after: int, limit: int, *,
                 pending_only: bool = False) -> list[int]:
        """The next page of object ids of a connector space, in id order (placeholders left
        out): the unit of work of a synchronization run."""
        pending = "AND pending_import IS NOT NULL" if pending_only else ""
        return [r[0] for r in self.db.query(
            f"SELECT id FROM cs_objects WHERE connector_id = ? AND placeholder = 0 AND id > ? "
            f"{pending} ORDER BY id LIMIT ?", (connector_id, after, limit))]

    def count(self, connector_id: int, *, pending_only: bool = False) -> int:
        pending = "AND pending_import IS NOT NULL" if pending_only else ""
        return self.db.scalar(
            f"SELECT count(*) FROM cs_objects WHERE connector_id = ? AND placeholder = 0 "
            f"{pending}", (connector_id,))

    def search(self, connector_id: int, *, dn: str | None = None, anchor: str | None = None,
               object_type: str | None = None, pending_import: bool = False,
               pending_export: bool = False, placeholders: bool = False,
               limit: int = 0) -> list[CSObject]:
        where = ["c.connector_id = ?"]
        params: list[Any] = [connector_id]
        if not placeholders:
            where.append("c.placeholder = 0")
        if dn:
            where.append("c.dn_norm = ?")
            params.append(normalize_dn(dn))
        if anchor:
            where.append("c.anchor = ?")
            params.append(anchor)
        if object_type:
            where.append("c.object_type = ?")
            params.append(object_type)
        if pending_import:
            where.append("c.pending_import IS NOT NULL")
        if pending_export:
            where.append("EXISTS (SELECT 1 FROM pending_exports p WHERE p.cs_id = c.id)")
        cols = ", ".join(f"c.{c.strip()}" for c in COLUMNS.split(","))
        sql = f"SELECT {cols} FROM cs_objects c WHERE {' AND '.join(where)} ORDER BY c.id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [cs_from_row(r) for r in self.db.query(sql, params)]
