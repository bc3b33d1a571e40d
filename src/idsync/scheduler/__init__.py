"""The scheduler: sync cycles on a schedule or on demand, one at a time, and the service that
runs them (``idsync serve``). See docs/decisions/scheduler.md."""

from idsync.scheduler.cycle import CycleResult, CycleRunner, plan_cycle
from idsync.scheduler.lock import CycleLock, CycleRunning
from idsync.scheduler.settings import (
    SchedulerSettings,
    is_staging_mode,
    load_settings,
    save_settings,
    set_staging_mode,
)

__all__ = ["CycleLock", "CycleResult", "CycleRunner", "CycleRunning", "SchedulerSettings",
           "is_staging_mode", "load_settings", "plan_cycle", "save_settings",
           "set_staging_mode"]
