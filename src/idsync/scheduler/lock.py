"""One sync cycle at a time, across processes and crashes.

The lock is a row in the store (``settings['cycle_lock']``) written inside a write transaction,
so two processes cannot both take it. It names its owner (host, pid, process start time); a lock
whose owner is no longer running is taken over, so a crashed cycle never blocks the next one.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from idsync.errors import IdsyncError
from idsync.events import EventId
from idsync.store import Store
from idsync.store.database import utcnow

LOCK_KEY = "cycle_lock"
STOP_KEY = "cycle_stop_requested"


class CycleRunning(IdsyncError):
    """A sync cycle is already running."""


def _process_start(pid: int) -> str | None:
    """The kernel's start time of a process: a reused pid has a different one."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner_record() -> dict[str, Any]:
    from idsync.scheduler.settings import hostname

    pid = os.getpid()
    return {"pid": pid, "host": hostname(), "process_start": _process_start(pid)}


def owner_alive(owner: dict[str, Any]) -> bool:
    """True when the owner process still runs. A lock from another host is taken as alive:
    we cannot see its processes, so only an administrator may clear it."""
    from idsync.scheduler.settings import hostname

    if owner.get("host") not in (None, hostname()):
        return True
    pid = owner.get("pid")
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    started = owner.get("process_start")
    return started is None or _process_start(int(pid)) in (None, started)


class CycleLock:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.token: str | None = None

    def holder(self) -> dict[str, Any] | None:
        """The live holder's record, or None when free (a dead holder counts as free)."""
        current = self.store.settings.get(LOCK_KEY)
        if current and owner_alive(current):
            return current
        return None

    def acquire(self, policy: str, reason: str) -> str:
        with self.store.transaction():
            current = self.store.settings.get(LOCK_KEY)
            if current and owner_alive(current):
                raise CycleRunning(
                    f"a sync cycle is already running ({current.get('policy')} cycle started "
                    f"{current.get('started_at')} by pid {current.get('pid')} on "
                    f"{current.get('host')}); wait for it or stop it with `idsync cycle stop`")
            if current:
                self.store.events.add(
                    int(EventId.CYCLE_LOCK_RECOVERED), "warning",
                    f"recovered the sync cycle lock of pid {current.get('pid')}, which ended "
                    "without releasing it", data={"lock": current})
            self.token = uuid.uuid4().hex
            self.store.settings.set(LOCK_KEY, {
                **owner_record(), "token": self.token, "policy": policy, "reason": reason,
                "started_at": utcnow(), "step": None})
            self.store.settings.set(STOP_KEY, None)
        return self.token

    def update_step(self, step: dict[str, Any] | None) -> None:
        with self.store.transaction():
            current = self.store.settings.get(LOCK_KEY)
            if current and current.get("token") == self.token:
                current["step"] = step
                self.store.settings.set(LOCK_KEY, current)

    def stop_requested(self) -> bool:
        return bool(self.token) and self.store.settings.get(STOP_KEY) == self.token

    def release(self) -> None:
        with self.store.transaction():
            current = self.store.settings.get(LOCK_KEY)
            if current and current.get("token") == self.token:
                self.store.settings.set(LOCK_KEY, None)
            if self.store.settings.get(STOP_KEY) == self.token:
                self.store.settings.set(STOP_KEY, None)
        self.token = None


def request_stop(store: Store) -> dict[str, Any] | None:
    """Ask the running cycle to stop at its next safe point; returns its lock, or None when no
    cycle runs."""
    with store.transaction():
        current = store.settings.get(LOCK_KEY)
        if not current or not owner_alive(current):
            return None
        store.settings.set(STOP_KEY, current["token"])
    return current
