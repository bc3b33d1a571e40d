"""The ``locks`` table: who holds the sync cycle and each connector's runs.

Rows are written inside the caller's write transaction; ``heartbeat`` and the ages it gives are
in milliseconds of the *database's* clock, so hosts whose clocks disagree still agree on how old
a heartbeat is. What a row means (alive, ended, lease expired) is ``idsync.locks``'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idsync import values
from idsync.store.database import BaseDatabase, utcnow

_COLUMNS = ("name, token, connector_id, profile, run_id, command, host, boot_id, pid, "
            "process_start, since, heartbeat, data")


@dataclass(slots=True)
class LockRow:
    name: str
    token: str
    connector_id: int | None
    profile: str | None
    run_id: int | None
    command: str
    host: str
    boot_id: str | None
    pid: int
    process_start: str | None
    since: str
    heartbeat: int
    data: dict[str, Any]
    #: milliseconds since the last heartbeat, by the database's clock
    age_ms: int


class LockRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def _now(self) -> str:
        """The database clock in milliseconds since the epoch, as an SQL expression."""
        if self.db.dialect == "postgresql":
            return "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)"
        return "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

    def _select(self, tail: str, params: tuple[Any, ...]) -> list[LockRow]:
        rows = self.db.query(f"SELECT {_COLUMNS}, {self._now()} - heartbeat FROM locks {tail}",
                             params)
        return [LockRow(name=r[0], token=r[1], connector_id=r[2], profile=r[3], run_id=r[4],
                        command=r[5], host=r[6], boot_id=r[7], pid=r[8], process_start=r[9],
                        since=r[10], heartbeat=r[11], data=values.loads(r[12]) or {},
                        age_ms=int(r[13])) for r in rows]

    def get(self, name: str) -> LockRow | None:
        found = self._select("WHERE name = ?", (name,))
        return found[0] if found else None

    def list(self) -> list[LockRow]:
        return self._select("ORDER BY since", ())

    def insert(self, name: str, token: str, *, command: str, host: str, boot_id: str | None,
               pid: int, process_start: str | None, connector_id: int | None = None,
               profile: str | None = None, data: dict[str, Any] | None = None) -> bool:
        """Take ``name``: False when a row already holds it (nothing written)."""
        cur = self.db.execute(
            f"INSERT INTO locks ({_COLUMNS}) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, "
            f"{self._now()}, ?) ON CONFLICT (name) DO NOTHING",
            (name, token, connector_id, profile, command, host, boot_id, pid, process_start,
             utcnow(), values.dumps(data) if data else None))
        return cur.rowcount == 1

    def beat(self, name: str, token: str) -> bool:
        """Refresh the heartbeat; False when the lock is no longer ours."""
        cur = self.db.execute(f"UPDATE locks SET heartbeat = {self._now()} "
                              "WHERE name = ? AND token = ?", (name, token))
        return cur.rowcount == 1

    def remove(self, name: str, token: str, heartbeat: int | None = None) -> bool:
        """Delete the row if it is still the one read (same token and, when given, the same
        heartbeat: a holder that refreshed it meanwhile is alive after all)."""
        sql = "DELETE FROM locks WHERE name = ? AND token = ?"
        params: list[Any] = [name, token]
        if heartbeat is not None:
            sql += " AND heartbeat = ?"
            params.append(heartbeat)
        return self.db.execute(sql, params).rowcount == 1

    def set_run(self, name: str, token: str, run_id: int) -> None:
        self.db.execute("UPDATE locks SET run_id = ? WHERE name = ? AND token = ?",
                        (run_id, name, token))

    def set_data(self, name: str, token: str, data: dict[str, Any]) -> None:
        self.db.execute("UPDATE locks SET data = ? WHERE name = ? AND token = ?",
                        (values.dumps(data), name, token))

    def token_of(self, name: str) -> str | None:
        return self.db.scalar("SELECT token FROM locks WHERE name = ?", (name,))

    def clear_all(self) -> int:
        return self.db.execute("DELETE FROM locks").rowcount
