"""Run history and the event log."""

from __future__ import annotations

import builtins
import os
from collections.abc import Collection
from dataclasses import dataclass, field
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

    def save_counters(self, run_id: int, counters: dict[str, Any]) -> None:
        self.db.execute("UPDATE runs SET counters = ? WHERE id = ?",
                        (values.dumps(counters), run_id))

    def add_error(self, run_id: int, cs_id: int | None, dn: str | None, stage: str, code: str,
                  detail: str) -> None:
        self.db.execute(
            "INSERT INTO run_errors (run_id, cs_id, dn, stage, code, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)", (run_id, cs_id, dn, stage, code, redact(detail)))

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

    def _select(self, tail: str, params: tuple[Any, ...]) -> builtins.list[RunRecord]:
        return [RunRecord(r[0], r[1], r[2], r[3], r[4], r[5], values.loads(r[6]) or {}, r[7],
                          (values.loads(r[8]) if r[8] else None) or {})
                for r in self.db.query(
                    "SELECT r.id, k.name, r.profile, r.status, r.started_at, r.ended_at, "
                    "r.counters, r.message, r.traffic "
                    "FROM runs r JOIN connectors k ON k.id = r.connector_id " + tail, params)]

    def purge(self, before_iso: str) -> int:
        ids = [r[0] for r in self.db.query("SELECT id FROM runs WHERE started_at < ? "
                                           "AND status <> 'in-progress'", (before_iso,))]
        self.db.executemany("DELETE FROM run_errors WHERE run_id = ?", [(i,) for i in ids])
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
