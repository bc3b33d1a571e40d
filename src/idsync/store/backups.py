"""A workspace database's backup (SQLite): written with SQLite's backup API while the service
runs, checked (integrity, schema version) and copied back by a restore, and the runs the
restored file shows in progress ended (no process of the backup's time is left to end them).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from idsync.errors import ConfigurationError
from idsync.store.database import BaseDatabase, Database, utcnow
from idsync.store.postgres import PostgresDatabase


def write_backup(db: BaseDatabase, path: Path) -> None:
    """A consistent online copy of ``db`` at ``path`` (PostgreSQL refuses: pg_dump's work)."""
    if not isinstance(db, Database | PostgresDatabase):
        raise ConfigurationError(f"cannot back up a {db.dialect} database")
    db.backup_to(str(path))


def backup_schema_version(path: Path) -> int:
    """The schema version of a backup file, after an integrity check."""
    if not path.is_file():
        raise ConfigurationError(f"{path}: no such file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            version = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ConfigurationError(f"{path} is not an idsync database backup: {exc}") from exc
    if ok != "ok":
        raise ConfigurationError(f"{path} fails the integrity check: {ok}")
    return int(version or 0)


def copy_database_file(source: Path, target: Path) -> None:
    """Copy a SQLite database file page by page (its backup API), the source opened read-only."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dest = sqlite3.connect(str(target))
    try:
        src.backup(dest)
    finally:
        dest.close()
        src.close()


def end_runs_in_progress(db: BaseDatabase) -> int:
    """End as stopped-server every run a restored database shows in progress; how many."""
    ended = [r[0] for r in db.query("SELECT id FROM runs WHERE status = 'in-progress'")]
    db.execute(
        "UPDATE runs SET status = 'stopped-server', ended_at = ?, message = "
        "'in progress when the backup was taken; the database was restored' "
        "WHERE status = 'in-progress'", (utcnow(),))
    return len(ended)
