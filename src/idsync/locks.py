"""Locks held in the store: one sync cycle per workspace, one run per connector.

A lock is a row of the ``locks`` table (``idsync.store.locks``), taken by one INSERT that fails
on conflict inside a write transaction, so two processes (on one host or on several hosts
sharing a PostgreSQL store) cannot both take it. The row names its holder: host, boot, pid,
process start time, command, since.

A holder that died leaves its row behind; the next taker decides whether the holder is gone:

- on the holder's own host (same host name and boot): the pid no longer runs, or runs a
  different process (its start time differs). This answer is exact and immediate;
- on another host, processes cannot be seen: the holder refreshes the row's heartbeat from a
  thread of its own (its own connection), whatever the run is doing (a slow LDAP page, a long
  export call); a heartbeat older than the lease (``lock_lease_seconds``, default 3 minutes)
  means the holder is gone. Ages are measured on the database's clock.

A holder that was only paused past its lease (a suspended VM) and then resumes finds its lock
taken: a run's lock adds a commit guard to its store, so it cannot commit another batch.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from idsync.errors import ConfigurationError, IdsyncError
from idsync.events import EventId, level_of
from idsync.store import Store
from idsync.store.database import BaseDatabase
from idsync.store.locks import LockRepository, LockRow

log = logging.getLogger("idsync.locks")

CYCLE_LOCK = "cycle"
LEASE_KEY = "lock_lease_seconds"
DEFAULT_LEASE = 180
#: The smallest lease an administrator may set; labs and tests lower it with this variable.
MIN_LEASE = 30
ALLOWED_LEASE_ENV = "IDSYNC_ALLOWED_LOCK_LEASE"
#: Heartbeats per lease: a holder misses five in a row before another host may take over.
BEATS_PER_LEASE = 6


def run_lock_name(connector_id: int) -> str:
    return f"run:{connector_id}"


class Liveness(StrEnum):
    ALIVE = "alive"
    ENDED = "process ended"
    LEASE_EXPIRED = "lease expired"


class LockHeld(IdsyncError):
    """The lock is held by a live holder."""

    def __init__(self, holder: LockRow) -> None:
        super().__init__(f"{holder.name} is held by {describe_holder(holder)}")
        self.holder = holder


class LockLost(IdsyncError):
    """Another process took this process's lock over (its lease had expired)."""


# --- who is this process --------------------------------------------------------------------


def hostname() -> str:
    return socket.gethostname()


def process_start(pid: int) -> str | None:
    """The kernel's start time of a process: a reused pid has a different one."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def boot_id() -> str | None:
    """Changes at every boot: a pid of a holder from before a reboot says nothing now."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return None


def process_command() -> str:
    """This process's command line, for the lock's holder (``idsync run corp 'Full Import'``)."""
    argv = list(sys.argv)
    if argv and os.path.basename(argv[0]) in ("idsync", "__main__.py"):
        argv = ["idsync", *argv[1:]]
    text = shlex.join(argv) if argv else f"pid {os.getpid()}"
    return text if len(text) <= 300 else text[:297] + "..."


def pid_alive(pid: int | None, started: str | None) -> bool:
    """True while ``pid`` runs on this host and is the process that started at ``started``."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return started is None or process_start(int(pid)) in (None, started)


# --- is a holder alive ----------------------------------------------------------------------


def lease_seconds(store: Store) -> int:
    return int(store.settings.get(LEASE_KEY) or DEFAULT_LEASE)


def allowed_lease() -> int:
    raw = os.environ.get(ALLOWED_LEASE_ENV)
    return max(1, int(raw)) if raw and raw.isdigit() else MIN_LEASE


def set_lease(store: Store, seconds: int) -> None:
    """The lease after which a lock of another host's silent holder is taken over."""
    if seconds < allowed_lease():
        raise ConfigurationError(
            f"the lock lease must be at least {allowed_lease()} seconds (a holder refreshes it "
            f"every lease/{BEATS_PER_LEASE}); {seconds} is too short")
    if seconds > 86400:
        raise ConfigurationError("the lock lease must be at most one day (86400 seconds)")
    store.settings.set(LEASE_KEY, int(seconds))


def same_machine(row: LockRow) -> bool:
    return row.host == hostname() and (row.boot_id is None or row.boot_id == boot_id())


def liveness(row: LockRow, lease: int) -> Liveness:
    if same_machine(row):
        # Exact: the process table says it. A live holder keeps its lock whatever its heartbeat.
        return Liveness.ALIVE if pid_alive(row.pid, row.process_start) else Liveness.ENDED
    return Liveness.ALIVE if row.age_ms < lease * 1000 else Liveness.LEASE_EXPIRED


