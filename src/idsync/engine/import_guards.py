"""The import guard on attribute wipes: an import that clears or changes one attribute on more
than a share of a connector space's objects of one type (a permission change that hides
``mail``, a schema mistake) is held before synchronization.

The import counts, while it stages, the objects whose attribute lost or changed its values,
per (object type, attribute). It cannot take back what it committed batch by batch with its
watermark, so the guard is a hold on the connector space's pending imports: at the import's
end, past the limit, the connector gets a hold (a setting naming the attribute, the count and a
sample) and the run stops ``stopped-attribute-change-limit``; every synchronization of the
connector refuses to take its pending imports while the hold stands, so nothing of it reaches
the metaverse or any other directory. The hold goes when an import brings the values back
(the cause was fixed) or when an administrator accepts the changes (``--accept-changes`` on
the import or on the synchronization).

Default: more than 50% of the objects of a type, in connector spaces holding at least 100 of
that type (a 10-object test directory never trips it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from idsync.engine.recorder import RunRecorder
from idsync.engine.share_limits import ShareLimit, ShareLimitSetting
from idsync.errors import IdsyncError
from idsync.events import EventId
from idsync.model import ConnectorRecord
from idsync.store import Store
from idsync.values import same_values

DEFAULT_PERCENT = 50.0
DEFAULT_MIN_OBJECTS = 100
LIMITS_KEY = "attribute_change_limits"  # {connector | "*": {percent, min_objects} | {off}}
SAMPLE = 3


def hold_key(connector: str) -> str:
    return f"import_hold.{connector}"


def counts_key(connector: str) -> str:
    # The counts of the import under way, saved with each batch it commits: an import that
    # crashed and starts again adds to them (its repeated batches change nothing), and a
    # synchronization in between sees them.
    return f"import_changes.{connector}"


class AttributeChangesHeld(IdsyncError):
    """The run ends ``stopped-attribute-change-limit``: an import changed one attribute on too
    many objects, and synchronization does not take them until the hold is lifted."""


#: The limit's setting; ``ShareLimit.minimum`` is the smallest set of one type it applies to.
SETTING = ShareLimitSetting(LIMITS_KEY, ShareLimit(DEFAULT_PERCENT, DEFAULT_MIN_OBJECTS,
                                                   "min_objects"))
limit_of = SETTING.limit_of


def current_hold(store: Store, connector: str) -> dict[str, Any] | None:
    return store.settings.get(hold_key(connector)) or None


@dataclass
class AttributeChanges:
    """What one import does to the attributes of objects the connector space already held,
    counted as it stages: O(1) per changed attribute, a few DNs kept per attribute.

    A batch's changes wait in ``batch`` until ``count_batch``: a change that an export of
    ours asked for (the object's pending export, sent and awaiting confirmation, names the
    attribute) is the directory confirming it, not a wipe; a rule change that rewrote every
    user's title must not hold the import that confirms it."""

    changed: Counter[tuple[str, str]] = field(default_factory=Counter)
    restored: Counter[tuple[str, str]] = field(default_factory=Counter)
    samples: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: (cs id, (object type, attribute), dn, cleared or changed, values came)
    batch: list[tuple[int, tuple[str, str], str, bool, bool]] = field(default_factory=list)
    #: the attributes counted (None: all)
    watched: frozenset[str] | None = None

    def observe(self, cs_id: int, object_type: str | None, dn: str, name: str, old: Any,
                new: Any) -> None:
        """One attribute of one existing object goes from ``old`` to ``new`` values."""
        if self.watched is not None and name not in self.watched:
            return
        if not old:
            if new:
                self.batch.append((cs_id, (object_type or "", name), dn, False, True))
            return
        if new and same_values(old, new):
            return
        # A held attribute changed again: the values may be coming back (counted as such).
        self.batch.append((cs_id, (object_type or "", name), dn, True, bool(new)))

    def observe_all(self, cs_id: int, object_type: str | None, dn: str,
                    old: dict[str, Any], new: dict[str, Any]) -> None:
        """A whole-state record replaces the object's attributes."""
        for name in old.keys() | new.keys():
            self.observe(cs_id, object_type, dn, name, old.get(name), new.get(name))

    def count_batch(self, store: Store) -> None:
        """Count the batch's changes, less those confirming an export of ours (before the
        import's confirmation drops those exports)."""
        if not self.batch:
            return
        ids = sorted({cs_id for cs_id, *_ in self.batch})
        ours = {cs_id: set(pe.attributes) for cs_id, pe in store.exports.get_many(
            ids, with_refs=False).items() if pe.state == "exported"}
        for cs_id, key, dn, changed, came in self.batch:
            if key[1] in ours.get(cs_id, ()):
                continue
            if came:
                self.restored[key] += 1
            if changed:
                self.changed[key] += 1
                sample = self.samples.setdefault(key, [])
                if len(sample) < SAMPLE:
                    sample.append(dn)
        self.batch = []

    def to_json(self) -> list[list[Any]]:
        keys = self.changed.keys() | self.restored.keys()
        return [[t, a, self.changed[(t, a)], self.restored[(t, a)],
                 self.samples.get((t, a), [])] for t, a in sorted(keys)]

    @classmethod
    def from_json(cls, rows: list[list[Any]] | None) -> AttributeChanges:
        out = cls()
        for t, a, changed, restored, sample in rows or []:
            if changed:
                out.changed[(t, a)] = changed
            if restored:
                out.restored[(t, a)] = restored
            if sample:
                out.samples[(t, a)] = list(sample)
        return out


