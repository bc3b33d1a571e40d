"""Scheduler settings, the fields of Get-ADSyncScheduler, kept in ``store.settings``.

``scheduler`` holds what an administrator sets (Set-ADSyncScheduler's fields); ``scheduler_state``
holds what the service records (last and next cycle); ``staging_mode`` is its own key because the
engine reads it on every Export run.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from idsync.errors import ConfigurationError
from idsync.locks import lease_seconds
from idsync.scheduler.lock import CycleLock, owner_alive
from idsync.store import Store

#: The reference's default cycle: every 30 minutes.
DEFAULT_INTERVAL = 30 * 60
#: The service minimum (AllowedSyncCycleInterval). Labs and tests lower it with this variable.
ALLOWED_INTERVAL_ENV = "IDSYNC_ALLOWED_SYNC_CYCLE_INTERVAL"
DEFAULT_PURGE_INTERVAL = 7 * 86400
#: A server (staging included) that has not synchronized for this long needs a full sync.
MAX_SYNC_GAP = 7 * 86400
POLICIES = ("delta", "initial")


class CycleStatus(StrEnum):
    """How a sync cycle ended (``last_cycle_status``, the cycle's event and JSON)."""

    IN_PROGRESS = "in-progress"
    SUCCESS = "success"
    #: Every run succeeded, some with informational errors only (idsync.error_codes:
    #: dn-attributes-failure): nothing to alert on.
    COMPLETED_WITH_WARNINGS = "completed-with-warnings"
    COMPLETED_WITH_ERRORS = "completed-with-errors"
    #: A run stopped before its end, or never started (its connector busy).
    COMPLETED_WITH_STOPPED_RUNS = "completed-with-stopped-runs"
    #: Stopped between run profiles when asked, or the cycle lock was taken over.
    STOPPED = "stopped"
    FAILED = "failed"


CYCLE_COMPLETED_WITH_WARNINGS = CycleStatus.COMPLETED_WITH_WARNINGS

SETTINGS_KEY = "scheduler"
STATE_KEY = "scheduler_state"
STAGING_KEY = "staging_mode"

_SPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?$")
_UNIT = re.compile(r"^(\d+)\s*([smhd]?)$")


def parse_interval(text: str | int) -> int:
    """Seconds from ``d.HH:mm:ss`` / ``HH:mm:ss`` (the reference's TimeSpan form), ``30m``,
    ``2h``, ``7d``, ``45s`` or plain seconds."""
    if isinstance(text, int):
        return text
    raw = text.strip().lower()
    m = _SPAN.match(raw)
    if m:
        days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
        return days * 86400 + hours * 3600 + minutes * 60 + seconds
    m = _UNIT.match(raw)
    if m:
        return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    raise ConfigurationError(
        f"interval {text!r}: use d.HH:mm:ss, HH:mm:ss, or a number with s, m, h or d")


def format_interval(seconds: int | None) -> str:
    if seconds is None:
        return ""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    span = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}.{span}" if days else span


def allowed_interval() -> int:
    raw = os.environ.get(ALLOWED_INTERVAL_ENV)
    if not raw:
        return DEFAULT_INTERVAL
    seconds = parse_interval(raw)
    if seconds < 1:
        raise ConfigurationError(f"{ALLOWED_INTERVAL_ENV} must be at least 1 second")
    return seconds


@dataclass
class SchedulerSettings:
    """What ``idsync scheduler set`` changes."""

    sync_cycle_enabled: bool = True
    #: CustomizedSyncCycleInterval in seconds; None means the default (30 minutes).
    customized_interval: int | None = None
    #: A new server starts with an initial cycle; a finished initial cycle turns it to delta.
    next_cycle_policy: str = "initial"
    purge_run_history_interval: int = DEFAULT_PURGE_INTERVAL
    maintenance_enabled: bool = True
    #: SchedulerSuspended: set while an upgrade or a restore works on the server.
    suspended: bool = False

    def effective_interval(self) -> int:
        """CurrentlyEffectiveSyncCycleInterval: the customized one, raised to the allowed."""
        return max(self.customized_interval or DEFAULT_INTERVAL, allowed_interval())


