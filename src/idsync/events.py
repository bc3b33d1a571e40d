"""Event IDs of the event log, in one place so administrators can filter and alert on them.

IDs taken from the system we model keep its numbers (116, 6949); the rest are idsync's own.
"""

from __future__ import annotations

from enum import IntEnum


class EventId(IntEnum):
    RUN_STARTED = 1000
    RUN_FINISHED = 1001
    RUN_FAILED = 1002
    RUN_ABANDONED = 1003
    #: idsync.locks: a run refused because its connector was busy, a dead holder's run lock
    #: taken over, a run that lost its lock, a lock cleared by hand
    RUN_REFUSED = 1010
    RUN_LOCK_RECOVERED = 1011
    RUN_LOCK_LOST = 1012
    LOCK_CLEARED = 1013
    DELETION_THRESHOLD_EXCEEDED = 116
    DELETION_THRESHOLD_CHANGED = 117
    IMPORT_DELETION_SAFETY = 118
    #: an import read records it could not understand (import errors); a full import among
    #: them may have inferred no deletes (idsync.engine.unreadable)
    IMPORT_RECORDS_UNREADABLE = 119
    # Data-safety guards (docs/decisions/limits.md).
    DELETION_LIMIT_CHANGED = 130
    EXPORTS_DISCARDED = 131
    MEMBER_REMOVAL_HELD = 132
    MEMBER_REMOVALS_ALLOWED = 133
    ATTRIBUTE_CHANGES_HELD = 134
    ATTRIBUTE_CHANGES_RELEASED = 135
    CONNECTIVITY_FAILURE = 6001
    ERROR_LIMIT_REACHED = 6012
    OBJECT_ERROR = 6100
    SYNC_RULE_ERROR = 6110
    #: a pending export whose cause is gone was cancelled (idsync.engine.reconciliation)
    EXPORT_CANCELLED = 6130
    DN_ATTRIBUTES_FAILURE = 6949
    #: the export run holds an object's changes because its source of authority is the
    #: cloud (Entra's onPremisesSyncBehavior.isCloudManaged): once per object when holding
    #: starts, not an export error; they go out when an import shows the authority back
    #: (idsync.engine.authority, docs/decisions/source-of-authority.md)
    CLOUD_MANAGED_SKIPPED = 6956
    RULES_CHANGED = 2000
    CONNECTOR_CHANGED = 2001
    SCHEDULER_CHANGED = 2002
    CONFIGURATION_PREVIEWED = 2010
    CONFIGURATION_CHANGE_HELD = 2011
    CYCLE_STARTED = 3000
    CYCLE_FINISHED = 3001
    CYCLE_LOCK_RECOVERED = 3002
    CONFIG_IMPORTED = 3003
    DATABASE_RESTORED = 3004
    RUN_HISTORY_PURGED = 3005


LEVELS = {
    EventId.DELETION_THRESHOLD_EXCEEDED: "warning",
    EventId.IMPORT_DELETION_SAFETY: "warning",
    EventId.IMPORT_RECORDS_UNREADABLE: "warning",
    EventId.EXPORTS_DISCARDED: "warning",
    EventId.MEMBER_REMOVAL_HELD: "warning",
    EventId.ATTRIBUTE_CHANGES_HELD: "warning",
    EventId.CONNECTIVITY_FAILURE: "error",
    EventId.ERROR_LIMIT_REACHED: "error",
    EventId.RUN_FAILED: "error",
    EventId.RUN_ABANDONED: "warning",
    EventId.CYCLE_LOCK_RECOVERED: "warning",
    EventId.RUN_REFUSED: "warning",
    EventId.RUN_LOCK_RECOVERED: "warning",
    EventId.RUN_LOCK_LOST: "error",
    EventId.LOCK_CLEARED: "warning",
    EventId.CONFIGURATION_CHANGE_HELD: "warning",
    EventId.OBJECT_ERROR: "warning",
    EventId.SYNC_RULE_ERROR: "warning",
    EventId.DN_ATTRIBUTES_FAILURE: "information",
    EventId.CLOUD_MANAGED_SKIPPED: "information",
}


def level_of(event_id: EventId) -> str:
    return LEVELS.get(event_id, "information")
