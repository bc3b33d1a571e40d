"""The local administrators' rows (table ``admin_accounts``, migration 0011): name, password
hash, read-only flag, and what a sign-in with growing delays counts. The rules (names, password
length, the last full admin) are ``idsync.administration.admin_accounts``'s; this module only
reads and writes rows."""

from __future__ import annotations

from dataclasses import dataclass

from idsync.store.database import BaseDatabase

_COLUMNS = ("name, password_hash, read_only, created_at, password_changed_at, failed_signins, "
            "last_failed_at")


@dataclass(frozen=True)
class AdminAccountRow:
    name: str
    #: an argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash), never a password
    password_hash: str
    read_only: bool
    created_at: str
    password_changed_at: str
    failed_signins: int
    last_failed_at: str | None


def _row(row: tuple) -> AdminAccountRow:
    return AdminAccountRow(name=row[0], password_hash=row[1], read_only=bool(row[2]),
                           created_at=row[3], password_changed_at=row[4],
                           failed_signins=int(row[5]), last_failed_at=row[6])


class AdminAccountRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def get(self, name: str) -> AdminAccountRow | None:
        row = self.db.query_one(f"SELECT {_COLUMNS} FROM admin_accounts WHERE name = ?", (name,))
        return _row(row) if row else None

    def all(self) -> list[AdminAccountRow]:
        return [_row(r) for r in self.db.query(
            f"SELECT {_COLUMNS} FROM admin_accounts ORDER BY name")]

    def count(self) -> int:
        return int(self.db.scalar("SELECT count(*) FROM admin_accounts") or 0)

    def full_admins(self) -> list[str]:
        """The names of the admins who can change things."""
        return [r[0] for r in self.db.query(
            "SELECT name FROM admin_accounts WHERE read_only = 0 ORDER BY name")]

    def add(self, name: str, password_hash: str, *, read_only: bool, now: str) -> None:
        self.db.execute(
            f"INSERT INTO admin_accounts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, 0, NULL)",
            (name, password_hash, 1 if read_only else 0, now, now))

    def set_password(self, name: str, password_hash: str, *, now: str) -> bool:
        """A new password (the failed sign-ins start again from zero). -> whether it existed."""
        cursor = self.db.execute(
            "UPDATE admin_accounts SET password_hash = ?, password_changed_at = ?, "
            "failed_signins = 0, last_failed_at = NULL WHERE name = ?",
            (password_hash, now, name))
        return bool(cursor.rowcount)

    def replace_hash(self, name: str, old_hash: str, new_hash: str) -> None:
        """The same password hashed with newer parameters (a rehash after a good sign-in);
        only if the hash did not change meanwhile, and the password's date stays."""
        self.db.execute(
            "UPDATE admin_accounts SET password_hash = ? WHERE name = ? AND password_hash = ?",
            (new_hash, name, old_hash))

    def set_read_only(self, name: str, read_only: bool) -> bool:
        cursor = self.db.execute("UPDATE admin_accounts SET read_only = ? WHERE name = ?",
                                 (1 if read_only else 0, name))
        return bool(cursor.rowcount)

    def remove(self, name: str) -> bool:
        cursor = self.db.execute("DELETE FROM admin_accounts WHERE name = ?", (name,))
        return bool(cursor.rowcount)

    def record_failed_signin(self, name: str, *, now: str) -> None:
        self.db.execute(
            "UPDATE admin_accounts SET failed_signins = failed_signins + 1, last_failed_at = ? "
            "WHERE name = ?", (now, name))

    def reset_failed_signins(self, name: str) -> None:
        self.db.execute(
            "UPDATE admin_accounts SET failed_signins = 0, last_failed_at = NULL "
            "WHERE name = ? AND failed_signins <> 0", (name,))
