"""One sync cycle at a time, across processes, hosts and crashes.

The cycle lock is the ``cycle`` row of the ``locks`` table (``idsync.locks``): taken atomically,
naming its owner (host, pid, process start, command), refreshed by a heartbeat while the cycle
runs. A lock whose owner is gone (a dead process on this host, or a silent one on another host
past the lease) is taken over with event 3002, so a crashed cycle never blocks the next one.
Each run of the cycle also takes its connector's run lock (``idsync.engine.run_lock``).
"""

from __future__ import annotations

import os
from typing import Any

from idsync.errors import IdsyncError
from idsync.events import EventId
from idsync.locks import (
    CYCLE_LOCK,
    Liveness,
    Lock,
    LockHeld,
    Takeover,
    hostname,
    lease_seconds,
    liveness,
    pid_alive,
    process_command,
    process_start,
)
from idsync.store import Store
from idsync.store.locks import LockRow

STOP_KEY = "cycle_stop_requested"


class CycleRunning(IdsyncError):
    """A sync cycle is already running."""


def owner_record() -> dict[str, Any]:
    """This process, for records that name their owner (the ``idsync serve`` registration)."""
    pid = os.getpid()
    return {"pid": pid, "host": hostname(), "process_start": process_start(pid)}


def owner_alive(owner: dict[str, Any]) -> bool:
    """True when the owner process still runs. An owner on another host is taken as alive
    (only the locks carry a heartbeat)."""
    if owner.get("host") not in (None, hostname()):
        return True
    return pid_alive(owner.get("pid"), owner.get("process_start"))


def _view(row: LockRow) -> dict[str, Any]:
    return {"pid": row.pid, "host": row.host, "process_start": row.process_start,
            "token": row.token, "command": row.command, "started_at": row.since,
            "heartbeat_age_seconds": round(row.age_ms / 1000, 1),
            "policy": row.data.get("policy"), "reason": row.data.get("reason"),
            "step": row.data.get("step")}


class CycleLock:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock: Lock | None = None
        self._data: dict[str, Any] = {}

    @property
    def token(self) -> str | None:
        return self.lock.token if self.lock else None

    def holder(self) -> dict[str, Any] | None:
        """The live holder's record, or None when free (a dead holder counts as free)."""
        row = self.store.locks.get(CYCLE_LOCK)
        if row and liveness(row, lease_seconds(self.store)) is Liveness.ALIVE:
            return _view(row)
        return None

    def stale(self) -> dict[str, Any] | None:
        """A dead holder's record the next cycle will take over, or None."""
        row = self.store.locks.get(CYCLE_LOCK)
        if row and liveness(row, lease_seconds(self.store)) is not Liveness.ALIVE:
            return _view(row)
        return None

    def acquire(self, policy: str, reason: str) -> str:
        def recovered(takeover: Takeover) -> None:
            self.store.events.add(
                int(EventId.CYCLE_LOCK_RECOVERED), "warning",
                f"recovered the sync cycle lock of {takeover.text()}",
                data={"lock": _view(takeover.previous), "why": takeover.why.value})

        self._data = {"policy": policy, "reason": reason, "step": None}
        try:
            with self.store.transaction():
                self.lock = Lock.acquire(
                    self.store, CYCLE_LOCK, data=self._data, on_takeover=recovered,
                    command=f"{policy} sync cycle ({reason}): {process_command()}")
                self.store.settings.set(STOP_KEY, None)
        except LockHeld as held:
            row = held.holder
            raise CycleRunning(
                f"a sync cycle is already running ({row.data.get('policy')} cycle started "
                f"{row.since} by pid {row.pid} on {row.host}); wait for it or stop it with "
                "`idsync cycle stop`") from None
        # Only a heartbeat: the cycle's data is guarded by each run's own lock.
        self.lock.start_heartbeat()
        return self.lock.token

    def held(self) -> bool:
        """False once another process took the lock over (this one was silent too long)."""
        return self.lock is not None and self.lock.held()

    def update_step(self, step: dict[str, Any] | None) -> None:
        if self.lock is None:
            return
        self._data["step"] = step
        with self.store.transaction():
            self.lock.update(data=self._data)

    def stop_requested(self) -> bool:
        return bool(self.token) and self.store.settings.get(STOP_KEY) == self.token

    def release(self) -> None:
        if self.lock is None:
            return
        token = self.lock.token
        self.lock.release()
        with self.store.transaction():
            if self.store.settings.get(STOP_KEY) == token:
                self.store.settings.set(STOP_KEY, None)
        self.lock = None


def request_stop(store: Store) -> dict[str, Any] | None:
    """Ask the running cycle to stop at its next safe point; returns its lock, or None when no
    cycle runs."""
    with store.transaction():
        current = CycleLock(store).holder()
        if not current:
            return None
        store.settings.set(STOP_KEY, current["token"])
    return current
