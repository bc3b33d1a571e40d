"""``idsync`` run as a real process: the command line (``idsync``), ``idsync serve`` (the
``serve_factory`` fixture, ``Served``), and a small file-connector workspace to run them on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.harness.postgres import prepare_workspace
from tests.harness.workspace import Workspace, group_entry, ldif, make_workspace, user_entry

from idsync.store import CONFIG_FILE, DB_FILE

__all__ = ["FAST_ENV", "Served", "idsync", "people", "serve_factory", "small_workspace",
           "wait_for"]

#: Lets tests set cycle intervals of a second (the production minimum is 30 minutes).
FAST_ENV = {"IDSYNC_ALLOWED_SYNC_CYCLE_INTERVAL": "1"}


def idsync(workspace: Path, *args: str, check: bool = True, env: dict[str, str] | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the ``idsync`` command line as its own process."""
    # A workspace this process creates gets its own schema first on the PostgreSQL pass (as an
    # in-process Store.open would through tests/conftest.py); a no-op on SQLite.
    # (Not `demo`: the demo always keeps its own SQLite file.)
    creates = args[:1] == ("init",) or args[:2] == ("config", "import")
    if creates and not (workspace / DB_FILE).exists() and not (workspace / CONFIG_FILE).exists():
        prepare_workspace(workspace)
    result = subprocess.run(
        [sys.executable, "-m", "idsync", "--workspace", str(workspace), *args],
        capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **FAST_ENV, "COLUMNS": "200", **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f"idsync {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition"
             ) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Served:
    """``idsync serve`` running as a real process."""

    workspace: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""
    logs: list[dict[str, Any]] = field(default_factory=list)

    def stdout(self) -> str:
        """What the service printed (its address, the first-start advice)."""
        return self.log_path.with_suffix(".out").read_text("utf-8")

    def read_logs(self) -> list[dict[str, Any]]:
        lines = self.log_path.read_text("utf-8").splitlines()
        self.logs = [json.loads(line) for line in lines if line.startswith("{")]
        return self.logs

    def health(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/health", timeout=5).json()

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=5).text

    def cycles(self) -> int:
        return sum(self.health()["cycles"].values())

    def terminate(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@pytest.fixture
def serve_factory() -> Iterator[Callable[..., Served]]:
    running: list[Served] = []

    def start(workspace: Path, *extra: str) -> Served:
        log_path = workspace / f"serve-{len(running)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "idsync", "--workspace", str(workspace), "serve",
             "--port", "0", *extra],
            stdout=open(log_path.with_suffix(".out"), "wb"),  # noqa: SIM115
            stderr=open(log_path, "wb"),  # noqa: SIM115
            env={**os.environ, **FAST_ENV})
        served = Served(workspace, process, log_path)
        running.append(served)

        def started() -> str | None:
            assert process.poll() is None, log_path.read_text()
            for entry in served.read_logs():
                if entry["message"] == "service started":
                    return entry["url"]
            return None

        served.url = wait_for(started, what="idsync serve to start")
        return served

    yield start
    for served in running:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait()


def people(n: int, prefix: str = "user") -> list[str]:
    return [user_entry(f"{prefix}{i:05d}", mail=f"{prefix}{i}@contoso.com") for i in range(n)]


@pytest.fixture
def small_workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = make_workspace(tmp_path / "ws", ldif(
        user_entry("ann", mail="ann@contoso.com"), user_entry("bob", sn="Jones"),
        group_entry("staff", ["ann", "bob"])))
    yield ws
    ws.store.close()
