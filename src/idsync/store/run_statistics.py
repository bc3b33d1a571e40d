"""The run history as the overview's charts read it: the last runs of each connector and run
profile, bounded so the query costs the same with a year of history as with a day."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idsync import values
from idsync.store.database import BaseDatabase

#: How far back (in runs, by id) the per-series query looks: the primary key bounds the scan,
#: whatever the history holds (a run every few minutes keeps tens of thousands of rows).
RECENT_RUNS = 5000


@dataclass(slots=True)
class RunPoint:
    """One ended run: when, how long, what it counted."""

    id: int
    connector: str
    profile: str
    status: str
    started_at: str
    ended_at: str
    counters: dict[str, Any]


class RunStatistics:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def recent(self, *, per_series: int = 20, since: str | None = None,
               window: int = RECENT_RUNS) -> list[RunPoint]:
        """The last ``per_series`` ended runs of each (connector, run profile), among the last
        ``window`` runs and (``since``, an ISO time) started since then; by connector,
        profile and id. The window function keeps each series' newest in SQL, so the answer
        is at most series x ``per_series`` rows."""
        # The window numbers ids only; the chosen rows' counters are read by primary key.
        sql = ("SELECT r.id, k.name, r.profile, r.status, r.started_at, r.ended_at, r.counters "
               "FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY connector_id, profile "
               "ORDER BY id DESC) AS n FROM runs "
               "WHERE id > (SELECT COALESCE(MAX(id), 0) FROM runs) - ? "
               "AND ended_at IS NOT NULL AND status <> 'in-progress'")
        params: list[Any] = [int(window)]
        if since:
            sql += " AND started_at >= ?"
            params.append(since)
        sql += (") w JOIN runs r ON r.id = w.id JOIN connectors k ON k.id = r.connector_id "
                "WHERE w.n <= ? ORDER BY k.name, r.profile, r.id")
        params.append(int(per_series))
        return [RunPoint(r[0], r[1], r[2], r[3], r[4], r[5], values.loads(r[6]) or {})
                for r in self.db.query(sql, params)]
