"""Deletion limits: how many deletes of one object type a connector may send (or a full import
may stage) before the run stops, as a count or as a share of the connector space.

A limit is looked up from the most specific setting: the connector's object type, the
connector as a whole, then the server default. The server default is the export deletion
threshold's count (``idsync export-deletion-threshold``, 500) together with a percentage that
applies once a floor of deletes is reached (20% from 50 deletes): a 10-object test directory
never trips it, a 1,000-user directory stops at 200 deletes, 250,000 users stop at 500.

``limit_breaches`` is the one entry point: the export, the full import's shrink guard and the
configuration-change preview all ask it about the deletes they hold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from idsync.engine.core import RunContext
from idsync.engine.delete_causes import delete_causes
from idsync.engine.recorder import RunRecorder
from idsync.errors import ConfigurationError, DeletionThresholdExceeded
from idsync.events import EventId
from idsync.model import ConnectorRecord, ExportKind
from idsync.store import Store

#: The server default's percentage and the number of deletes from which it applies.
DEFAULT_PERCENT = 20.0
DEFAULT_FLOOR = 50
DEFAULT_COUNT = 500

LIMITS_KEY = "deletion_limits"  # {connector: {"*" | object type: {count, percent, floor}}}
DEFAULT_KEY = "deletion_limit_default"  # {percent, floor}; the count is the threshold's
THRESHOLD_KEY = "export_deletion_threshold"  # {enabled, count}
ALL_TYPES = "*"


class LimitSource(StrEnum):
    DEFAULT = "default"
    CONNECTOR = "connector"
    OBJECT_TYPE = "object type"


@dataclass(frozen=True)
class DeletionLimit:
    """Deletes stop at ``count`` (when set) or above ``percent`` of the objects of the type
    once at least ``floor`` deletes are held (when set)."""

    count: int | None
    percent: float | None
    floor: int
    source: LimitSource

    def exceeded(self, deletes: int, objects: int) -> bool:
        if deletes <= 0:
            return False
        if self.count is not None and deletes >= self.count:
            return True
        return (self.percent is not None and deletes >= self.floor
                and deletes * 100 > self.percent * objects)

    def describe(self) -> str:
        parts = []
        if self.count is not None:
            parts.append(f"{self.count} deletes")
        if self.percent is not None:
            parts.append(f"{self.percent:g}% of the objects (from {self.floor} deletes)")
        return " or ".join(parts) or "none"

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "percent": self.percent, "floor": self.floor,
                "source": self.source.value}


@dataclass(frozen=True)
class Breach:
    """Deletes of one object type of one connector over its limit (``object_type`` None: the
    deletes of every type under the server default, against its count)."""

    connector: str
    object_type: str | None
    deletes: int
    objects: int
    limit: DeletionLimit

    def describe(self) -> str:
        what = self.object_type or "objects of every type under the default limit"
        share = f", {self.deletes * 100 / self.objects:.0f}% of {self.objects}" \
            if self.objects else ""
        return (f"{self.connector}: {self.deletes} deletes of {what}{share} "
                f"(limit: {self.limit.describe()}, {self.limit.source.value})")

    def to_dict(self) -> dict[str, Any]:
        return {"connector": self.connector, "object_type": self.object_type,
                "deletes": self.deletes, "objects": self.objects,
                "limit": self.limit.to_dict()}


# --- settings ------------------------------------------------------------------------------

def deletion_threshold(store: Store) -> dict[str, Any]:
    """The server-wide count (``idsync export-deletion-threshold``)."""
    value = store.settings.get(THRESHOLD_KEY)
    return value or {"enabled": True, "count": DEFAULT_COUNT}


def default_percent(store: Store) -> dict[str, Any]:
    value = store.settings.get(DEFAULT_KEY)
    return value or {"percent": DEFAULT_PERCENT, "floor": DEFAULT_FLOOR}


def server_default(store: Store) -> DeletionLimit | None:
    """The limit of every type without its own; None when the threshold is disabled."""
    threshold = deletion_threshold(store)
    if not threshold["enabled"]:
        return None
    pct = default_percent(store)
    return DeletionLimit(int(threshold["count"]), pct.get("percent"),
                         int(pct.get("floor") or DEFAULT_FLOOR), LimitSource.DEFAULT)


def configured(store: Store) -> dict[str, dict[str, dict[str, Any]]]:
    return store.settings.get(LIMITS_KEY) or {}


def limit_for(store: Store, connector: str, object_type: str) -> DeletionLimit | None:
    """The limit of one connector's object type (None: no limit applies)."""
    own = configured(store).get(connector, {})
    for key, source in ((object_type, LimitSource.OBJECT_TYPE),
                        (ALL_TYPES, LimitSource.CONNECTOR)):
        if key in own:
            v = own[key]
            return DeletionLimit(v.get("count"), v.get("percent"),
                                 int(v.get("floor") or 1), source)
    return server_default(store)


