"""Pending export reconciliation: a staged change whose cause is gone is cancelled.

The outbound flow already recomputes the pending export of every linked object it evaluates
(desired state against the hologram; an empty difference drops the export). What that alone
missed, and this module adds:

* **Deprovisioning remembers.** ``deprovision`` unlinks an object that outbound provisioning
  created and stages its delete; it records the metaverse object it left and that object's
  source objects (connector, anchor) (``idsync.store.deprovisions``).
* **Back in scope, same object.** When the provisioning pass finds that metaverse object in
  scope again, or a new metaverse object projected from one of the same source objects (the
  source back in scope, or deleted and restored with the same anchor), it links the *same*
  connector space object back as a provisioned object and cancels the delete: the object keeps
  its anchor (no second object, no new cloud object id), and the flow pass stages only what
  changed meanwhile. A join (outbound join rule, or the reverse join on the DN) onto an object
  with an unsent delete cancels it too; an object whose delete's record names another
  identity is not joined at all (a DN reused by a different person): the new person gets a
  new object, and the export deletes the old one before adding hers.
* **Nothing stages it now.** An object that no in-scope outbound rule writes (a disconnector,
  a rule disabled or out of scope) loses its unsent pending change.
* **Full synchronization sweeps.** A full synchronization of a connector also reconsiders its
  unlinked objects' unsent exports: a delete whose former metaverse object (or a new one from
  the same source) exists is queued for the provisioning pass, which decides; any other
  change on an unlinked object is cancelled.

Every cancellation counts ``cancelled-exports`` (deletes also ``cancelled-deletes``) and writes
event 6130 naming the object, the cancelled kind and why. A delete the export run has sent
(``exported``, waiting for its confirmation) is never taken back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from enum import StrEnum

from idsync.engine.core import BATCH_SIZE, RunContext
from idsync.engine.recorder import RunRecorder
from idsync.events import EventId
from idsync.model import (
    CSObject,
    Direction,
    ExportKind,
    ExportState,
    LinkType,
    MVObject,
    PendingExport,
)
from idsync.store import Store
from idsync.store.connector_space.links import LinkRow
from idsync.store.deprovisions import Deprovisioned


class DeleteCause(StrEnum):
    """Why deprovisioning staged a delete (kept with the delete, shown when it is cancelled)."""

    #: no outbound rule of the connector scopes the metaverse object any more
    OUT_OF_SCOPE = "out-of-scope"
    #: the metaverse object was deleted (its last source object left scope or was deleted)
    METAVERSE_DELETED = "metaverse-deleted"


class CancelCause(StrEnum):
    """Why a pending export was cancelled."""

    #: the object is linked to its metaverse identity again (in scope, source back)
    BACK_IN_SCOPE = "back-in-scope"
    #: recomputed: the directory already holds what the rules say (a change reverted)
    NOTHING_TO_CHANGE = "nothing-to-change"
    #: no in-scope outbound rule writes the object any more (disconnector, rule disabled)
    NO_RULE = "no-rule-stages-it"


_REASONS = {
    CancelCause.BACK_IN_SCOPE: "the object is in scope for its metaverse object again",
    CancelCause.NOTHING_TO_CHANGE: "the directory already holds what the rules say",
    CancelCause.NO_RULE: "no in-scope outbound rule writes the object any more",
}


def record_cancel(recorder: RunRecorder, cs_id: int, dn: str, kind: str,
                  cause: CancelCause, detail: str = "") -> None:
    """Count a cancelled pending export and leave an event naming the object."""
    recorder.count("cancelled-exports", cs_id=cs_id)
    if kind == ExportKind.DELETE:
        recorder.count("cancelled-deletes", cs_id=cs_id)
    text = f"{dn}: the pending {kind} is cancelled: {_REASONS[cause]}"
    if detail:
        text += f" ({detail})"
    recorder.event(EventId.EXPORT_CANCELLED, text,
                   {"cs_id": cs_id, "dn": dn, "kind": kind, "cause": cause.value})


def deprovision(engine: RunContext, recorder: RunRecorder, cs: CSObject, cause: DeleteCause,
                detail: str, sources: Iterable[tuple[int, str]] = ()) -> None:
    """Unlink a connector space object from its metaverse object. An object that outbound
    provisioning created gets a pending delete, recorded with what it was linked to (so it
    can be linked back while the delete is not exported); others become disconnectors, and
    lose any unsent change (no rule writes a disconnector)."""
    store = engine.store
    store.cs.set_link(cs.id, None, None, None, None)
    if cs.link_direction == Direction.OUTBOUND and cs.link_type == LinkType.PROVISION:
        if cs.anchor is None:
            # Never exported: nothing to delete in the directory.
            store.cs.remove(cs.id)
            return
        store.exports.stage(PendingExport(
            cs_id=cs.id, connector_id=cs.connector_id, kind=ExportKind.DELETE, new_dn=None,
            attributes={}, state=ExportState.PENDING, attempts=0))
        store.deprovisions.record([Deprovisioned(
            cs_id=cs.id, connector_id=cs.connector_id,
            mv_id=None if cause is DeleteCause.METAVERSE_DELETED else cs.mv_id,
            link_rule_id=cs.link_rule_id, cause=cause.value, detail=detail,
            sources=set(sources))])
        recorder.count("export-deletes-staged", cs_id=cs.id)
        return
    pe = store.exports.get_many([cs.id], with_refs=False).get(cs.id)
    if pe is not None and pe.state != ExportState.EXPORTED and pe.kind not in (
            ExportKind.ADD, ExportKind.DELETE):
        store.exports.drop(cs.id)
        record_cancel(recorder, cs.id, cs.dn, pe.kind, CancelCause.NO_RULE)
    recorder.count("disconnectors", cs_id=cs.id)


def deprovision_out_of_scope(engine: RunContext, recorder: RunRecorder, mv: MVObject,
                             linked: CSObject, links: dict[tuple[int, int], CSObject]) -> None:
    """No outbound rule of ``linked``'s connector scopes ``mv`` any more (``links``: the
    provisioning batch's links, where ``mv``'s source objects are)."""
    deprovision(engine, recorder, linked, DeleteCause.OUT_OF_SCOPE,
                f"no outbound rule scopes metaverse {mv.object_type} {mv.id} any more",
                sources_of(o for (m, _), o in links.items() if m == mv.id))


def sources_of(links: Iterable[CSObject]) -> set[tuple[int, str]]:
    """(connector, anchor) of the source objects among a metaverse object's links."""
    return {(o.connector_id, o.anchor) for o in links
            if o.link_direction == Direction.INBOUND and o.anchor is not None}