def describe_holder(row: LockRow) -> str:
    """``Full Import (run 12) since 2026-12-03T07:50:01, pid 4242 on host1: `idsync run ...```"""
    what = row.profile or ("sync cycle" if row.name == CYCLE_LOCK else "a run")
    run = f" (run {row.run_id})" if row.run_id else ""
    return (f"{what}{run} since {row.since[:19]}, pid {row.pid} on {row.host}: "
            f"`{row.command}`")


def live_run_ids(store: Store) -> set[int]:
    """Runs a live lock holds, on any host (the others in progress were abandoned)."""
    lease = lease_seconds(store)
    return {r.run_id for r in store.locks.list()
            if r.run_id is not None and liveness(r, lease) is Liveness.ALIVE}


def recover_abandoned_runs(store: Store) -> list[int]:
    """End as ``stopped-server`` the runs left in progress by a holder that is gone."""
    return store.runs.recover_abandoned(keep=live_run_ids(store))


# --- a held lock ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Takeover:
    """A dead holder's lock taken over: who it was and how we know it is gone."""

    previous: LockRow
    why: Liveness

    def text(self) -> str:
        why = ("its process ended" if self.why is Liveness.ENDED else
               f"its lease expired (no heartbeat for {self.previous.age_ms // 1000} s)")
        return f"{describe_holder(self.previous)}: {why}"