class ImportGuard:
    """An import's side of the guard: count while staging, save the counts with each batch,
    settle at the end."""

    def __init__(self, store: Store, record: ConnectorRecord, recorder: RunRecorder,
                 watched: frozenset[str]) -> None:
        self.store = store
        self.record = record
        self.recorder = recorder
        self.changes = AttributeChanges.from_json(store.settings.get(counts_key(record.name)))
        # Only what synchronization takes from this connector (the inbound rules' reads) can
        # do harm downstream: a directory's own churn elsewhere (logon times) is not counted.
        self.changes.watched = watched

    def save(self) -> None:
        """Inside the transaction of the batch whose changes were counted."""
        if self.changes.changed or self.changes.restored:
            self.store.settings.set(counts_key(self.record.name), self.changes.to_json())

    def settle(self, *, accept: bool) -> None:
        with self.store.transaction():
            self.store.settings.set(counts_key(self.record.name), None)
        settle(self.store, self.record, self.recorder, self.changes, accept=accept)


def breaches_of(store: Store, record: ConnectorRecord, changes: AttributeChanges
                ) -> list[dict[str, Any]]:
    limit = limit_of(store, record.name)
    if limit is None or not changes.changed:
        return []
    objects = store.guards.objects_by_type(record.id)
    return [{"object_type": t, "attribute": a, "count": n, "objects": objects.get(t, 0),
             "sample": changes.samples.get((t, a), [])}
            for (t, a), n in sorted(changes.changed.items())
            if limit.exceeded(n, objects.get(t, 0))]


def settle(store: Store, record: ConnectorRecord, recorder: RunRecorder,
           changes: AttributeChanges, *, accept: bool) -> None:
    """At an import's end: release a hold whose values came back or that is accepted; hold
    (and stop the run) when an attribute changed on more objects than the limit allows."""
    hold = current_hold(store, record.name)
    if hold is not None:
        hold = _restore(hold, changes)
    limit = limit_of(store, record.name)
    breaches = breaches_of(store, record, changes)
    if accept:
        if hold is not None or breaches:
            _release(store, record, recorder, "accepted with --accept-changes",
                     hold or {"breaches": breaches})
        return
    if breaches:
        merged = {(b["object_type"], b["attribute"]): b for b in (hold or {}).get("breaches", [])}
        for b in breaches:
            old = merged.get((b["object_type"], b["attribute"]))
            if old is not None:
                b = {**b, "count": b["count"] + old["count"]}
            merged[(b["object_type"], b["attribute"])] = b
        hold = {"run_id": recorder.run_id, "breaches": list(merged.values()),
                "limit": limit.to_dict() if limit else None}
        with store.transaction():
            store.settings.set(hold_key(record.name), hold)
            recorder.event(EventId.ATTRIBUTE_CHANGES_HELD, held_message(record, hold), hold)
        raise AttributeChangesHeld(held_message(record, hold))
    if hold is not None:
        if not any(limit is not None and limit.exceeded(b["count"], b["objects"])
                   for b in hold["breaches"]):
            _release(store, record, recorder, "the values came back", hold)
        else:
            with store.transaction():
                store.settings.set(hold_key(record.name), hold)


def _restore(hold: dict[str, Any], changes: AttributeChanges) -> dict[str, Any]:
    """The hold after an import that brought some of the held values back."""
    breaches = []
    for b in hold["breaches"]:
        back = changes.restored.get((b["object_type"], b["attribute"]), 0)
        breaches.append({**b, "count": max(0, b["count"] - back)})
    return {**hold, "breaches": breaches}


def _release(store: Store, record: ConnectorRecord, recorder: RunRecorder, why: str,
             hold: dict[str, Any]) -> None:
    with store.transaction():
        store.settings.set(hold_key(record.name), None)
        store.settings.set(counts_key(record.name), None)
        recorder.event(EventId.ATTRIBUTE_CHANGES_RELEASED,
                       f"{record.name}: the attribute change hold is lifted: {why}", hold)


def check_before_sync(store: Store, record: ConnectorRecord, recorder: RunRecorder, *,
                      accept: bool) -> None:
    """A synchronization's hook: refuse the connector's pending imports while a hold
    stands, unless accepted now."""
    hold = current_hold(store, record.name)
    if hold is None:
        # An import that stopped before its end (a crash) left its counts: over the limit,
        # they hold the synchronization as its end would have.
        unfinished = breaches_of(store, record, AttributeChanges.from_json(
            store.settings.get(counts_key(record.name))))
        if not unfinished:
            return
        hold = {"run_id": None, "breaches": unfinished}
    if accept:
        _release(store, record, recorder, "accepted with --accept-changes", hold)
        return
    if limit_of(store, record.name) is None:
        _release(store, record, recorder, "the attribute change limit is off", hold)
        return
    raise AttributeChangesHeld(held_message(record, hold))


def held_message(record: ConnectorRecord, hold: dict[str, Any]) -> str:
    parts = []
    for b in hold["breaches"]:
        what = f"{b['object_type']} objects" if b["object_type"] else "objects"
        share = f" ({b['count'] * 100 / b['objects']:.0f}%)" if b["objects"] else ""
        sample = ", ".join(b["sample"])
        parts.append(f"{b['attribute']} cleared or changed on {b['count']} of {b['objects']} "
                     f"{what}{share}, e.g. {sample}")
    return (f"import of {record.name} held before synchronization: " + "; ".join(parts)
            + ". Nothing of it is synchronized. Check the account's permissions and the "
            f"schema, fix the cause and run a full import of {record.name} (the hold lifts "
            "when the values come back); if the changes are intended, run the import or the "
            f"synchronization with --accept-changes")
