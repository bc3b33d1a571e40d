"""``idsync serve`` as a real process on the file connector: scheduled cycles, disable and
enable, cycles on request, health and metrics, JSON logs, SIGTERM in the middle of an export."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.harness.commands import idsync, people, wait_for
from tests.harness.workspace import Workspace, ldif, make_workspace

from idsync.scheduler.lock import CycleLock
from idsync.store import Store


def test_scheduled_cycles_disable_enable_and_request(small_workspace: Workspace,
                                                     serve_factory):
    ws = small_workspace
    idsync(ws.path, "scheduler", "set", "--interval", "1s")
    served = serve_factory(ws.path)
    wait_for(lambda: served.cycles() >= 2, what="two scheduled cycles")
    assert len(ws.target_entries()) == 6
    health = served.health()
    assert health["status"] == "ok" and health["last_cycle_status"] == "success"
    metrics = served.metrics()
    assert 'idsync_sync_cycles_total{status="success"}' in metrics
    assert 'idsync_pending_exports{connector="target",state="pending"} 0' in metrics
    assert 'idsync_runs_total{connector="source",profile="Full Import",status="success"} 1' \
        in metrics

    second = idsync(ws.path, "serve", "--port", "0", check=False)
    assert second.returncode == 2 and "already runs" in second.stderr

    shown = json.loads(idsync(ws.path, "scheduler", "show", "--json").stdout)
    assert shown["service"]["pid"] == served.process.pid
    assert shown["currently_effective_sync_cycle_interval"] == "00:00:01"

    idsync(ws.path, "scheduler", "set", "--sync-cycle-enabled", "false")
    wait_for(lambda: not json.loads(idsync(ws.path, "cycle", "status", "--json").stdout),
             what="the cycle in progress to end")
    count = served.cycles()
    time.sleep(2.5)
    assert served.cycles() == count, "a disabled scheduler started a cycle"
    # A cycle on request still runs while the schedule is off.
    out = idsync(ws.path, "cycle", "start", "--policy", "delta").stdout
    assert "cycle requested" in out
    wait_for(lambda: served.cycles() == count + 1, what="the requested cycle")
    idsync(ws.path, "scheduler", "set", "--sync-cycle-enabled", "true")
    wait_for(lambda: served.cycles() >= count + 3, what="scheduled cycles again")

    assert served.terminate() == 0
    logs = served.read_logs()
    messages = [e["message"] for e in logs]
    assert "cycle started" in messages and "cycle ended" in messages
    assert messages[-1] == "service stopped"
    assert all({"time", "level", "message"} <= set(e) for e in logs)
    assert json.loads(idsync(ws.path, "scheduler", "show", "--json").stdout)["service"] is None


def test_sigterm_in_the_middle_of_an_export_loses_nothing(tmp_path: Path, serve_factory):
    ws = make_workspace(tmp_path / "big", ldif(*people(2500)))
    try:
        served = serve_factory(ws.path)
        reader = Store.open(ws.path)

        def exporting_target() -> int | None:
            lock = CycleLock(reader).holder() or {}
            step = lock.get("step") or {}
            if (step.get("profile"), step.get("connector")) != ("Export", "target"):
                return None
            runs = [r for r in reader.runs.list(limit=3)
                    if r.status == "in-progress" and r.profile == "Export"]
            return runs[0].id if runs else None

        run_id = wait_for(exporting_target, what="the export to the target")
        assert served.terminate() == 0
        messages = [e["message"] for e in served.read_logs()]
        assert messages.index("stop requested") < messages.index("cycle ended")
        export = ws.store.runs.get(run_id)
        # The export in progress ran to its end and committed; nothing is left in flight.
        assert export is not None and export.status == "success", export
        assert export.counters.get("adds") == 2500
        runs = ws.store.runs.list(limit=0)
        assert not [r for r in runs if r.status in ("in-progress", "stopped-server")]
        assert ws.store.locks.list() == []
        reader.close()

        # The next start picks up where it stopped: every user exactly once in the target.
        idsync(ws.path, "cycle", "start")
        entries = ws.target_entries()
        users = [dn for dn in entries if dn.startswith("uid=")]
        assert len(users) == len(set(users)) == 2500
        assert ws.store.exports.count(ws.store.connectors.get("target").id,
                                      state="pending") == 0
    finally:
        ws.store.close()


def test_cycle_start_refused_while_a_cycle_runs(small_workspace: Workspace):
    ws = small_workspace
    lock = CycleLock(ws.store)
    lock.acquire("delta", "held by the test")
    try:
        result = idsync(ws.path, "cycle", "start", check=False)
        assert result.returncode == 3
        assert "already running" in result.stdout
        with ws.store.transaction():
            run_id = ws.store.runs.start(ws.store.connectors.get("target").id, "Export")
            ws.store.runs.save_counters(run_id, {"adds": 7})
        status = idsync(ws.path, "cycle", "status").stdout
        assert "delta cycle started" in status
        assert f"run {run_id}: Export on target: adds 7" in status
        assert "stop requested" in idsync(ws.path, "cycle", "stop").stdout
        assert lock.stop_requested()
    finally:
        lock.release()
    assert idsync(ws.path, "cycle", "status").stdout.strip() == ""
    idsync(ws.path, "scheduler", "set", "--suspended", "true")
    suspended = idsync(ws.path, "cycle", "start", check=False)
    assert suspended.returncode == 2 and "suspended" in suspended.stderr
    assert "no sync cycle is running" in idsync(ws.path, "cycle", "stop").stdout
