"""The workspace folder is 0700 and every file holding secrets 0600, whatever the umask: the
database and its -wal and -shm files, the key, backups and their key, exported configs."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from idsync.scheduler.lock import CycleLock
from idsync.store import Store

SECRET = "mode-test-secret-5521"


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def loose_idsync(ws: Path, *args: str) -> None:
    """idsync as its own process under umask 000 (every file it makes would be 0666)."""
    subprocess.run([sys.executable, "-c", "import os; os.umask(0); from idsync.cli.main import "
                    "main; import sys; sys.argv[0] = 'idsync'; main()",
                    "--workspace", str(ws), *args], check=True, capture_output=True, timeout=120)


@pytest.mark.sqlite_only  # reason: the files SQLite makes (database, -wal, -shm)
def test_the_workspace_and_its_files_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    with umask(0):
        store = Store.open(ws)
        try:
            store.connectors.add("src", "file", {"path": "src.ldif"}, {"password": SECRET})
            # While the store is open its -wal and -shm files exist.
            assert mode(ws) == 0o700
            for name in ("idsync.db", "idsync.db-wal", "idsync.db-shm", "secrets.key"):
                assert mode(ws / name) == 0o600, name
        finally:
            store.close()
    loose_idsync(ws, "db", "backup", str(tmp_path / "b.db"), "--include-key")
    assert mode(tmp_path / "b.db") == 0o600 and mode(tmp_path / "b.db.key") == 0o600
    os.environ["IDSYNC_CONFIG_PASSPHRASE"] = "pp-for-the-test"
    try:
        loose_idsync(ws, "config", "export", str(tmp_path / "cfg"))
    finally:
        del os.environ["IDSYNC_CONFIG_PASSPHRASE"]
    assert mode(tmp_path / "cfg") == 0o700 and mode(tmp_path / "cfg" / "connectors") == 0o700
    for file in (tmp_path / "cfg").rglob("*.yaml"):
        assert mode(file) == 0o600, file


@pytest.mark.sqlite_only  # reason: an older workspace's SQLite file, created 0644
def test_an_older_world_readable_database_is_tightened_on_open(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    Store.open(ws).close()
    (ws / "idsync.db").chmod(0o644)
    Store.open(ws).close()
    assert mode(ws / "idsync.db") == 0o600



@pytest.mark.sqlite_only  # reason: POSIX locks on the SQLite file
def test_setting_the_mode_keeps_the_locks_of_an_open_connection(tmp_path: Path) -> None:
    # Closing any descriptor of a SQLite file drops the process's locks on it: setting the
    # mode of an existing database must not open it. (It did: once another process had opened
    # the workspace more than once and ended, the next open here failed with "disk I/O error".)
    ws = tmp_path / "ws"
    first = Store.open(ws)
    try:
        first.connectors.add("src", "file", {"path": "src.ldif"})
        CycleLock(first).acquire("delta", "held by the test")
        # Another process opens the workspace (and is refused: a cycle runs).
        subprocess.run([sys.executable, "-m", "idsync", "--workspace", str(ws), "cycle",
                        "start"], capture_output=True, timeout=120)
        with first.transaction():
            first.runs.start(first.connectors.get("src").id, "Export")
        second = Store.open(ws)
        try:
            assert second.db.query("SELECT status FROM runs") == [("in-progress",)]
        finally:
            second.close()
    finally:
        first.close()
