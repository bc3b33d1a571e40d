"""Starting and stopping sync cycles and running one profile, as an administrator asks it of
the running service (the web UI's Operations buttons): the checks ``idsync cycle start``
makes, the request the service loop consumes, and the audit entry, in one transaction.

The scheduler may not import the administration layer, so the audit entry is written here,
around the scheduler's request functions, not inside them.
"""

from __future__ import annotations

from typing import Any

from idsync.administration.audit import AuditAction, current_actor, record_change
from idsync.errors import ConfigurationError
from idsync.model import RunProfile
from idsync.scheduler.lock import CycleLock, CycleRunning, request_stop
from idsync.scheduler.service import (
    REQUEST_KEY,
    RUN_REQUEST_KEY,
    request_cycle,
    request_run,
)
from idsync.scheduler.settings import POLICIES, load_settings, service_record
from idsync.store import Store

CYCLE_TARGET = "sync cycle"


def _service(store: Store) -> None:
    if not service_record(store):
        raise ConfigurationError("idsync serve is not running on this workspace: nothing "
                                 "would start the request")


def start_cycle(store: Store, policy: str) -> None:
    """Ask the service for a ``policy`` cycle now; refused while one runs or waits."""
    if policy not in POLICIES:
        raise ConfigurationError(f"unknown cycle policy {policy!r}: choose delta or initial")
    _service(store)
    with store.transaction():
        holder = CycleLock(store).holder()
        if holder:
            raise CycleRunning(f"a {holder.get('policy')} sync cycle is already running "
                               f"(started {str(holder.get('started_at'))[:19]}): stop it or "
                               "wait for it")
        if store.settings.get(REQUEST_KEY) or store.settings.get(RUN_REQUEST_KEY):
            raise CycleRunning("a cycle or a run is already requested: the service starts it "
                               "within a second")
        if load_settings(store).suspended:
            raise ConfigurationError("the scheduler is suspended (an upgrade or a restore is "
                                     "under way): resume it first")
        request_cycle(store, policy)
        record_change(store, AuditAction.CYCLE_START, CYCLE_TARGET, None, {"policy": policy})


def stop_cycle(store: Store) -> dict[str, Any]:
    """Ask the running cycle to stop after its current run profile; returns its lock
    record. Refused (nothing recorded) when no cycle runs."""
    with store.transaction():
        holder = request_stop(store)
        if holder is None:
            raise ConfigurationError("no sync cycle is running: nothing to stop")
        record_change(store, AuditAction.CYCLE_STOP, CYCLE_TARGET,
                      {"policy": holder.get("policy"), "step": holder.get("step")}, None)
    return holder


def start_run(store: Store, connector: str, profile: str) -> RunProfile:
    """Ask the service to run one profile on one connector."""
    try:
        chosen = RunProfile.parse(profile)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    _service(store)
    with store.transaction():
        request_run(store, connector, chosen, by=current_actor().name)
        record_change(store, AuditAction.RUN_START, connector, None,
                      {"profile": chosen.value})
    return chosen