def validate(count: int | None, percent: float | None, floor: int | None) -> None:
    """A bad limit is refused when it is set."""
    if count is None and percent is None:
        raise ConfigurationError("give --count N or --percent P (or both)")
    if count is not None and count < 1:
        raise ConfigurationError(f"--count must be at least 1, not {count}")
    if percent is not None and not 0 < percent <= 100:  # NaN fails it too
        raise ConfigurationError(f"--percent must be above 0 and at most 100, not {percent:g}")
    if floor is not None and floor < 1:
        raise ConfigurationError(f"--floor must be at least 1, not {floor}")


def known_object_types(store: Store, record: ConnectorRecord) -> set[str]:
    """Object types a limit may name: those the connector space holds and those its sync
    rules name."""
    types = {t for t in store.guards.objects_by_type(record.id) if t}
    for rule in store.rules.list():
        if rule.connector == record.name:
            types.add(rule.cs_object_type)
    return types


def set_limit(store: Store, record: ConnectorRecord, object_type: str | None, *,
              count: int | None, percent: float | None, floor: int | None) -> dict[str, Any]:
    validate(count, percent, floor)
    if object_type is not None:
        types = known_object_types(store, record)
        if object_type not in types:
            raise ConfigurationError(
                f"connector {record.name} has no object type {object_type!r}; known: "
                + (", ".join(sorted(types)) or "none yet (run a full import first)"))
    value = {"count": count, "percent": percent, "floor": floor or 1}
    limits = configured(store)
    limits.setdefault(record.name, {})[object_type or ALL_TYPES] = value
    store.settings.set(LIMITS_KEY, limits)
    return value


def reset_limit(store: Store, record: ConnectorRecord, object_type: str | None) -> bool:
    limits = configured(store)
    own = limits.get(record.name, {})
    if object_type is None:
        found = bool(limits.pop(record.name, None))
    else:
        found = own.pop(object_type, None) is not None
        if not own:
            limits.pop(record.name, None)
    store.settings.set(LIMITS_KEY, limits)
    return found


# --- the check -----------------------------------------------------------------------------

def limit_breaches(store: Store, record: ConnectorRecord,
                   deletes_by_object_type: Mapping[str, int]) -> list[Breach]:
    """The limits that ``deletes_by_object_type`` (deletes one connector would send or stage,
    per object type) exceed, against the objects of each type its connector space holds now.
    Deletes of types under the server default also count together against its count, as the
    single threshold did."""
    if not any(n > 0 for n in deletes_by_object_type.values()):
        return []  # an export without deletes never counts the connector space
    objects = store.guards.objects_by_type(record.id)
    breaches: list[Breach] = []
    under_default = 0
    default: DeletionLimit | None = None
    for object_type, deletes in sorted(deletes_by_object_type.items()):
        if deletes <= 0:
            continue
        limit = limit_for(store, record.name, object_type)
        if limit is None:
            continue
        if limit.source is LimitSource.DEFAULT:
            under_default += deletes
            default = limit
        n = objects.get(object_type, 0)
        if limit.exceeded(deletes, n):
            breaches.append(Breach(record.name, object_type, deletes, n, limit))
    if (default is not None and default.count is not None and under_default >= default.count
            and not any(b.limit.source is LimitSource.DEFAULT for b in breaches)):
        breaches.append(Breach(record.name, None, under_default, sum(objects.values()),
                               DeletionLimit(default.count, None, 1, LimitSource.DEFAULT)))
    return breaches