class Reconciler:
    """The provisioning pass's side of reconciliation, one batch at a time: which object with
    an unsent delete each metaverse object of the batch links back (``former``, ``restores``),
    and the cancellation of those deletes when the batch's links are written (``settle``)."""

    def __init__(self, engine: RunContext, recorder: RunRecorder) -> None:
        self.engine = engine
        self.store = engine.store
        self.recorder = recorder
        self._sources: dict[int, set[tuple[int, str]]] = {}
        #: linked objects of the batch holding an unsent delete
        self._unsent: set[int] = set()
        self._records: dict[int, Deprovisioned] = {}
        #: (metaverse id, connector id) -> the unlinked object with an unsent delete it takes
        self._former: dict[tuple[int, int], int] = {}

    def prefetch(self, mv_ids: Sequence[int], links: dict[tuple[int, int], CSObject]) -> None:
        by_mv: dict[int, list[CSObject]] = defaultdict(list)
        for (mv_id, _), o in links.items():
            by_mv[mv_id].append(o)
        self._sources = {mv_id: sources_of(objs) for mv_id, objs in by_mv.items()}
        deprovisions = self.store.deprovisions
        self._unsent = deprovisions.unsent_deletes([o.id for o in links.values()]) if (
            links) else set()
        self._records, self._former = {}, {}
        if not deprovisions.any():
            return
        anchors = {a for s in self._sources.values() for _, a in s}
        self._records = deprovisions.tied_to(list(mv_ids), anchors)
        if self._unsent - set(self._records):
            self._records.update(deprovisions.get_many(sorted(self._unsent)))
        by_source: dict[tuple[int, str], list[int]] = defaultdict(list)
        for mv_id, found in self._sources.items():
            for source in found:
                by_source[source].append(mv_id)
        batch = set(mv_ids)
        for r in sorted(self._records.values(), key=lambda r: r.cs_id):
            if r.cs_id in self._unsent:
                continue  # linked already: ``restores`` decides
            tied = {r.mv_id} & batch if r.mv_id is not None else set()
            for source in r.sources:
                tied.update(by_source.get(source, ()))
            for mv_id in sorted(tied):
                key = (mv_id, r.connector_id)
                held = self._former.get(key)
                # The object that left this very metaverse object first, then the oldest.
                if held is None or (r.mv_id == mv_id and self._records[held].mv_id != mv_id):
                    self._former[key] = r.cs_id

    def _ties(self, r: Deprovisioned, mv_id: int) -> bool:
        return r.mv_id == mv_id or bool(r.sources & self._sources.get(mv_id, set()))

    def foreign(self, cs_ids: Iterable[int], mv_id: int) -> set[int]:
        """Objects among ``cs_ids`` holding an unsent delete that deprovisioning staged for
        another identity: a join (outbound join rule, or the reverse join on the DN) must not
        take them. A DN freed and taken by a different person in one cycle: the new person
        is provisioned as a new object, the old object's delete goes out first
        (``engine.exporting``), and nothing of the old object passes to her."""
        ids = sorted(set(cs_ids))
        if not ids or not self.store.deprovisions.any():
            return set()
        unsent = self.store.deprovisions.unsent_deletes(ids)
        if not unsent:
            return set()
        records = self.store.deprovisions.get_many(sorted(unsent))
        return {i for i, r in records.items() if not self._ties(r, mv_id)}

    def former(self, mv_id: int, connector_id: int) -> tuple[int, int | None] | None:
        """The object (and the rule that had provisioned it) that ``mv_id``, unlinked in the
        connector and in scope, takes back instead of joining or provisioning another."""
        cs_id = self._former.pop((mv_id, connector_id), None)
        return None if cs_id is None else (cs_id, self._records[cs_id].link_rule_id)

    def restores(self, linked: CSObject, mv_id: int) -> bool:
        """A linked, in-scope object holding an unsent delete that deprovisioning staged for
        this identity (a join from its own connector linked it meanwhile): link it back as
        provisioned, which cancels the delete. A delete without a record (a rollback's)
        stays."""
        r = self._records.get(linked.id)
        return linked.id in self._unsent and r is not None and self._ties(r, mv_id)

    def settle(self, rows: Sequence[LinkRow], rule_ids: Iterable[int]) -> list[LinkRow]:
        """The batch's links are about to be written: each one that links an object holding
        an unsent delete of the same identity (or a delete staged before deprovisioning kept
        records) cancels that delete, and the link is a provisioning link again (so a later
        deprovisioning deletes the object again). ``rule_ids``: the rules that exist now."""
        unsent = self.store.deprovisions.unsent_deletes([r[4] for r in rows])
        if not unsent:
            return list(rows)
        records = {**self.store.deprovisions.get_many(sorted(unsent)),
                   **{k: v for k, v in self._records.items() if k in unsent}}
        rules = set(rule_ids)
        names = self.store.cs.dns_and_anchors(sorted(unsent))
        out: list[LinkRow] = []
        cancelled: list[int] = []
        for row in rows:
            mv_id, _, rule_id, _, cs_id = row
            r = records.get(cs_id)
            if mv_id is None or cs_id not in unsent or (
                    r is not None and not self._ties(r, mv_id)):
                # an unlink, no delete, or the delete of another identity: it stays
                out.append(row)
                continue
            if r is not None and r.link_rule_id in rules:
                rule_id = r.link_rule_id
            out.append((mv_id, LinkType.PROVISION, rule_id, Direction.OUTBOUND, cs_id))
            cancelled.append(cs_id)
            record_cancel(self.recorder, cs_id, names.get(cs_id, ("",))[0], ExportKind.DELETE,
                          CancelCause.BACK_IN_SCOPE,
                          f"its delete was staged because: {r.detail}" if r else "")
        self.store.exports.drop_many(cancelled)
        self.store.deprovisions.forget(cancelled)
        return out


