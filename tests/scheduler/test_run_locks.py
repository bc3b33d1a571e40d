"""One run per connector, one cycle per workspace, whoever starts them: real ``idsync``
processes against one workspace (SQLite and PostgreSQL passes), a real clouddir behind a gate
(tests/harness/gate.py) so a run sits in a directory call as long as the test wants.

Observed before the run lock: two Full Imports of one connector started a second apart staged
deletes of half of its objects (each marks what only the other one saw as missing)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.harness.clouddir_server import clouddir, clouddir_shared, make_users  # noqa: F401
from tests.harness.commands import FAST_ENV, idsync, people, wait_for
from tests.harness.gate import Gate
from tests.harness.workspace import Workspace, ldif, make_workspace

from idsync.events import EventId
from idsync.locks import CYCLE_LOCK, Liveness, hostname, liveness, run_lock_name
from idsync.store.locks import LockRow

CLOUD_USERS = 120


@dataclass
class Gated:
    """A file-connector workspace (``source``, ``target``) plus ``aad``, a cloud connector
    whose every call passes the gate."""

    ws: Workspace
    gate: Gate

    @property
    def path(self) -> Path:
        return self.ws.path

    def lock(self, connector: str) -> LockRow | None:
        return self.ws.store.locks.get(run_lock_name(self.ws.store.connectors.get(connector).id))

    def cs_count(self, connector: str) -> int:
        return self.ws.store.cs.count(self.ws.store.connectors.get(connector).id)

    def staged_deletes(self, connector: str) -> int:
        return len([o for o in self.ws.store.cs.search(self.ws.store.connectors.get(connector).id,
                                                       pending_import=True)
                    if o.pending_import == "delete"])


@pytest.fixture
def gated(tmp_path: Path, clouddir) -> Iterator[Gated]:  # noqa: F811
    make_users(clouddir, CLOUD_USERS)
    ws = make_workspace(tmp_path / "ws", ldif(*people(20)))
    url = urlparse(clouddir.url)
    gate = Gate(url.hostname or "127.0.0.1", url.port or 80)
    ws.store.connectors.add("aad", "cloud", clouddir.connector_settings(url=gate.url_for("http")),
                            clouddir.secrets())
    g = Gated(ws, gate)
    idsync(ws.path, "run", "aad", "Full Import")
    assert g.cs_count("aad") == CLOUD_USERS
    try:
        yield g
    finally:
        gate.stop()
        ws.store.close()


def start(workspace: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "idsync", "--workspace", str(workspace),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **FAST_ENV, "COLUMNS": "200", **(env or {})})


def held_in_call(g: Gated, connector: str, proc: subprocess.Popen) -> LockRow:
    """Wait until ``proc`` holds the connector's run lock (with its run recorded) and sits in
    its first directory call, behind the closed gate."""
    received = g.gate.received

    def ready() -> LockRow | None:
        assert proc.poll() is None, proc.communicate()
        row = g.lock(connector)
        return row if row and row.run_id and g.gate.received > received else None

    return wait_for(ready, what=f"{connector}'s run to hold its lock and wait on the gate")


def finish(proc: subprocess.Popen, code: int = 0) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, (out, err)
    return out


def test_a_second_full_import_of_a_connector_is_refused_naming_the_holder(gated: Gated):
    g = gated
    g.gate.close()
    first = start(g.path, "run", "aad", "Full Import", "--json")
    holder = held_in_call(g, "aad", first)
    assert holder.pid == first.pid and holder.profile == "Full Import"

    second = idsync(g.path, "run", "aad", "Full Import", check=False)
    assert second.returncode == 3, second
    line = second.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert "connector aad is busy" in line and f"Full Import (run {holder.run_id})" in line
    assert f"pid {first.pid} on {hostname()}" in line and "idsync" in line
    assert "wait for that one to finish" in line

    g.gate.open()
    result = json.loads(finish(first))
    assert result["status"] == "success" and not result["counters"].get("deletes")
    # Nothing staged as deleted: every cloud user is still in the connector space, as it was.
    assert g.cs_count("aad") == CLOUD_USERS
    assert g.staged_deletes("aad") == 0
    # The refused attempt is in the history and the event log, naming the holder.
    aad = g.ws.store.connectors.get("aad").id
    runs = g.ws.store.runs.list(connector_id=aad, limit=2)
    assert sorted(r.status for r in runs) == ["no-start-connector-busy", "success"]
    refused = next(r for r in runs if r.status == "no-start-connector-busy")
    assert f"pid {first.pid}" in (refused.message or "")
    events = g.ws.store.events.list(event_id=int(EventId.RUN_REFUSED))
    assert len(events) == 1 and events[0].data["holder"]["pid"] == first.pid
    assert g.ws.store.locks.list() == []


def test_runs_of_different_connectors_overlap(gated: Gated):
    g = gated
    g.gate.close()
    cloud = start(g.path, "run", "aad", "Full Import")
    held_in_call(g, "aad", cloud)
    # The cloud import holds aad; the on-premises connector runs meanwhile, to its end.
    idsync(g.path, "run", "source", "Full Import")
    assert cloud.poll() is None
    locks = json.loads(idsync(g.path, "runs", "locks", "--json").stdout)
    assert [(lk["connector"], lk["state"]) for lk in locks] == [("aad", "alive")]
    g.gate.open()
    finish(cloud)
    assert g.cs_count("source") == 20


def test_a_cli_run_beside_serve_running_a_cycle(gated: Gated, serve_factory):
    g = gated
    g.gate.close()
    served = serve_factory(g.path)
    row = wait_for(lambda: (lk := g.lock("aad")) and lk.run_id and lk, timeout=60,
                   what="the cycle to reach the cloud import")
    assert "initial sync cycle (scheduled)" in row.command and row.pid == served.process.pid

    refused = idsync(g.path, "run", "aad", "Full Import", check=False)
    assert refused.returncode == 3
    assert "initial sync cycle (scheduled)" in refused.stderr
    assert f"pid {served.process.pid}" in refused.stderr
    # Another connector (its cycle run is over) may run by hand while the cycle waits on aad.
    idsync(g.path, "run", "source", "Delta Import")
    assert idsync(g.path, "cycle", "start", check=False).returncode == 3
    status = idsync(g.path, "cycle", "status").stdout
    assert "connector aad is held by Full Import" in status

    g.gate.open()
    wait_for(lambda: served.cycles() >= 1, timeout=120, what="the cycle to end")
    assert served.health()["cycles"] == {"success": 1}, served.health()
    assert served.terminate() == 0
    assert g.ws.store.locks.list() == []


@pytest.mark.slow
def test_a_killed_holder_is_taken_over_and_nothing_is_lost_or_duplicated(tmp_path: Path):
    users = 6000
    ws = make_workspace(tmp_path / "ws", ldif(*people(users)))
    try:
        source = ws.store.connectors.get("source").id
        proc = start(ws.path, "run", "source", "Full Import")
        # SIGKILL once its first batch is committed (the crash-safety suite's point).
        deadline = time.monotonic() + 120
        while not [r for r in ws.store.runs.list(connector_id=source, limit=1)
                   if r.status == "in-progress" and r.counters]:
            assert proc.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline, "the import never committed a batch"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stale = ws.store.locks.get(run_lock_name(source))
        assert stale is not None and stale.pid == proc.pid
        locks = json.loads(idsync(ws.path, "runs", "locks", "--json").stdout)
        assert locks[0]["state"] == "process ended"

        # The next run takes the lock over by itself and completes the import.
        idsync(ws.path, "run", "source", "Full Import")
        recovered = ws.store.events.list(event_id=int(EventId.RUN_LOCK_RECOVERED))
        assert len(recovered) == 1 and f"pid {proc.pid}" in recovered[0].message
        assert "its process ended" in recovered[0].message
        statuses = [r.status for r in ws.store.runs.list(connector_id=source)]
        assert statuses == ["success", "stopped-server"]
        assert ws.store.cs.count(source) == users
        assert ws.store.locks.list() == []
        for connector, profile in (("target", "fi"), ("source", "fs"), ("target", "e")):
            idsync(ws.path, "run", connector, profile)
        people_dns = [dn for dn in ws.target_entries() if dn.startswith("uid=")]
        assert len(people_dns) == len(set(people_dns)) == users
    finally:
        ws.store.close()


def age_lock(g_store, name: str, seconds: int) -> None:
    """Make a lock's last heartbeat ``seconds`` older (as a silent holder's would be)."""
    with g_store.transaction():
        g_store.db.execute("UPDATE locks SET heartbeat = heartbeat - ? WHERE name = ?",
                           (seconds * 1000, name))


def plant_remote_lock(store, name: str, connector_id: int | None = None, **data) -> None:
    """A lock row as a process of another host (idsync-b) would have written it."""
    with store.transaction():
        assert store.locks.insert(name, "remote-token", command="idsync run source fi",
                                  host="idsync-b.example", boot_id="other-boot", pid=4242,
                                  process_start="1", connector_id=connector_id,
                                  profile="Full Import" if connector_id else None,
                                  data=data or None)


def test_a_stale_lock_of_another_host_is_taken_over_after_its_lease(small_workspace):
    ws = small_workspace
    source = ws.store.connectors.get("source").id
    plant_remote_lock(ws.store, run_lock_name(source), source)
    # Fresh heartbeat: the holder on idsync-b may well be running; refused, named.
    refused = idsync(ws.path, "run", "source", "Full Import", check=False)
    assert refused.returncode == 3 and "pid 4242 on idsync-b.example" in refused.stderr

    age_lock(ws.store, run_lock_name(source), 10 * 60)  # silent for ten minutes (lease 3 min)
    idsync(ws.path, "run", "source", "Full Import")
    recovered = ws.store.events.list(event_id=int(EventId.RUN_LOCK_RECOVERED))
    assert len(recovered) == 1 and "idsync-b.example" in recovered[0].message
    assert "its lease expired" in recovered[0].message
    assert ws.store.locks.list() == []

    # The cycle lock likewise.
    plant_remote_lock(ws.store, CYCLE_LOCK, policy="delta", reason="scheduled")
    assert idsync(ws.path, "cycle", "start", check=False).returncode == 3
    age_lock(ws.store, CYCLE_LOCK, 10 * 60)
    idsync(ws.path, "cycle", "start")
    cycle_recovered = ws.store.events.list(event_id=int(EventId.CYCLE_LOCK_RECOVERED))
    assert len(cycle_recovered) == 1 and "idsync-b.example" in cycle_recovered[0].message


def test_a_clear_by_hand_is_refused_while_the_holder_lives(small_workspace):
    ws = small_workspace
    source = ws.store.connectors.get("source").id
    plant_remote_lock(ws.store, run_lock_name(source), source)
    refused = idsync(ws.path, "runs", "unlock", "source", check=False)
    assert refused.returncode == 2 and "held by a live process" in refused.stderr
    age_lock(ws.store, run_lock_name(source), 10 * 60)
    idsync(ws.path, "runs", "unlock", "source")
    assert ws.store.locks.list() == []
    assert ws.store.events.list(event_id=int(EventId.LOCK_CLEARED))


LEASE_ENV = {"IDSYNC_ALLOWED_LOCK_LEASE": "1"}


def test_a_long_directory_call_keeps_the_lease(gated: Gated):
    g = gated
    idsync(g.path, "scheduler", "set", "--lock-lease", "2s", env=LEASE_ENV)
    g.gate.close()
    proc = start(g.path, "run", "aad", "Full Import")
    held_in_call(g, "aad", proc)
    # Six seconds (three leases) inside one directory call: seen from another host, the
    # holder stays alive all along, because its heartbeat does not wait for the call.
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        row = g.lock("aad")
        assert row is not None and liveness(replace(row, host="elsewhere"), 2) is Liveness.ALIVE
        time.sleep(0.2)
    g.gate.open()
    finish(proc)


def test_a_paused_holder_taken_over_cannot_commit_again(gated: Gated):
    g = gated
    idsync(g.path, "scheduler", "set", "--lock-lease", "2s", env=LEASE_ENV)
    g.gate.close()
    paused = start(g.path, "run", "aad", "Full Import")
    held_in_call(g, "aad", paused)
    os.kill(paused.pid, signal.SIGSTOP)
    try:
        name = run_lock_name(g.ws.store.connectors.get("aad").id)
        # As if it ran on another host (a paused VM): only its lease speaks for it.
        with g.ws.store.transaction():
            g.ws.store.db.execute("UPDATE locks SET host = 'idsync-b.example' WHERE name = ?",
                                  (name,))
        wait_for(lambda: g.lock("aad").age_ms > 2500, what="the lease to expire")
        taker = start(g.path, "run", "aad", "Full Import")
        wait_for(lambda: g.lock("aad").pid == taker.pid, what="the takeover")
        g.gate.open()
        finish(taker)
    finally:
        os.kill(paused.pid, signal.SIGCONT)
    out = finish(paused, 1)
    assert "stopped-lock-lost" in out
    statuses = sorted(r.status for r in g.ws.store.runs.list(limit=2))
    assert statuses == ["stopped-lock-lost", "success"]
    assert g.cs_count("aad") == CLOUD_USERS and g.staged_deletes("aad") == 0
    assert g.ws.store.events.list(event_id=int(EventId.RUN_LOCK_LOST))


def test_a_cycle_meeting_a_busy_connector_goes_on_with_the_others(small_workspace):
    ws = small_workspace
    from idsync.locks import Lock
    from idsync.scheduler.cycle import CycleRunner

    target = ws.store.connectors.get("target").id
    # A hand-run (this live process) holds the target connector for the whole cycle.
    held = Lock.acquire(ws.store, run_lock_name(target), command="idsync run target e",
                        connector_id=target, profile="Export")
    try:
        result = CycleRunner(ws.store, str(ws.path)).run("initial")
    finally:
        held.release()
    by_step = {(r.connector, r.profile): r.status for r in result.runs}
    assert by_step[("source", "Full Import")] == "success"
    assert by_step[("source", "Full Synchronization")] == "success"
    assert {s for (c, _), s in by_step.items() if c == "target"} == {"no-start-connector-busy"}
    assert result.status == "completed-with-stopped-runs"
    # The next cycle, with the connector free, does the target's share.
    assert CycleRunner(ws.store, str(ws.path)).run("initial").status == "success"
    assert len(ws.target_entries()) == 3 + 3


@settings(max_examples=60, deadline=None)
@given(age=st.integers(0, 10_000_000), lease=st.integers(1, 86_400))
def test_a_remote_holder_is_alive_exactly_while_its_heartbeat_is_younger_than_the_lease(
        age: int, lease: int):
    row = LockRow("run:1", "t", 1, "Full Import", 7, "idsync run a fi", "idsync-b.example",
                  "boot-b", 4242, "1", "2026-12-03T08:00:00", 0, {}, age)
    expected = Liveness.ALIVE if age < lease * 1000 else Liveness.LEASE_EXPIRED
    assert liveness(row, lease) is expected
    # On this machine the process table decides, whatever the heartbeat says.
    here = replace(row, host=hostname(), boot_id=None, pid=os.getpid(), process_start=None)
    assert liveness(here, lease) is Liveness.ALIVE
    gone = replace(here, pid=2**22 + 1)
    assert liveness(gone, lease) is Liveness.ENDED


def test_no_preview_while_a_run_holds_its_connector(small_workspace):
    ws = small_workspace
    from idsync.locks import Lock

    idsync(ws.path, "cycle", "start")
    source = ws.store.connectors.get("source").id
    held = Lock.acquire(ws.store, run_lock_name(source), command="idsync run source fi",
                        connector_id=source, profile="Full Import")
    try:
        refused = idsync(ws.path, "preview", check=False)
        assert refused.returncode == 2, refused
        assert "a run of source: Full Import" in refused.stderr
    finally:
        held.release()
    idsync(ws.path, "preview")


def test_a_run_of_another_host_is_not_taken_for_abandoned_while_its_lease_lives(
        small_workspace):
    ws = small_workspace
    source = ws.store.connectors.get("source").id
    plant_remote_lock(ws.store, run_lock_name(source), source)
    with ws.store.transaction():
        # Its run record, with the pid it has over there (no such process here).
        remote_run = ws.store.runs.start(source, "Full Import")
        ws.store.db.execute("UPDATE runs SET pid = ? WHERE id = ?", (2**22 + 1, remote_run))
        ws.store.locks.set_run(run_lock_name(source), "remote-token", remote_run)
    # Any run here judges the runs in progress: the remote one lives while its lease does.
    assert ws.run("target", "fi").status == "success"
    assert ws.store.runs.get(remote_run).status == "in-progress"
    age_lock(ws.store, run_lock_name(source), 10 * 60)
    assert ws.run("target", "fi").status == "success"
    assert ws.store.runs.get(remote_run).status == "stopped-server"
