"""Database backup (online, consistent) and restore (with the service stopped).

The backup is SQLite's backup API under one read transaction: a snapshot of one moment, taken
while the service keeps running. A restore replaces the workspace database after checking the
file, clears what belonged to processes of the backup's time (cycle lock, service record,
requests) and ends their runs; the watermarks come back with the objects they describe, so the
next delta import resumes from there and nothing is lost or applied twice.
"""

from __future__ import annotations

import os
from pathlib import Path

from idsync.errors import ConfigurationError
from idsync.events import EventId
from idsync.locks import live_holders
from idsync.rules.model import Direction
from idsync.scheduler.lock import STOP_KEY, owner_alive
from idsync.secrets.files import private_file
from idsync.store import DB_FILE, Store, database_url
from idsync.store.backups import (
    backup_schema_version,
    copy_database_file,
    end_runs_in_progress,
    write_backup,
)
from idsync.store.postgres import is_postgres_url


def backup(store: Store, target: str | Path) -> Path:
    target = Path(target).expanduser()
    if target.exists():
        raise ConfigurationError(f"{target} exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    write_backup(store.db, partial)
    # The copy becomes the backup only once complete.
    os.replace(partial, target)
    return target


def check_backup(path: Path) -> int:
    """The schema version of a backup file, after an integrity check."""
    return backup_schema_version(path)


def restore(workspace: str | Path, source: str | Path) -> int:
    """Replace the workspace database with a backup; refused while the service or a cycle
    runs. Returns the number of runs the backup held in progress (now ended)."""
    folder = Path(workspace).expanduser()
    source = Path(source).expanduser()
    if is_postgres_url(database_url(folder)):
        raise ConfigurationError("the workspace uses PostgreSQL: restore it with pg_restore")
    check_backup(source)
    db_path = folder / DB_FILE
    if db_path.exists():
        current = Store.open(folder, migrate=False)
        try:
            owner = current.settings.get("service")
            if owner and owner_alive(owner):
                raise ConfigurationError(
                    f"idsync serve is running (pid {owner.get('pid')}); stop it before a "
                    "restore (a backup needs no stop)")
            for running in live_holders(current):
                raise ConfigurationError(f"{running} is running; let it end before a restore "
                                         "(a backup needs no stop)")
        finally:
            current.close()
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / (DB_FILE + ".restoring")
    staged.unlink(missing_ok=True)
    private_file(staged)
    copy_database_file(source, staged)
    for suffix in ("-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    os.replace(staged, db_path)
    store = Store.open(folder)
    try:
        with store.transaction():
            for key in ("service", STOP_KEY, "cycle_request"):
                store.settings.set(key, None)
            # The backup's locks name processes of the past (its holders were checked gone).
            store.locks.clear_all()
            # No process runs on the restored file yet: every run it shows in progress ended.
            ended = end_runs_in_progress(store.db)
            # Exports sent after the backup are unknown to it: a full import of every connector
            # that receives exports shows them, so they join instead of being sent again.
            # Connectors that only feed the metaverse continue from their watermarks.
            targets = sorted({r.connector for r in store.rules.list()
                              if r.direction is Direction.OUTBOUND})
            for name in targets:
                found = store.connectors.find(name)
                if found is not None:
                    store.connectors.set_required(found.id, full_import=True)
            store.events.add(int(EventId.DATABASE_RESTORED), "information",
                             f"database restored from {source}; {ended} run(s) that were "
                             "in progress at backup time ended as stopped-server; full import "
                             f"required on {', '.join(targets) or 'no connector'}")
    finally:
        store.close()
    return ended
