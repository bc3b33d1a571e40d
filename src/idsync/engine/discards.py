"""Discarding pending exports (``idsync exports discard``): the safe way out of a deletion
limit, before raising it.

A discard drops the unsent pending exports that match, keeps a row per object in
``discarded_exports`` and one event, and marks every connector for a full synchronization, so
the next cycle stages again whatever the current configuration still wants. An add of an
object never created goes with its connector space object, and provisioning creates it again
if it is still wanted; an update comes back from the flows if its rule still computes it. A
delete's object was disconnected when the delete was staged, so no flow reaches it again:
once every connector had its full synchronization, a discarded delete whose object is still
disconnected (no metaverse object took it back: its source object is still gone or out of
scope) is staged again, and one that a metaverse object joined again is settled as
``cause gone``. Either way the row says what became of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from idsync.engine.recorder import RunRecorder
from idsync.errors import ConfigurationError
from idsync.events import EventId
from idsync.model import ExportKind, ExportState, PendingExport
from idsync.store import Store

SAMPLE = 5
CHUNK = 1000


class DiscardOutcome(StrEnum):
    STAGED_AGAIN = "staged again"
    CAUSE_GONE = "cause gone"


@dataclass
class DiscardPlan:
    connector: str
    connector_id: int
    kind: ExportKind | None
    object_type: str | None
    #: (kind, object type) -> pending exports that match
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    samples: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {"connector": self.connector,
                "kind": self.kind.value if self.kind else None,
                "object_type": self.object_type, "total": self.total,
                "groups": [{"kind": k, "object_type": t, "count": n,
                            "sample": self.samples.get((k, t), [])}
                           for (k, t), n in sorted(self.counts.items())]}


def parse_kind(text: str | None) -> ExportKind | None:
    if text is None:
        return None
    try:
        return ExportKind(text.lower())
    except ValueError:
        raise ConfigurationError(
            f"unknown export kind {text!r}; use one of: "
            + ", ".join(k.value for k in ExportKind)) from None


def plan_discard(store: Store, connector: str, kind: ExportKind | None,
                 object_type: str | None) -> DiscardPlan:
    record = store.connectors.get(connector)
    plan = DiscardPlan(record.name, record.id, kind, object_type)
    plan.counts = store.guards.pending_by_type(record.id, kind.value if kind else None,
                                               object_type)
    for k, t in plan.counts:
        plan.samples[(k, t)] = [dn for _, dn in store.guards.pending_sample(
            record.id, k, t, SAMPLE)]
    return plan


def discard(store: Store, plan: DiscardPlan) -> int:
    """Drop what ``plan`` lists (and only the unsent exports that still match), chunk by
    chunk, each chunk in one transaction with its records."""
    kind = plan.kind.value if plan.kind else None
    done = 0
    while True:
        rows = store.guards.pending_page(plan.connector_id, kind, plan.object_type, CHUNK)
        if not rows:
            break
        with store.transaction():
            store.guards.record_discarded(plan.connector_id, rows)
            ids = [r[0] for r in rows]
            # An add never sent names an object the directory does not have: it goes with its
            # export, and provisioning creates it again if it is still wanted.
            unsent_adds = [r[0] for r in rows if r[3] == ExportKind.ADD.value]
            never_created = [i for i, o in store.cs.by_ids(unsent_adds).items()
                             if o.anchor is None] if unsent_adds else []
            store.exports.drop_many(ids)
            for cs_id in ids:
                store.errors.clear(cs_id, "export")
            store.cs.remove_many(plan.connector_id, never_created)
        done += len(rows)
    with store.transaction():
        store.connectors.mark_full_sync_required_all()
        store.events.add(int(EventId.EXPORTS_DISCARDED), "warning",
                         f"{done} pending exports of {plan.connector} discarded: "
                         + ", ".join(f"{n} {k} of {t or 'objects'}"
                                     for (k, t), n in sorted(plan.counts.items())),
                         connector_id=plan.connector_id, data=plan.to_dict())
    return done


def restage_discarded(store: Store, recorder: RunRecorder) -> None:
    """A full synchronization's hook: once no connector waits for one any more, decide what
    became of each discarded export (see the module's text)."""
    if store.guards.full_sync_pending():
        return
    after = 0
    while True:
        rows = store.guards.discarded_waiting(after, CHUNK)
        if not rows:
            return
        after = rows[-1][0]
        deletes = sorted({cs_id for cs_id, _, kind in rows if kind == ExportKind.DELETE.value})
        objs = store.cs.by_ids(deletes) if deletes else {}
        pending = store.exports.get_many(list(objs), with_refs=False) if objs else {}
        again = [o for o in objs.values() if o.mv_id is None and not o.placeholder
                 and o.anchor is not None and o.id not in pending]
        with store.transaction():
            store.exports.stage_many([PendingExport(
                cs_id=o.id, connector_id=o.connector_id, kind=ExportKind.DELETE, new_dn=None,
                attributes={}, state=ExportState.PENDING, attempts=0) for o in again])
            store.guards.settle_discarded([o.id for o in again],
                                          DiscardOutcome.STAGED_AGAIN.value)
            store.guards.settle_discarded([r[0] for r in rows],
                                          DiscardOutcome.CAUSE_GONE.value)
            if again:
                recorder.count("discarded-deletes-staged-again", len(again))