def unstaged(recorder: RunRecorder, store: Store, cs: CSObject,
             pe: PendingExport | None) -> None:
    """A linked object that no in-scope outbound rule writes: its unsent change goes. A
    delete (deprovisioning's, or a rollback's) and an add (the object exists only in the
    connector space) are not changes of this kind."""
    if pe is None or pe.state == ExportState.EXPORTED or pe.kind in (ExportKind.ADD,
                                                                      ExportKind.DELETE):
        return
    store.exports.drop(cs.id)
    record_cancel(recorder, cs.id, cs.dn, pe.kind, CancelCause.NO_RULE)


def sweep(engine: RunContext, recorder: RunRecorder, connector_id: int) -> None:
    """A full synchronization's last look at the connector's unlinked objects with unsent
    exports, in committed batches: a delete whose identity still exists (its metaverse
    object, or a new one from the same source) queues that metaverse object for the
    provisioning pass that follows, which links it back if it is in scope; any other change
    on an unlinked object is cancelled (no rule writes an unlinked object)."""
    store = engine.store
    deprovisions = store.deprovisions
    after = 0
    while True:
        page = deprovisions.unlinked_pending(connector_id, after, BATCH_SIZE)
        if not page:
            break
        with store.transaction():
            deletes = [cs_id for cs_id, kind in page if kind == ExportKind.DELETE]
            others = [cs_id for cs_id, kind in page
                      if kind not in (ExportKind.DELETE, ExportKind.ADD)]
            records = deprovisions.get_many(deletes) if deletes else {}
            queued = deprovisions.existing_mv(
                [r.mv_id for r in records.values() if r.mv_id is not None])
            queued |= deprovisions.linked_by_anchor(
                {s for r in records.values() for s in r.sources})
            if queued:
                store.mv.mark_dirty(sorted(queued))
            if others:
                names = store.cs.dns_and_anchors(others)
                kinds = dict(page)
                store.exports.drop_many(others)
                for cs_id in others:
                    record_cancel(recorder, cs_id, names.get(cs_id, ("",))[0], kinds[cs_id],
                                  CancelCause.NO_RULE)
            recorder.checkpoint()
        after = page[-1][0]
    with store.transaction():
        deprovisions.forget_spent()
