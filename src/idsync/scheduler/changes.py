"""A change of the scheduler's settings (Set-ADSyncScheduler, plus staging mode and the lock
lease), as ``idsync scheduler set`` and the web UI's settings page both make it: validated,
saved in one transaction with its audit entry and its event.

Leaving staging mode on a server whose cloud connector is on API v1 (a swing back from a v2
server) deletes the groups above the v1 limit: ``swing_back_for`` lists them first, and the
caller shows them and asks for a confirmation before it passes them to ``change_scheduler``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from idsync.audit_log import (
    AuditAction,
    changed_fields,
    record_change,
    record_settings,
    settings_snapshot,
)
from idsync.errors import ConfigurationError
from idsync.events import EventId
from idsync.largegroups.swing import SwingGroup, stage_swing_back, swing_back_plan
from idsync.locks import set_lease
from idsync.scheduler.settings import (
    POLICIES,
    is_staging_mode,
    load_settings,
    parse_interval,
    save_settings,
    set_staging_mode,
)
from idsync.store import Store

#: What ``--interval`` takes to return to the default (30 minutes).
DEFAULT_WORD = "default"


@dataclass(frozen=True)
class SchedulerChange:
    """The fields to change; None leaves a field as it is. Intervals are text as typed
    (``d.HH:mm:ss``, ``30m``...), parsed here so both callers refuse them alike."""

    sync_cycle_enabled: bool | None = None
    interval: str | None = None
    next_cycle_policy: str | None = None
    purge_run_history_interval: str | None = None
    maintenance_enabled: bool | None = None
    staging_mode: bool | None = None
    suspended: bool | None = None
    lock_lease: str | None = None


@dataclass
class SchedulerChangeResult:
    #: one phrase per field changed, for the message and the event
    changes: list[str] = field(default_factory=list)
    #: large-group deletes staged by leaving staging mode (a swing back to API v1)
    deletes: int = 0


def leaves_staging_mode(store: Store, change: SchedulerChange) -> bool:
    return change.staging_mode is False and is_staging_mode(store)


def swing_back_for(store: Store, workspace: str, change: SchedulerChange) -> list[SwingGroup]:
    """The groups above the API v1 limit that leaving staging mode deletes (none when the
    change does not leave staging mode)."""
    if not leaves_staging_mode(store, change):
        return []
    return swing_back_plan(store, workspace)


def swing_deletes(plan: list[SwingGroup]) -> int:
    return sum(1 for g in plan if g.deleted)


def change_scheduler(store: Store, change: SchedulerChange,
                     swing: list[SwingGroup] | None = None) -> SchedulerChangeResult:
    """Apply ``change`` in one transaction (refused whole on a bad value: nothing changes),
    recording it in the audit log as the acting admin's. ``swing`` is the confirmed plan of
    ``swing_back_for``; its deletes are staged."""
    result = SchedulerChangeResult()
    changes = result.changes
    if change.next_cycle_policy is not None and \
            change.next_cycle_policy.lower() not in POLICIES:
        raise ConfigurationError(f"next cycle policy must be one of {', '.join(POLICIES)}")
    with store.transaction():
        s = load_settings(store)
        before = asdict(s)
        if change.sync_cycle_enabled is not None:
            s.sync_cycle_enabled = change.sync_cycle_enabled
            changes.append(f"sync cycle enabled {s.sync_cycle_enabled}")
        if change.interval is not None:
            s.customized_interval = (None if change.interval.strip() == DEFAULT_WORD
                                     else parse_interval(change.interval))
            changes.append(f"interval {change.interval}")
        if change.next_cycle_policy is not None:
            s.next_cycle_policy = change.next_cycle_policy.lower()
            changes.append(f"next cycle policy {s.next_cycle_policy}")
        if change.purge_run_history_interval is not None:
            s.purge_run_history_interval = parse_interval(change.purge_run_history_interval)
            changes.append(f"purge run history interval {change.purge_run_history_interval}")
        if change.maintenance_enabled is not None:
            s.maintenance_enabled = change.maintenance_enabled
            changes.append(f"maintenance enabled {s.maintenance_enabled}")
        if change.suspended is not None:
            s.suspended = change.suspended
            changes.append(f"suspended {s.suspended}")
        save_settings(store, s)
        old, new = changed_fields(before, asdict(s))
        if old or new:
            record_change(store, AuditAction.SCHEDULER_SET, "scheduler", old, new)
        if change.staging_mode is not None:
            staged = is_staging_mode(store)
            set_staging_mode(store, change.staging_mode)
            changes.append(f"staging mode {change.staging_mode}")
            if staged != change.staging_mode:
                record_change(store, AuditAction.STAGING_MODE, "staging mode",
                              {"staging_mode": staged}, {"staging_mode": change.staging_mode})
        result.deletes = stage_swing_back(store, swing or [])
        if result.deletes:
            changes.append(f"{result.deletes} large group delete(s) staged (API v1 cannot hold "
                           "them; review with `idsync export preview`, the deletion threshold "
                           "applies)")
        if change.lock_lease is not None:
            lease_before = settings_snapshot(store)
            set_lease(store, parse_interval(change.lock_lease))
            changes.append(f"lock lease {change.lock_lease}")
            record_settings(store, AuditAction.SCHEDULER_SET, "lock lease", lease_before)
        if changes:
            store.events.add(int(EventId.SCHEDULER_CHANGED), "information",
                             "scheduler: " + ", ".join(changes))
    return result
