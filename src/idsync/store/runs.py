"""Run history and the event log."""

from __future__ import annotations

import builtins
import os
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from idsync import values
from idsync.secrets.redaction import redact
from idsync.store.database import BaseDatabase, utcnow


@dataclass(slots=True)
class RunRecord:
    id: int
    connector: str
    profile: str
    status: str
    started_at: str
    ended_at: str | None
    counters: dict[str, Any]
    message: str | None
    #: requests, bytes_sent, bytes_received over the connector's transport (empty: none).
    traffic: dict[str, int] = field(default_factory=dict)
    #: objects done so far and the total where the run knows it (None: not known)
    progress_done: int | None = None
    progress_total: int | None = None

    @property
    def outcome(self) -> RunOutcome:
        return outcome_of(self.status)


class RunOutcome(IntEnum):
    """How administrators rank the run history: what needs a look first. The value is the
    rank (runs in progress above everything)."""

    IN_PROGRESS = 0
    STOPPED = 1
    ERRORS = 2
    WARNINGS = 3
    SUCCESS = 4

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


def outcome_of(status: str) -> RunOutcome:
    """The rank of a run status (the same rule as ``_OUTCOME_SQL``)."""
    if status == "in-progress":
        return RunOutcome.IN_PROGRESS
    if status.startswith(("stopped-", "no-start-")):
        return RunOutcome.STOPPED
    if status.startswith("completed-") and status.endswith("-errors"):
        return RunOutcome.ERRORS
    if status == "completed-warnings":
        return RunOutcome.WARNINGS
    return RunOutcome.SUCCESS


#: ``outcome_of`` in SQL, for ordering and keyset paging in the database.
_OUTCOME_SQL = (
    "(CASE WHEN r.status = 'in-progress' THEN 0 "
    "WHEN r.status LIKE 'stopped-%' OR r.status LIKE 'no-start-%' THEN 1 "
    "WHEN r.status LIKE 'completed-%-errors' THEN 2 "
    "WHEN r.status = 'completed-warnings' THEN 3 ELSE 4 END)")


@dataclass(frozen=True, slots=True)
class RunFilter:
    """The run history's filters; None: any."""

    connector_id: int | None = None
    outcome: RunOutcome | None = None
    status: str | None = None
    #: ISO prefixes compared with ``started_at`` (``since`` inclusive, ``until`` exclusive)
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True, slots=True)
class RunErrorRow:
    """A per-object error of one run, with the object's first seen time and retries where
    the error is still kept on the object (``object_errors``)."""

    id: int
    cs_id: int | None
    dn: str | None
    stage: str
    code: str
    detail: str
    first_seen: str | None
    retry_count: int | None


@dataclass(frozen=True, slots=True)
class RunObjectRow:
    """An object a run's counter counted; ``dn``/``object_type`` are None once it is gone."""

    id: int
    cs_id: int | None
    mv_id: int | None
    dn: str | None
    object_type: str | None