class Lock:
    """A lock this process holds: its row, its heartbeat thread, its commit guard."""

    def __init__(self, store: Store, name: str, token: str, lease: int,
                 takeover: Takeover | None) -> None:
        self.store = store
        self.name = name
        self.token = token
        self.lease = lease
        self.takeover = takeover
        self._heartbeat: _Heartbeat | None = None
        self._guarded = False

    @classmethod
    def acquire(cls, store: Store, name: str, *, command: str, connector_id: int | None = None,
                profile: str | None = None, data: dict[str, Any] | None = None,
                on_takeover: Callable[[Takeover], None] | None = None) -> Lock:
        """Take ``name`` now or raise ``LockHeld`` (never waits for the holder). A dead
        holder's row is replaced; ``on_takeover`` records it in the same transaction."""
        lease = lease_seconds(store)
        takeover = None
        with store.transaction():
            current = store.locks.get(name)
            if current is not None:
                state = liveness(current, lease)
                if state is Liveness.ALIVE:
                    raise LockHeld(current)
                # Only the row we judged: a holder that beat meanwhile is alive after all.
                heartbeat = None if state is Liveness.ENDED else current.heartbeat
                if not store.locks.remove(name, current.token, heartbeat):
                    raise LockHeld(store.locks.get(name) or current)
                takeover = Takeover(current, state)
            token = uuid.uuid4().hex
            pid = os.getpid()
            if not store.locks.insert(name, token, command=command, host=hostname(),
                                      boot_id=boot_id(), pid=pid,
                                      process_start=process_start(pid),
                                      connector_id=connector_id, profile=profile, data=data):
                holder = store.locks.get(name) or current  # pragma: no cover - raced
                if holder is None:  # pragma: no cover - taken and released meanwhile
                    raise IdsyncError(f"{name} was taken by another process meanwhile; "
                                      "try again")
                raise LockHeld(holder)  # pragma: no cover - raced
            if takeover is not None:
                log.warning("lock taken over", extra={"lock": name, "from": takeover.text()})
                if on_takeover is not None:
                    on_takeover(takeover)
        return cls(store, name, token, lease, takeover)

    def start_heartbeat(self) -> None:
        self._heartbeat = _Heartbeat(self.store.db, self.name, self.token,
                                     max(0.2, self.lease / BEATS_PER_LEASE))
        self._heartbeat.start()

    def guard_commits(self) -> None:
        """From now on every commit of this store checks the lock is still ours."""
        self.store.db.add_commit_guard(self._guard)
        self._guarded = True

    def unguard(self) -> None:
        if self._guarded:
            self.store.db.remove_commit_guard(self._guard)
            self._guarded = False

    def _guard(self) -> None:
        if self.store.locks.token_of(self.name) != self.token:
            what = "sync cycle lock" if self.name == CYCLE_LOCK else "connector's run lock"
            raise LockLost(f"the {what} was taken over by another process (this one was "
                           f"silent longer than the lease of {self.lease} s); its last batch "
                           "was rolled back")

    def held(self) -> bool:
        return self.store.locks.token_of(self.name) == self.token

    def update(self, *, run_id: int | None = None, data: dict[str, Any] | None = None) -> None:
        if run_id is not None:
            self.store.locks.set_run(self.name, self.token, run_id)
        if data is not None:
            self.store.locks.set_data(self.name, self.token, data)

    def release(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        self.unguard()
        with self.store.transaction():
            self.store.locks.remove(self.name, self.token)

    @contextlib.contextmanager
    def held_for(self) -> Iterator[Lock]:
        """Heartbeat and guard while the block runs; released after it, whatever happens.
        Taken inside a caller's transaction (a preview runs the engine in one that is rolled
        back), the row is visible to nobody else and that transaction holds the store's write
        lock for its whole life: there is nothing to refresh or to guard."""
        if not self.store.db.in_transaction:
            self.start_heartbeat()
            self.guard_commits()
        try:
            yield self
        finally:
            self.release()


class _Heartbeat:
    """Refreshes one lock's heartbeat every ``interval`` seconds from a thread with its own
    connection, so nothing the holder's main thread does (a long LDAP page, a slow export
    call, a long write transaction on PostgreSQL) delays it."""

    def __init__(self, db: BaseDatabase, name: str, token: str, interval: float) -> None:
        self._source = db
        self.name = name
        self.token = token
        self.interval = interval
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"idsync-lock-{name}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=max(5.0, self.interval))

    def _run(self) -> None:
        db = self._source.connect_again()
        try:
            locks = LockRepository(db)
            while not self._stop.wait(self.interval):
                try:
                    if not locks.beat(self.name, self.token):
                        # Taken over: the commit guard stops the holder at its next commit.
                        self.lost = True
                        log.error("lock lost", extra={"lock": self.name})
                        return
                except Exception as exc:  # the database may be briefly unreachable; retry
                    log.warning("lock heartbeat failed", extra={"lock": self.name,
                                                                "error": str(exc)})
        finally:
            db.close()


# --- seeing and clearing locks --------------------------------------------------------------


@dataclass
class LockView:
    row: LockRow
    state: Liveness
    connector: str | None

    def to_dict(self) -> dict[str, Any]:
        r = self.row
        return {"lock": r.name, "connector": self.connector, "profile": r.profile,
                "run_id": r.run_id, "command": r.command, "host": r.host, "pid": r.pid,
                "since": r.since, "heartbeat_age_seconds": round(r.age_ms / 1000, 1),
                "state": self.state.value, "data": r.data}


def held_locks(store: Store) -> list[LockView]:
    """Every lock row with what its holder's state is now (a dead holder's row stays until
    the next taker replaces it)."""
    lease = lease_seconds(store)
    names = {c.id: c.name for c in store.connectors.list()}
    return [LockView(r, liveness(r, lease), names.get(r.connector_id or -1))
            for r in store.locks.list()]


def live_holders(store: Store) -> list[str]:
    """Who runs now (the cycle, runs), one description each: a restore or a database move
    waits for them."""
    if "locks" not in store.db.tables():  # a store opened unmigrated, older than the locks
        return []
    return [("a sync cycle: " if v.row.name == CYCLE_LOCK else f"a run of {v.connector}: ")
            + describe_holder(v.row) for v in held_locks(store) if v.state is Liveness.ALIVE]


def clear(store: Store, name: str, *, what: str, connector_id: int | None = None) -> LockRow:
    """Remove a lock whose holder is gone (what the next taker would do), with event 1013. A
    live holder's lock is refused: stop the holder first."""
    with store.transaction():
        row = store.locks.get(name)
        if row is None:
            raise ConfigurationError(f"{what} is not held")
        lease = lease_seconds(store)
        if liveness(row, lease) is Liveness.ALIVE:
            where = (f"stop it (kill {row.pid})" if same_machine(row) else
                     f"stop it on {row.host} (kill {row.pid} there), or wait {lease} s "
                     "after it stopped for its lease to expire")
            raise ConfigurationError(f"{what} is held by a live process: "
                                     f"{describe_holder(row)}; {where}; the next run then "
                                     "takes the lock over by itself")
        store.locks.remove(name, row.token)
        store.events.add(int(EventId.LOCK_CLEARED), level_of(EventId.LOCK_CLEARED),
                         f"{what} cleared by hand: {describe_holder(row)}",
                         connector_id=connector_id, data={"lock": name})
    return row
