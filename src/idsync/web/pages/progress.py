"""A run's live progress as the Operations page shows it: objects done, the total where the
run knows it, the rate and the time left. Pure arithmetic on the run's record (its counters
and progress are saved with each committed batch), so it is tested without a browser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from idsync.store.runs import RunRecord


@dataclass(frozen=True, slots=True)
class Progress:
    run_id: int
    connector: str
    profile: str
    done: int
    #: None: the run does not know how many objects it will see (an import)
    total: int | None
    seconds: float
    #: objects per second since the run started (None before the first second)
    rate: float | None
    #: seconds left at this rate (None: no total or no rate yet)
    eta_seconds: float | None

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.done / self.total))


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def progress_of(run: RunRecord, now: datetime) -> Progress:
    # Runs recorded before the progress columns: the sum of their counters is the best guess.
    done = run.progress_done if run.progress_done is not None else sum(
        v for v in run.counters.values() if isinstance(v, int))
    total = run.progress_total
    seconds = max(0.0, (now - parse_time(run.started_at)).total_seconds())
    rate = done / seconds if seconds >= 1 and done else None
    eta = None
    if total is not None and rate:
        eta = max(0.0, (total - min(done, total)) / rate)
    return Progress(run.id, run.connector, run.profile, done, total, seconds, rate, eta)


def duration(seconds: float | None) -> str:
    """``1 h 02 min``, ``3 min 05 s``, ``12 s``: what a person reads at a glance."""
    if seconds is None:
        return "unknown"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
