"""The administrator audit log's rows (table ``admin_audit``, migration 0010): written by
``idsync.administration.audit.record_change``, read newest first by ``idsync audit list``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idsync import values
from idsync.store.database import BaseDatabase, utcnow


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str
    admin: str
    via: str
    action: str
    target: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "admin": self.admin, "via": self.via,
                "action": self.action, "target": self.target, "old": self.old,
                "new": self.new}


class AuditRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def add(self, admin: str, via: str, action: str, target: str, old: Any, new: Any) -> None:
        """One entry, in the caller's transaction when there is one."""
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO admin_audit (at, admin, via, action, target, old, new) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (utcnow(), admin, via, action, target,
                 None if old is None else values.dumps(old),
                 None if new is None else values.dumps(new)))

    def list(self, *, limit: int = 50, admin: str | None = None, action: str | None = None,
             since: str | None = None, before_id: int | None = None) -> list[AuditEntry]:
        """Entries newest first; ``before_id`` pages on (the id of the last entry seen)."""
        sql = "SELECT id, at, admin, via, action, target, old, new FROM admin_audit"
        where: list[str] = []
        params: list[Any] = []
        for clause, value in (("admin = ?", admin), ("action = ?", action),
                              ("at >= ?", since), ("id < ?", before_id)):
            if value is not None:
                where.append(clause)
                params.append(value)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], values.loads(r[6]),
                           values.loads(r[7])) for r in self.db.query(sql, params)]
