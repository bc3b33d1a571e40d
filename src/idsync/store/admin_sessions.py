"""The web UI's session rows (table ``admin_sessions``, migration 0012): a token's hash, its
administrator, its CSRF token and its times. What a session may do and how long it lasts is
``idsync.administration.admin_sessions``'s; this module only reads and writes rows."""

from __future__ import annotations

from dataclasses import dataclass

from idsync.store.database import BaseDatabase

_COLUMNS = "token_hash, admin_name, csrf_token, created_at, last_seen_at, expires_at"


@dataclass(frozen=True, slots=True)
class AdminSessionRow:
    token_hash: str
    admin_name: str
    csrf_token: str
    created_at: str
    last_seen_at: str
    expires_at: str


class AdminSessionRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def add(self, row: AdminSessionRow) -> None:
        with self.db.transaction():
            self.db.execute(f"INSERT INTO admin_sessions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                            (row.token_hash, row.admin_name, row.csrf_token, row.created_at,
                             row.last_seen_at, row.expires_at))

    def get(self, token_hash: str) -> AdminSessionRow | None:
        row = self.db.query_one(f"SELECT {_COLUMNS} FROM admin_sessions WHERE token_hash = ?",
                                (token_hash,))
        return AdminSessionRow(*row) if row else None

    def touch(self, token_hash: str, now: str) -> None:
        with self.db.transaction():
            self.db.execute("UPDATE admin_sessions SET last_seen_at = ? WHERE token_hash = ?",
                            (now, token_hash))

    def remove(self, token_hash: str) -> None:
        with self.db.transaction():
            self.db.execute("DELETE FROM admin_sessions WHERE token_hash = ?", (token_hash,))

    def remove_for_admin(self, admin_name: str) -> int:
        with self.db.transaction():
            cursor = self.db.execute("DELETE FROM admin_sessions WHERE admin_name = ?",
                                     (admin_name,))
        return int(cursor.rowcount or 0)

    def remove_ended(self, *, now: str, idle_before: str) -> int:
        """Sessions past their end or idle since before ``idle_before``."""
        with self.db.transaction():
            cursor = self.db.execute(
                "DELETE FROM admin_sessions WHERE expires_at <= ? OR last_seen_at < ?",
                (now, idle_before))
        return int(cursor.rowcount or 0)
