"""The administrator audit log, as administration/ and its callers have always imported it.

The recording itself lives in ``idsync.audit_log``, a neutral module that scheduler/ and
largegroups/ may import too (they may not import administration/): their operations record
their own changes, so the web UI and the command line are audited alike."""

from __future__ import annotations

from idsync.audit_log import (
    SECRET_CHANGED,
    Actor,
    AuditAction,
    Via,
    acting_as,
    changed_fields,
    current_actor,
    os_user,
    record_change,
    record_settings,
    secret_changes,
    set_actor,
    settings_snapshot,
)

__all__ = ["SECRET_CHANGED", "Actor", "AuditAction", "Via", "acting_as", "changed_fields",
           "current_actor", "os_user", "record_change", "record_settings", "secret_changes",
           "set_actor", "settings_snapshot"]