@dataclass(slots=True)
class EventRecord:
    id: int
    event_id: int
    level: str
    time: str
    connector: str | None
    run_id: int | None
    message: str
    data: dict[str, Any] | None


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def start(self, connector_id: int, profile: str) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (connector_id, profile, status, started_at, pid) "
            "VALUES (?, ?, 'in-progress', ?, ?) RETURNING id",
            (connector_id, profile, utcnow(), os.getpid()))
        return cur.fetchone()[0]

    def finish(self, run_id: int, status: str, counters: dict[str, Any],
               message: str | None, traffic: dict[str, int] | None = None) -> None:
        self.db.execute(
            "UPDATE runs SET status = ?, ended_at = ?, counters = ?, message = ?, traffic = ? "
            "WHERE id = ?",
            # An error text may quote a secret the connector was given (idsync.secrets).
            (status, utcnow(), values.dumps(counters),
             None if message is None else redact(message),
             values.dumps(traffic) if traffic else None, run_id))

    def save_counters(self, run_id: int, counters: dict[str, Any], *,
                      done: int | None = None, total: int | None = None) -> None:
        self.db.execute(
            "UPDATE runs SET counters = ?, progress_done = ?, progress_total = ? WHERE id = ?",
            (values.dumps(counters), done, total, run_id))

    def add_objects(self, run_id: int,
                    rows: Iterable[tuple[str, int | None, int | None]]) -> None:
        """The objects behind counters: (counter, cs_id, mv_id) each."""
        self.db.executemany(
            "INSERT INTO run_objects (run_id, counter, cs_id, mv_id) VALUES (?, ?, ?, ?)",
            [(run_id, counter, cs_id, mv_id) for counter, cs_id, mv_id in rows])

    def traced(self, run_id: int, counters: Iterable[str]) -> set[str]:
        """Which of ``counters`` have objects recorded for this run (one indexed probe
        each)."""
        return {c for c in counters if self.db.query(
            "SELECT 1 FROM run_objects WHERE run_id = ? AND counter = ? LIMIT 1",
            (run_id, c))}

    def objects_page(self, run_id: int, counter: str, *, after: int = 0,
                     limit: int = 50) -> builtins.list[RunObjectRow]:
        """The objects one counter counted, in the order counted, keyset-paged by row id."""
        return [RunObjectRow(r[0], r[1], r[2], r[3] or r[5], r[4] or r[6])
                for r in self.db.query(
                    "SELECT o.id, o.cs_id, o.mv_id, c.dn, c.object_type, NULL, m.object_type "
                    "FROM run_objects o LEFT JOIN cs_objects c ON c.id = o.cs_id "
                    "LEFT JOIN mv_objects m ON m.id = o.mv_id "
                    "WHERE o.run_id = ? AND o.counter = ? AND o.id > ? ORDER BY o.id "
                    f"LIMIT {int(limit)}", (run_id, counter, after))]

    def add_error(self, run_id: int, cs_id: int | None, dn: str | None, stage: str, code: str,
                  detail: str) -> None:
        self.db.execute(
            "INSERT INTO run_errors (run_id, cs_id, dn, stage, code, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)", (run_id, cs_id, dn, stage, code, redact(detail)))

    def errors_page(self, run_id: int, *, stage: str | None = None, after: int = 0,
                    limit: int = 50) -> builtins.list[RunErrorRow]:
        """One page of a run's per-object errors in the order they happened, with first seen
        and retries from the object's kept error (None once it cleared)."""
        sql = ("SELECT e.id, e.cs_id, e.dn, e.stage, e.code, e.detail, o.first_seen, "
               "o.retry_count FROM run_errors e LEFT JOIN object_errors o "
               "ON o.cs_id = e.cs_id AND o.stage = e.stage AND o.code = e.code "
               "WHERE e.run_id = ? AND e.id > ?")
        params: list[Any] = [run_id, after]
        if stage is not None:
            sql += " AND e.stage = ?"
            params.append(stage)
        sql += f" ORDER BY e.id LIMIT {int(limit)}"
        return [RunErrorRow(*r) for r in self.db.query(sql, params)]

    def iter_errors(self, run_id: int, *, chunk: int = 1000) -> Iterator[RunErrorRow]:
        """Every error of a run, read a page at a time (a CSV download streams them)."""
        after = 0
        while rows := self.errors_page(run_id, after=after, limit=chunk):
            yield from rows
            after = rows[-1].id

    def errors(self, run_id: int) -> list[dict[str, Any]]:
        return [{"cs_id": r[0], "dn": r[1], "stage": r[2], "code": r[3], "detail": r[4]}
                for r in self.db.query(
                    "SELECT cs_id, dn, stage, code, detail FROM run_errors WHERE run_id = ? "
                    "ORDER BY id", (run_id,))]

    def refused(self, connector_id: int, profile: str, status: str, message: str) -> int:
        """A run that never started (its connector was busy): recorded, already ended."""
        now = utcnow()
        cur = self.db.execute(
            "INSERT INTO runs (connector_id, profile, status, started_at, ended_at, message, pid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (connector_id, profile, status, now, now, message, os.getpid()))
        return cur.fetchone()[0]

    def recover_abandoned(self, keep: Collection[int] = ()) -> list[int]:
        """Runs left in progress by a process that died: they end as ``stopped-server``.
        ``keep``: runs a live lock holds (on any host); the others are alive while their
        pid runs here."""
        keep = set(keep)
        dead = [r[0] for r in self.db.query(
            "SELECT id, pid FROM runs WHERE status = 'in-progress'")
            if r[0] not in keep and not _pid_alive(r[1])]
        for run_id in dead:
            self.db.execute(
                "UPDATE runs SET status = 'stopped-server', ended_at = ?, "
                "message = 'the process running it ended before it finished' WHERE id = ?",
                (utcnow(), run_id))
        return dead

    def get(self, run_id: int) -> RunRecord | None:
        rows = self._select("WHERE r.id = ?", (run_id,))
        return rows[0] if rows else None

    def list(self, *, connector_id: int | None = None, limit: int = 50) -> list[RunRecord]:
        # No LIMIT at all for 0 (PostgreSQL refuses SQLite's LIMIT -1).
        tail = f" LIMIT {int(limit)}" if limit else ""
        if connector_id is not None:
            return self._select("WHERE r.connector_id = ? ORDER BY r.id DESC" + tail,
                                (connector_id,))
        return self._select("ORDER BY r.id DESC" + tail, ())

    def page(self, where: RunFilter, *, after: tuple[int, int] | None = None,
             limit: int = 50) -> builtins.list[RunRecord]:
        """The run history as administrators rank it (in progress, stopped, errors, warnings,
        success; newest first within each), filtered, keyset-paged by ``after`` = (rank, id)
        of the last run of the previous page."""
        clauses: list[str] = []
        params: list[Any] = []
        for clause, value in (("r.connector_id = ?", where.connector_id),
                              ("r.status = ?", where.status),
                              ("r.started_at >= ?", where.since),
                              ("r.started_at < ?", where.until)):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        if where.outcome is not None:
            clauses.append(f"{_OUTCOME_SQL} = ?")
            params.append(int(where.outcome))
        if after is not None:
            clauses.append(f"({_OUTCOME_SQL} > ? OR ({_OUTCOME_SQL} = ? AND r.id < ?))")
            params += [after[0], after[0], after[1]]
        tail = ("WHERE " + " AND ".join(clauses) + " " if clauses else "")
        return self._select(tail + f"ORDER BY {_OUTCOME_SQL}, r.id DESC LIMIT {int(limit)}",
                            tuple(params))

    def in_progress(self, limit: int = 10) -> builtins.list[RunRecord]:
        return self._select(f"WHERE r.status = 'in-progress' ORDER BY r.id DESC "
                            f"LIMIT {int(limit)}", ())

    def _select(self, tail: str, params: Sequence[Any]) -> builtins.list[RunRecord]:
        return [RunRecord(r[0], r[1], r[2], r[3], r[4], r[5], values.loads(r[6]) or {}, r[7],
                          (values.loads(r[8]) if r[8] else None) or {}, r[9], r[10])
                for r in self.db.query(
                    "SELECT r.id, k.name, r.profile, r.status, r.started_at, r.ended_at, "
                    "r.counters, r.message, r.traffic, r.progress_done, r.progress_total "
                    "FROM runs r JOIN connectors k ON k.id = r.connector_id " + tail, params)]

    def purge(self, before_iso: str) -> int:
        ids = [r[0] for r in self.db.query("SELECT id FROM runs WHERE started_at < ? "
                                           "AND status <> 'in-progress'", (before_iso,))]
        self.db.executemany("DELETE FROM run_errors WHERE run_id = ?", [(i,) for i in ids])
        self.db.executemany("DELETE FROM run_objects WHERE run_id = ?", [(i,) for i in ids])
        self.db.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in ids])
        return len(ids)


class EventRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def add(self, event_id: int, level: str, message: str, *, connector_id: int | None = None,
            run_id: int | None = None, data: dict[str, Any] | None = None) -> None:
        self.db.execute(
            "INSERT INTO events (event_id, level, time, connector_id, run_id, message, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event_id, level, utcnow(), connector_id, run_id, redact(message),
             redact(values.dumps(data)) if data else None))

    def list(self, *, event_id: int | None = None, level: str | None = None,
             run_id: int | None = None, connector_id: int | None = None,
             limit: int = 100) -> list[EventRecord]:
        sql = ("SELECT e.id, e.event_id, e.level, e.time, k.name, e.run_id, e.message, e.data "
               "FROM events e LEFT JOIN connectors k ON k.id = e.connector_id")
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("e.event_id", event_id), ("e.level", level),
                              ("e.run_id", run_id), ("e.connector_id", connector_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY e.id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [EventRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], values.loads(r[7]))
                for r in self.db.query(sql, params)]