@dataclass
class SchedulerState:
    """What the service records about cycles."""

    last_cycle_start: str | None = None
    last_cycle_end: str | None = None
    last_cycle_status: str | None = None
    last_cycle_policy: str | None = None
    last_successful_cycle_end: str | None = None
    next_cycle_start: str | None = None
    last_purge: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _from_dict(cls: Any, data: dict[str, Any] | None) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in (data or {}).items() if k in names})


def settings_from_dict(data: dict[str, Any] | None) -> SchedulerSettings:
    """Scheduler settings from stored or exported fields (unknown fields are ignored)."""
    return _from_dict(SchedulerSettings, data)


def load_settings(store: Store) -> SchedulerSettings:
    return _from_dict(SchedulerSettings, store.settings.get(SETTINGS_KEY))


def save_settings(store: Store, settings: SchedulerSettings) -> None:
    validate(settings)
    store.settings.set(SETTINGS_KEY, asdict(settings))


def validate(settings: SchedulerSettings) -> None:
    if settings.next_cycle_policy not in POLICIES:
        raise ConfigurationError(f"next cycle policy must be one of {', '.join(POLICIES)}")
    if settings.customized_interval is not None and \
            settings.customized_interval < allowed_interval():
        raise ConfigurationError(
            f"the interval {format_interval(settings.customized_interval)} is below the allowed "
            f"minimum {format_interval(allowed_interval())}")
    if settings.purge_run_history_interval < 3600:
        raise ConfigurationError("the run history purge interval must be at least 1 hour")


def load_state(store: Store) -> SchedulerState:
    return _from_dict(SchedulerState, store.settings.get(STATE_KEY))


def save_state(store: Store, state: SchedulerState) -> None:
    store.settings.set(STATE_KEY, asdict(state))


def is_staging_mode(store: Store) -> bool:
    return bool(store.settings.get(STAGING_KEY, False))


def set_staging_mode(store: Store, enabled: bool) -> None:
    store.settings.set(STAGING_KEY, bool(enabled))


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def next_cycle_start(settings: SchedulerSettings, state: SchedulerState,
                     at: datetime | None = None) -> datetime:
    """The next cycle starts one effective interval after the last one started (``at``, by
    default now, when none has run yet)."""
    last = parse_iso(state.last_cycle_start)
    if last is None:
        return at or now()
    return last + timedelta(seconds=settings.effective_interval())


def service_record(store: Store) -> dict[str, Any] | None:
    """The running ``idsync serve`` of this workspace, or None (a dead one's record is
    ignored)."""
    record = store.settings.get("service")
    if record and owner_alive(record):
        return record
    return None


def scheduler_view(store: Store) -> dict[str, Any]:
    """Every field of Get-ADSyncScheduler, with idsync's names, plus the connector overrides."""
    s = load_settings(store)
    state = load_state(store)
    service = service_record(store)
    return {
        "allowed_sync_cycle_interval": format_interval(allowed_interval()),
        "currently_effective_sync_cycle_interval": format_interval(s.effective_interval()),
        "customized_sync_cycle_interval": format_interval(s.customized_interval),
        "next_sync_cycle_policy_type": s.next_cycle_policy.capitalize(),
        "next_sync_cycle_start_time_in_utc": iso(next_cycle_start(s, state)),
        "purge_run_history_interval": format_interval(s.purge_run_history_interval),
        "sync_cycle_enabled": s.sync_cycle_enabled,
        "maintenance_enabled": s.maintenance_enabled,
        "staging_mode_enabled": is_staging_mode(store),
        "scheduler_suspended": s.suspended,
        "sync_cycle_in_progress": bool(_lock_view(store)),
        "lock_lease": format_interval(lease_seconds(store)),
        "last_sync_cycle_start_time_in_utc": state.last_cycle_start,
        "last_sync_cycle_end_time_in_utc": state.last_cycle_end,
        "last_sync_cycle_result": state.last_cycle_status,
        "service": ({"pid": service["pid"], "host": service.get("host"),
                     "url": service.get("url")} if service else None),
        "connector_overrides": [
            {"connector": c.name, "full_import_required": c.full_import_required,
             "full_sync_required": c.full_sync_required}
            for c in store.connectors.list()],
    }


def _lock_view(store: Store) -> dict[str, Any] | None:
    return CycleLock(store).holder()


def hostname() -> str:
    return socket.gethostname()
