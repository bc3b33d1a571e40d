"""Health and Prometheus metrics of the service, read from the store on each request.

The text exposition format is written here directly: a handful of gauges and counters does not
need a client library.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from idsync.error_codes import INFORMATIONAL_CODES
from idsync.model import ExportState
from idsync.scheduler.lock import CycleLock
from idsync.scheduler.settings import is_staging_mode, load_settings, load_state, parse_iso
from idsync.store import Store


@dataclass
class ServiceCounters:
    """What the service counts in memory since it started."""

    cycles: Counter[str] = field(default_factory=Counter)
    runs: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    last_cycle_seconds: float = 0.0
    started_at: float = 0.0


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _line(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    if labels:
        inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items())
        return f"{name}{{{inner}}} {value}"
    return f"{name} {value}"


def render_metrics(store: Store, counters: ServiceCounters) -> str:
    out: list[str] = []

    def metric(name: str, kind: str, help_: str, samples: list[tuple[dict[str, str], float]]
               ) -> None:
        out.append(f"# HELP {name} {help_}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(_line(name, v, labels or None) for labels, v in samples)

    settings = load_settings(store)
    state = load_state(store)
    metric("idsync_sync_cycles_total", "counter", "Sync cycles run by this service, by status.",
           [({"status": s}, n) for s, n in sorted(counters.cycles.items())] or [({}, 0)])
    metric("idsync_runs_total", "counter", "Run profiles run by this service.",
           [({"connector": c, "profile": p, "status": s}, n)
            for (c, p, s), n in sorted(counters.runs.items())])
    metric("idsync_last_sync_cycle_duration_seconds", "gauge",
           "Duration of the last sync cycle.", [({}, round(counters.last_cycle_seconds, 3))])
    ended = parse_iso(state.last_cycle_end)
    metric("idsync_last_sync_cycle_end_timestamp_seconds", "gauge",
           "End of the last sync cycle (Unix time).", [({}, ended.timestamp() if ended else 0)])
    metric("idsync_sync_cycle_in_progress", "gauge", "1 while a sync cycle runs.",
           [({}, 1 if CycleLock(store).holder() else 0)])
    metric("idsync_sync_cycle_enabled", "gauge", "1 when scheduled cycles are enabled.",
           [({}, int(settings.sync_cycle_enabled))])
    metric("idsync_staging_mode", "gauge", "1 when staging mode is on (no exports).",
           [({}, int(is_staging_mode(store)))])
    connectors = store.connectors.list()
    metric("idsync_connector_space_objects", "gauge", "Objects in each connector space.",
           [({"connector": c.name}, store.cs.count(c.id)) for c in connectors])
    metric("idsync_pending_exports", "gauge",
           "Pending exports per connector: pending (not sent) and exported (sent, waiting "
           "for an import to confirm them).",
           [({"connector": c.name, "state": state}, store.exports.count(c.id, state=state))
            for c in connectors for state in (ExportState.PENDING, ExportState.EXPORTED)])
    errors, informational = object_error_counts(store)
    metric("idsync_object_errors", "gauge",
           "Errors held by objects, per connector (informational ones are not counted here: "
           "see idsync_object_informational_errors).",
           [({"connector": name}, n) for name, n in errors.items()])
    metric("idsync_object_informational_errors", "gauge",
           "Informational errors held by objects (dn-attributes-failure), per connector: "
           "nothing to alert on.",
           [({"connector": name}, n) for name, n in informational.items()])
    return "\n".join(out) + "\n"


def object_error_counts(store: Store) -> tuple[dict[str, int], dict[str, int]]:
    """Per connector: errors held by objects, and informational errors held by objects."""
    codes = sorted(INFORMATIONAL_CODES)
    connectors = store.connectors.list()
    return ({c.name: store.errors.count(c.id, except_codes=codes) for c in connectors},
            {c.name: store.errors.count(c.id, codes=codes) for c in connectors})


def health(store: Store, counters: ServiceCounters) -> dict[str, Any]:
    state = load_state(store)
    settings = load_settings(store)
    errors, informational = object_error_counts(store)
    return {"status": "ok", "sync_cycle_enabled": settings.sync_cycle_enabled,
            "object_errors": errors, "informational_errors": informational,
            "staging_mode": is_staging_mode(store), "cycle": CycleLock(store).holder(),
            "last_cycle_status": state.last_cycle_status,
            "last_cycle_end": state.last_cycle_end, "next_cycle_start": state.next_cycle_start,
            "cycles": dict(counters.cycles)}
