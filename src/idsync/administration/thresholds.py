"""The export deletion threshold, the deletion limits and the share limits as an
administrator changes them (``idsync export-deletion-threshold``, ``deletion-limit``,
``member-removal-limit``, ``attribute-change-limit`` and the web UI's settings page):
validated, saved with their audit entry and event in one transaction."""

from __future__ import annotations

from typing import Any

from idsync.administration.audit import (
    AuditAction,
    changed_fields,
    record_change,
    record_settings,
    settings_snapshot,
)
from idsync.engine import deletion_limits
from idsync.engine.deletion_limits import THRESHOLD_KEY, DeletionLimit, deletion_threshold
from idsync.engine.share_limits import ShareLimitSetting
from idsync.errors import ConfigurationError
from idsync.events import EventId
from idsync.store import Store


def save_deletion_threshold(store: Store, *, enabled: bool, count: int) -> dict[str, Any]:
    """Set the export deletion threshold; returns the new value."""
    if count < 1:
        raise ConfigurationError("the threshold must be at least 1; use `disable` to turn it off")
    value = {"enabled": bool(enabled), "count": int(count)}
    with store.transaction():
        before = deletion_threshold(store)
        store.settings.set(THRESHOLD_KEY, value)
        old, new = changed_fields(before, value)
        if old or new:
            record_change(store, AuditAction.EXPORT_DELETION_THRESHOLD,
                          "export deletion threshold", old, new)
        state = "enabled" if value["enabled"] else "disabled"
        store.events.add(int(EventId.DELETION_THRESHOLD_CHANGED), "information",
                         f"export deletion threshold: {state}, {value['count']} deletes")
    return value


def set_share_limit(store: Store, setting: ShareLimitSetting, action: AuditAction, noun: str,
                    connector: str, *, percent: float | None, minimum: int | None,
                    off: bool = False) -> str:
    """Set one connector's member removal or attribute change limit; returns what it is."""
    record = store.connectors.get(connector)
    if not off and percent is None and minimum is None:
        raise ConfigurationError(f"give --percent P, {setting.option} N, or --off")
    with store.transaction():
        before = settings_snapshot(store)
        value = setting.set_limit(store, record.name, percent=percent, minimum=minimum,
                                  off=off)
        record_settings(store, action, record.name, before)
        store.events.add(int(EventId.DELETION_LIMIT_CHANGED), "information",
                         f"{noun} of {record.name}: {value}", connector_id=record.id)
    return str(value)


def reset_share_limit(store: Store, setting: ShareLimitSetting, action: AuditAction, noun: str,
                      connector: str) -> None:
    """Remove one connector's own limit: the server's or the default applies again."""
    record = store.connectors.get(connector)
    with store.transaction():
        before = settings_snapshot(store)
        setting.reset_limit(store, record.name)
        record_settings(store, action, record.name, before)
        store.events.add(int(EventId.DELETION_LIMIT_CHANGED), "information",
                         f"{noun} of {record.name} reset to the default",
                         connector_id=record.id)


def _what(record_name: str, object_type: str | None) -> str:
    return f"{record_name} {object_type or 'each object type'}"


def set_deletion_limit(store: Store, connector: str, object_type: str | None, *,
                       count: int | None, percent: float | None,
                       floor: int | None) -> DeletionLimit:
    """Set a connector's deletion limit (one object type, or each without its own)."""
    record = store.connectors.get(connector)
    with store.transaction():
        before = settings_snapshot(store)
        deletion_limits.set_limit(store, record, object_type, count=count, percent=percent,
                                  floor=floor)
        record_settings(store, AuditAction.DELETION_LIMIT, _what(record.name, object_type),
                        before)
        limit = deletion_limits.limit_for(store, record.name, object_type or "")
        assert limit is not None  # just set
        store.events.add(int(EventId.DELETION_LIMIT_CHANGED), "information",
                         f"deletion limit of {_what(record.name, object_type)}: "
                         f"{limit.describe()}", connector_id=record.id)
    return limit


def set_default_deletion_percent(store: Store, percent: float, floor: int) -> None:
    """The default's percentage (its count is the export deletion threshold's)."""
    deletion_limits.validate(None, percent, floor)
    with store.transaction():
        before = settings_snapshot(store)
        store.settings.set(deletion_limits.DEFAULT_KEY, {"percent": percent, "floor": floor})
        record_settings(store, AuditAction.DELETION_LIMIT, "default", before)
        store.events.add(int(EventId.DELETION_LIMIT_CHANGED), "information",
                         f"default deletion limit: {percent:g}% from {floor} deletes")


def reset_deletion_limit(store: Store, connector: str, object_type: str | None) -> None:
    """Remove a connector's own deletion limit (the default applies again); refused when it
    has none."""
    record = store.connectors.get(connector)
    with store.transaction():
        before = settings_snapshot(store)
        found = deletion_limits.reset_limit(store, record, object_type)
        record_settings(store, AuditAction.DELETION_LIMIT, _what(record.name, object_type),
                        before)
        if found:
            store.events.add(int(EventId.DELETION_LIMIT_CHANGED), "information",
                             f"deletion limit of {_what(record.name, object_type)} reset",
                             connector_id=record.id)
    if not found:
        raise ConfigurationError(f"{record.name} has no deletion limit of its own"
                                 + (f" for {object_type}" if object_type else ""))
