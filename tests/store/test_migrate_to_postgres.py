"""`idsync db migrate --to postgresql://...`: a synchronized SQLite workspace moves to a real
PostgreSQL without loss (every table, every row, the same ids), and keeps working there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from idsync.store import Store
from idsync.store.database import Database
from idsync.store.postgres import PostgresDatabase


def idsync(workspace: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "idsync", "--workspace", str(workspace), *args],
                          capture_output=True, text=True, env=_env())
    if check:
        assert done.returncode == 0, done.stderr + done.stdout
    return done


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("IDSYNC_DATABASE_URL", None)
    return env


def snapshot(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a backend-neutral order."""
    out = {}
    for table in db.tables():
        if table == "schema_migrations":
            continue
        rows = db.query(f"SELECT * FROM {table}")
        out[table] = sorted(rows, key=repr)
    return out


# sqlite_only: the source of `db migrate` is a SQLite workspace (its idsync.db file).
@pytest.mark.sqlite_only
def test_migrate_moves_every_row_and_the_workspace_keeps_syncing(
        tmp_path: Path, postgres_schema: str) -> None:
    workspace = tmp_path / "ws"
    idsync(workspace, "demo", "--json")            # initial cycle + delta cycle, on SQLite
    sqlite_db = Database(workspace / "idsync.db")
    before = snapshot(sqlite_db)
    sqlite_db.close()
    assert len(before["cs_objects"]) > 1000 and before["cs_refs"] and before["runs"]

    moved = json.loads(idsync(workspace, "db", "migrate", "--to", postgres_schema,
                              "--json").stdout)
    assert moved["rows"] == {t: len(rows) for t, rows in before.items()}
    assert "workspace.yaml" in {p.name for p in workspace.iterdir()}

    target = PostgresDatabase(postgres_schema)
    assert snapshot(target) == before              # same rows, same ids, same values
    target.close()

    # the workspace now opens PostgreSQL; new ids follow the copied ones
    store = Store.open(workspace)
    assert store.dialect == "postgresql"
    biggest = max(r[0] for r in before["cs_objects"])
    source, target = [c.name for c in store.connectors.list()][:2]   # the demo's two
    connector = store.connectors.get(source)
    new_id = store.cs.insert(connector.id, anchor="new", dn="cn=new,dc=x", object_type="user")
    assert new_id > biggest
    assert store.connectors.add("third", "file", {}).id > max(r[0] for r in before["connectors"])
    store.cs.remove(new_id)
    store.close()

    # and the engine runs on it: a delta cycle of the demo's connectors finds nothing to do
    for name, profile in ((source, "di"), (source, "ds"), (target, "e")):
        result = json.loads(idsync(workspace, "run", name, profile, "--json").stdout)
        assert result["status"] == "success", result

    # a second migrate is refused (the workspace already uses PostgreSQL)
    again = idsync(workspace, "db", "migrate", "--to", postgres_schema, check=False)
    assert again.returncode == 2 and "already uses" in again.stderr


@pytest.mark.sqlite_only  # the workspace to migrate is a SQLite one
def test_migrate_refuses_a_target_that_holds_data(tmp_path: Path, postgres_schema: str) -> None:
    busy = Store.open(tmp_path / "other", database=postgres_schema)
    busy.connectors.add("someone-else", "file", {})
    busy.close()
    workspace = tmp_path / "ws"
    idsync(workspace, "init")
    source = Store.open(workspace)
    source.connectors.add("mine", "file", {})
    source.close()
    refused = idsync(workspace, "db", "migrate", "--to", postgres_schema, check=False)
    assert refused.returncode == 2 and "not empty" in refused.stderr
    assert not (workspace / "workspace.yaml").exists()
    assert Store.open(workspace).dialect == "sqlite"


def test_init_with_a_database_url(tmp_path: Path, postgres_schema: str) -> None:
    workspace = tmp_path / "ws"
    created = json.loads(idsync(workspace, "init", "--database", postgres_schema,
                                "--json").stdout)
    assert created["created"] is True and created["schema_version"] >= 1
    assert not (workspace / "idsync.db").exists()
    store = Store.open(workspace)
    assert store.dialect == "postgresql"
    store.close()
    listed = idsync(workspace, "connector", "list", "--json")
    assert json.loads(listed.stdout) == []
