"""``idsync db backup`` while ``idsync serve`` runs, ``idsync db restore`` with it stopped, and a
restored server that continues from the backed-up watermarks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tests.harness.commands import idsync, wait_for
from tests.harness.workspace import Workspace, user_entry


def add_user(ws: Workspace, uid: str) -> None:
    ws.change_source(f"dn: uid={uid},ou=Users,dc=contoso,dc=com\nchangetype: add\n"
                     + "\n".join(user_entry(uid).splitlines()[1:]) + "\n")


def target_users(ws: Workspace) -> list[str]:
    return sorted(dn.split(",")[0] for dn in ws.target_entries() if dn.startswith("uid="))


# sqlite_only: `idsync db backup/restore` copy the idsync.db file (a PostgreSQL store is backed
# up with pg_dump, and restore refuses it).
pytestmark = pytest.mark.sqlite_only


def test_online_backup_and_restore_continue_without_loss_or_duplicates(
        small_workspace: Workspace, serve_factory, tmp_path: Path):
    ws = small_workspace
    idsync(ws.path, "scheduler", "set", "--interval", "1s")
    served = serve_factory(ws.path)
    wait_for(lambda: served.cycles() >= 1, what="the first cycle")
    add_user(ws, "carl")
    wait_for(lambda: "uid=carl" in target_users(ws), what="carl in the target")

    backup = tmp_path / "backup" / "idsync.db"
    out = idsync(ws.path, "db", "backup", str(backup)).stdout  # the service keeps running
    assert "backup written" in out
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()

    # Changes after the backup: one more user, synchronized by the running service.
    add_user(ws, "dora")
    wait_for(lambda: "uid=dora" in target_users(ws), what="dora in the target")

    refused = idsync(ws.path, "db", "restore", str(backup), check=False)
    assert refused.returncode == 2 and "is running" in refused.stderr
    assert served.terminate() == 0

    ws.store.close()
    out = idsync(ws.path, "db", "restore", str(backup)).stdout
    assert "database restored" in out
    add_user(ws, "erin")
    result = idsync(ws.path, "cycle", "start", "--json", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    cycle = json.loads(result.stdout)
    # dora, exported after the backup, is joined by the target's full import, not sent again.
    assert cycle["status"] == "success", cycle
    runs = {(r["connector"], r["profile"]): r for r in cycle["runs"]}
    assert ("target", "Full Import") in runs and ("source", "Delta Import") in runs
    assert runs[("source", "Delta Import")]["counters"]["adds"] == 2  # dora and erin
    assert runs[("target", "Export")]["counters"]["adds"] == 1  # erin only
    # dora (after the backup) is not lost, erin arrives, and nobody is there twice.
    assert target_users(ws) == ["uid=ann", "uid=bob", "uid=carl", "uid=dora", "uid=erin"]
    events = idsync(ws.path, "events", "list", "--id", "3004", "--json").stdout
    assert "database restored from" in events


def test_restore_refuses_a_file_that_is_not_a_backup(small_workspace: Workspace,
                                                     tmp_path: Path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 100)
    result = idsync(small_workspace.path, "db", "restore", str(bad), check=False)
    assert result.returncode == 2 and "not an idsync database backup" in result.stderr


def test_restore_is_refused_while_a_run_holds_its_connector_and_clears_old_locks(
        small_workspace: Workspace, tmp_path: Path):
    from idsync.locks import Lock, run_lock_name

    ws = small_workspace
    source = ws.store.connectors.get("source").id
    # A run of this (live) process holds source when the backup is taken.
    held = Lock.acquire(ws.store, run_lock_name(source), command="idsync run source fi",
                        connector_id=source, profile="Full Import")
    backup = tmp_path / "backup" / "idsync.db"
    idsync(ws.path, "db", "backup", str(backup))
    refused = idsync(ws.path, "db", "restore", str(backup), check=False)
    assert refused.returncode == 2
    assert "a run of source: Full Import" in refused.stderr and "is running" in refused.stderr
    held.release()
    ws.store.close()
    idsync(ws.path, "db", "restore", str(backup))
    # The backup's lock named a process of the past: the restored server starts unlocked.
    assert json.loads(idsync(ws.path, "runs", "locks", "--json").stdout) == []
