"""The overview's figures (the web UI's /dashboard): run durations and rates per connector and
run profile, objects by state, the most frequent export errors and the pending exports by
kind. Each comes from one bounded store query; nothing here reads a connector space."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from idsync.error_codes import Stage
from idsync.model import RunProfile
from idsync.store import Store
from idsync.store.object_errors import ErrorCodeCount
from idsync.store.run_statistics import RunPoint
from idsync.store.space_statistics import SpaceCounts

#: What an import counts per object; other counters of an import (exports confirmed) repeat
#: objects already counted. Synchronization and export: the sum of their counters (an object
#: may count twice, a join and an update), as `python -m bench` counts them.
IMPORT_COUNTERS = ("adds", "updates", "no-change", "deletes", "renames")
IMPORT_PROFILES = (RunProfile.FULL_IMPORT.value, RunProfile.DELTA_IMPORT.value)
#: The shortest duration a rate divides by: a run of no measurable length is not infinitely
#: fast.
MIN_SECONDS = 0.001
MAX_RUNS_PER_SERIES = 200


@dataclass(frozen=True, slots=True)
class RunFigure:
    run_id: int
    started_at: datetime
    seconds: float
    objects: int

    @property
    def rate(self) -> float:
        return self.objects / max(self.seconds, MIN_SECONDS)


@dataclass(slots=True)
class ConnectorRuns:
    """One connector's recent runs, by run profile (oldest first)."""

    connector: str
    by_profile: dict[str, list[RunFigure]] = field(default_factory=dict)


@dataclass(slots=True)
class Overview:
    runs: list[ConnectorRuns]
    spaces: list[SpaceCounts]
    export_errors: list[ErrorCodeCount]


def objects_of(profile: str, counters: Mapping[str, Any]) -> int:
    keys = IMPORT_COUNTERS if profile in IMPORT_PROFILES else None
    return sum(v for k, v in counters.items()
               if isinstance(v, int) and not isinstance(v, bool)
               and (keys is None or k in keys))


def figure_of(run: RunPoint) -> RunFigure:
    started = _aware(run.started_at)
    seconds = max((_aware(run.ended_at) - started).total_seconds(), 0.0)
    return RunFigure(run.id, started, seconds, objects_of(run.profile, run.counters))


def _aware(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def runs_by_connector(points: list[RunPoint]) -> list[ConnectorRuns]:
    out: dict[str, ConnectorRuns] = {}
    for run in points:
        series = out.setdefault(run.connector, ConnectorRuns(run.connector))
        series.by_profile.setdefault(run.profile, []).append(figure_of(run))
    for series in out.values():
        for figures in series.by_profile.values():
            figures.sort(key=lambda f: f.run_id)
    return sorted(out.values(), key=lambda c: c.connector)


def overview(store: Store, *, runs_per_series: int = 20, top_errors: int = 10) -> Overview:
    per_series = max(1, min(int(runs_per_series), MAX_RUNS_PER_SERIES))
    return Overview(runs=runs_by_connector(store.run_stats.recent(per_series=per_series)),
                    spaces=store.space_stats.by_connector(),
                    export_errors=store.errors.top_codes(Stage.EXPORT.value, limit=top_errors))