# --- the export's check and its message ----------------------------------------------------

SAMPLE = 3


def pending_deletes(store: Store, record: ConnectorRecord) -> dict[str, int]:
    """Unsent pending deletes of a connector per object type."""
    by_type = store.guards.pending_by_type(record.id, ExportKind.DELETE.value)
    return {t: n for (_, t), n in by_type.items()}


def held_message(store: Store, record: ConnectorRecord, breaches: list[Breach],
                 causes_of: Callable[[list[int]], Mapping[int, str]] | None = None) -> str:
    """What the export holds, per object type with a sample of DNs (and their causes where
    known), then the safe ways out: look, discard, and raise the limit last."""
    lines = [f"the export to {record.name} did not start: its pending deletes are over the "
             "deletion limits"]
    for b in breaches:
        lines.append("  " + b.describe())
        types = [b.object_type] if b.object_type else sorted(pending_deletes(store, record))
        for t in types:
            sample = store.guards.pending_sample(record.id, ExportKind.DELETE.value, t, SAMPLE)
            causes = causes_of([i for i, _ in sample]) if causes_of and sample else {}
            shown = "; ".join(dn + (f" ({causes[i]})" if i in causes else "")
                              for i, dn in sample)
            if shown:
                lines.append(f"    e.g. {shown}")
    one_type = len(breaches) == 1 and breaches[0].object_type
    kinds = f" --object-type {breaches[0].object_type}" if one_type else ""
    raise_cmd = f"idsync deletion-limit set {record.name}{kinds} --count N"
    if all(b.limit.source is LimitSource.DEFAULT for b in breaches):
        raise_cmd = f"{raise_cmd}, or for every type: idsync export-deletion-threshold set N"
    lines += [
        "safe ways out, in this order:",
        f"  1. see them all: idsync export preview {record.name}",
        "  2. if they are a mistake, fix the cause and run a full synchronization, or drop "
        f"them: idsync exports discard {record.name} --kind delete{kinds}",
        f"  3. only if every one is intended: raise the limit ({raise_cmd}) and export again"]
    return "\n".join(lines)


def check_export(engine: RunContext, record: ConnectorRecord, recorder: RunRecorder) -> None:
    """The export's hook, before it sends anything: over a limit, record event 116 with the
    message and stop the run."""
    store = engine.store
    deletes = pending_deletes(store, record)
    breaches = limit_breaches(store, record, deletes)
    if not breaches:
        return
    message = held_message(store, record, breaches,
                           lambda ids: delete_causes(engine, record, ids))
    with store.transaction():
        recorder.event(EventId.DELETION_THRESHOLD_EXCEEDED, message, {
            "deletes": sum(deletes.values()), "breaches": [b.to_dict() for b in breaches]})
    raise DeletionThresholdExceeded(message)


def shrink_guard_stop(store: Store, record: ConnectorRecord, recorder: RunRecorder,
                      breaches: list[Breach], missing: int) -> None:
    """A full import that no longer returns objects over the limits stages none of their
    deletes: record it (event 118) and stop the run."""
    detail = "; ".join(b.describe() for b in breaches)
    with store.transaction():
        recorder.event(
            EventId.IMPORT_DELETION_SAFETY,
            f"full import of {record.name} did not return {missing} objects that the "
            f"connector space holds ({detail}); no deletes were staged",
            {"missing": missing, "breaches": [b.to_dict() for b in breaches]})
    raise DeletionThresholdExceeded(
        f"the full import did not return {missing} objects the connector space holds, over "
        f"the deletion limits ({detail}). Nothing was staged as deleted. Check the "
        f"connector's partitions, containers and bind account (idsync connector show "
        f"{record.name}); if the deletes are intended, run again with --accept-deletes.")
