"""Killing the process (SIGKILL) in the middle of an import, a synchronization or an export and
running again loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.engine.test_reference_integrity import staged
from tests.harness.workspace import (
    SOURCE_BASE,
    group_entry,
    ldif,
    make_workspace,
    target_dn,
    user_entry,
)

from idsync.administration.rule_changes import set_disabled
from idsync.store import Store

USERS = 2500


def directory() -> str:
    users = [f"u{i:05d}" for i in range(USERS)]
    entries = [user_entry(u, manager=users[i // 10] if i >= 10 else None,
                          extra={"title": [f"Title {i % 7}"]}) for i, u in enumerate(users)]
    entries += [group_entry(f"g{j}", users[j * 50 : j * 50 + 200]) for j in range(25)]
    return ldif(*entries)


def idsync(workspace: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "idsync", "--workspace", str(workspace),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_ok(workspace: Path, connector: str, profile: str) -> None:
    proc = idsync(workspace, "run", connector, profile, "--json")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (out, err)


def kill_midway(workspace: Path, connector: str, profile: str) -> None:
    """Start a run and SIGKILL it once its first batch is committed."""
    proc = idsync(workspace, "run", connector, profile, "--json")
    db = sqlite3.connect(workspace / "idsync.db", timeout=30)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            row = db.execute("SELECT counters FROM runs WHERE status = 'in-progress' "
                             "ORDER BY id DESC LIMIT 1").fetchone()
            if row and row[0] not in ("{}", None):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return
            if proc.poll() is not None:
                pytest.fail(f"{profile} finished before it could be killed; make the data "
                            "set larger")
            time.sleep(0.01)
    finally:
        db.close()
    pytest.fail("the run never committed a batch")


def snapshot(workspace: Path) -> dict:
    from idsync.dn import normalize_dn
    from idsync.filedir.ldif import read_ldif

    with open(workspace / "target" / "directory.ldif", "rb") as f:
        target = {normalize_dn(r.dn): {k.lower(): sorted(map(str, v))
                                       for k, v in r.attributes.items()
                                       if k.lower() != "entryuuid"}
                  for r in read_ldif(f)}
    db = sqlite3.connect(workspace / "idsync.db")
    try:
        counts = {
            "cs": db.execute("SELECT connector_id, count(*) FROM cs_objects WHERE placeholder = 0 "
                             "GROUP BY connector_id ORDER BY 1").fetchall(),
            "mv": db.execute("SELECT object_type, count(*) FROM mv_objects GROUP BY 1 "
                             "ORDER BY 1").fetchall(),
            "mv_refs": db.execute("SELECT count(*) FROM mv_refs").fetchone()[0],
            "pending_exports": db.execute("SELECT count(*) FROM pending_exports").fetchone()[0],
            "dirty": db.execute("SELECT count(*) FROM mv_dirty").fetchone()[0],
        }
    finally:
        db.close()
    return {"target": target, "counts": counts}


CYCLE = [("source", "Full Import"), ("target", "Full Import"),
         ("source", "Full Synchronization"), ("target", "Full Synchronization"),
         ("target", "Export"), ("target", "Full Import"), ("target", "Delta Synchronization")]


@pytest.mark.slow
# sqlite_only: it watches the killed run's progress and counts rows in the idsync.db file with
# sqlite3, while the process runs and after it dies.
@pytest.mark.sqlite_only
def test_sigkill_in_every_stage_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    data = directory()
    reference = make_workspace(tmp_path / "reference", data)
    reference.store.close()
    crashed = make_workspace(tmp_path / "crashed", data)
    crashed.store.close()
    for connector, profile in CYCLE:
        run_ok(reference.path, connector, profile)
    killed = {("source", "Full Import"), ("source", "Full Synchronization"),
              ("target", "Export")}
    for connector, profile in CYCLE:
        if (connector, profile) in killed:
            kill_midway(crashed.path, connector, profile)
        run_ok(crashed.path, connector, profile)
    # one more confirming pass on both, so exports re-sent after the kill are confirmed
    for ws in (reference, crashed):
        run_ok(ws.path, "target", "Full Import")
        run_ok(ws.path, "target", "Delta Synchronization")
    expected, actual = snapshot(reference.path), snapshot(crashed.path)
    assert actual["counts"] == expected["counts"]
    assert actual["counts"]["pending_exports"] == 0
    assert len(actual["target"]) == len(expected["target"]) == USERS + 25 + 3
    assert actual["target"] == expected["target"]
    # the killed runs are recorded as stopped by the server, not left in progress
    db = sqlite3.connect(crashed.path / "idsync.db")
    statuses = [r[0] for r in db.execute("SELECT status FROM runs ORDER BY id")]
    db.close()
    assert statuses.count("stopped-server") == len(killed)
    assert "in-progress" not in statuses


@pytest.mark.slow
# sqlite_only: as above, it watches the killed run's progress in the idsync.db file.
@pytest.mark.sqlite_only
def test_sigkill_while_cancelling_deletes_keeps_every_object(tmp_path: Path) -> None:
    """A synchronization killed while it links deprovisioned objects back and cancels their
    deletes: the next one finishes the job, no object gets a second connector space object,
    nothing is left to delete."""
    ws = make_workspace(tmp_path / "ws", directory())
    ws.store.close()
    for connector, profile in CYCLE:
        run_ok(ws.path, connector, profile)

    def target_objects() -> set[tuple[int, str]]:
        db = sqlite3.connect(ws.path / "idsync.db")
        try:
            return set(db.execute(
                "SELECT c.id, c.anchor FROM cs_objects c JOIN connectors n "
                "ON n.id = c.connector_id WHERE n.name = 'target' AND c.placeholder = 0"))
        finally:
            db.close()

    before = target_objects()
    for disabled in (True, False):
        store = Store.open(ws.path)
        set_disabled(store, "Out to target - User Join", disabled)
        store.close()
        if not disabled:
            kill_midway(ws.path, "source", "Delta Synchronization")
        run_ok(ws.path, "source", "Delta Synchronization")
    assert target_objects() == before
    assert snapshot(ws.path)["counts"]["pending_exports"] == 0


# sqlite_only: as above, it watches the killed run's progress in the idsync.db file.
@pytest.mark.sqlite_only
def test_sigkill_between_freeing_a_dn_and_adding_at_it(tmp_path: Path) -> None:
    """Many people deleted and different people created at their DNs in one cycle: the export
    sends the deletes first, then the adds. Killed after some deletes and before the adds,
    and run again, it leaves each new person once, each old person gone, and nothing for an
    initial cycle."""
    people = [f"p{i:04d}" for i in range(1200)]
    ws = make_workspace(tmp_path / "ws", ldif(*(user_entry(u, anchor=f"{u}-old", sn="Old")
                                                for u in people)))
    ws.initial_cycle()
    old = {dn: e["entryuuid"][0] for dn, e in ws.target_entries().items() if "entryuuid" in e}
    changes = []
    for u in people:
        changes.append(f"dn: uid={u},ou=Users,{SOURCE_BASE}\nchangetype: delete\n")
        changes.append(f"dn: uid={u},ou=Users,{SOURCE_BASE}\nchangetype: add\n" + "\n".join(
            user_entry(u, anchor=f"{u}-new", sn="New").splitlines()[1:]) + "\n")
    ws.change_source("\n".join(changes))
    for profile in ("di", "ds"):
        assert ws.run("source", profile).ok
    ws.store.close()
    # the administrator expects these deletes: the limits are raised for them
    limit = idsync(ws.path, "deletion-limit", "set", "target", "--percent", "100")
    assert limit.wait(timeout=60) == 0, limit.communicate()

    proc = idsync(ws.path, "run", "target", "e", "--json")
    db = sqlite3.connect(ws.path / "idsync.db", timeout=30)
    try:
        while proc.poll() is None:
            row = db.execute("SELECT counters FROM runs WHERE status = 'in-progress' "
                             "ORDER BY id DESC LIMIT 1").fetchone()
            if row and '"deletes"' in row[0] and '"adds"' not in row[0]:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
        proc.wait()
    finally:
        db.close()
    assert proc.returncode == -signal.SIGKILL, proc.communicate()
    run_ok(ws.path, "target", "e")
    ws = type(ws)(ws.path, Store.open(ws.path))
    try:
        for profile in ("fi", "ds"):
            assert ws.run("target", profile).ok
        entries = ws.target_entries()
        for u in people:
            entry = entries[target_dn(u)]
            assert entry["sn"] == ["New"] and entry["entryuuid"][0] != old[target_dn(u)], u
        assert len([e for e in entries.values() if "uid" in e]) == len(people)
        assert ws.pending_exports() == 0
        assert staged(ws.initial_cycle()) == {}
    finally:
        ws.store.close()
