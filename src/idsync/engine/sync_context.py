"""What the passes of one synchronization share: its caches and the state of the batch under way.

A synchronization runs four passes in committed batches: join and projection
(``engine.join_projection``) and inbound attribute flow (``engine.inbound_flow``) over one
connector's objects, then provisioning (``engine.provisioning``) and outbound attribute flow
(``engine.outbound_flow``) over the metaverse objects they changed. No pass imports another:
what one leaves for the next (the metaverse objects to send outbound, the objects whose
referrers must be evaluated again, the exports staged) and what every pass would otherwise
read again per object (reference attributes, DNs, the join index values of a batch) live here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from idsync.engine.core import RunContext
from idsync.engine.joins import BatchJoinLookups
from idsync.engine.lists import load_lists
from idsync.engine.recorder import RunRecorder
from idsync.engine.reference_journal import ReferenceJournal
from idsync.engine.ruleset import CompiledRule
from idsync.engine.views import InboundView, OutboundView
from idsync.model import CSObject, MVObject, PendingExport
from idsync.rules.scoping import in_scope
from idsync.store.reference_journal import JournalSpace


class SyncContext:
    def __init__(self, engine: RunContext, recorder: RunRecorder,
                 journal: ReferenceJournal) -> None:
        self.engine = engine
        self.store = engine.store
        self.rs = engine.ruleset()
        self.recorder = recorder
        #: which lists the journal may answer for, and its entries (engine.reference_journal)
        self.journal = journal
        self._ref_attrs: dict[int, frozenset[str]] = {}
        #: DNs of referenced objects, for the inbound views of the whole run (inbound passes
        #: rename nothing; outbound ones may, so they read DNs afresh: ``dn_now``)
        self._dn_cache: dict[int, str] = {}
        #: the join index look-ups of the batch under way (each pass's prefetch forgets them)
        self.joins = BatchJoinLookups(self.store.join_index)

        # --- the batch under way ----------------------------------------------------------
        #: objects of the batch being flowed that hold errors (the only ones to clear)
        self.erred: set[int] = set()
        #: objects of the batch linked or unlinked since their lists were last compared
        self.relinked: set[int] = set()
        #: connector space objects linked by the inbound batch (their referrers are requeued)
        self.linked_cs: list[int] = []
        #: metaverse objects the inbound batch changed (queued for outbound at its end)
        self.dirty: set[int] = set()
        #: metaverse objects linked by the provisioning batch (their referrers flow again)
        self.linked_mv: list[int] = []
        #: exports staged by the outbound batch, written at its end (``flush_staged``)
        self.staged: dict[int, PendingExport] = {}
        #: (cs id, attribute) of the lists the outbound flow batch compared
        self.compared: set[tuple[int, str]] = set()

    # --- per run ----------------------------------------------------------------------------

    def ref_attrs(self, connector_id: int) -> frozenset[str]:
        if connector_id not in self._ref_attrs:
            self._ref_attrs[connector_id] = self.engine.cs_ref_attributes(connector_id)
        return self._ref_attrs[connector_id]

    def dn_of(self, cs_id: int) -> str:
        if cs_id not in self._dn_cache:
            self._dn_cache[cs_id] = self.dn_now(cs_id)
        return self._dn_cache[cs_id]

    def dn_now(self, cs_id: int) -> str:
        found = self.store.cs.dns_and_anchors([cs_id])
        return found[cs_id][0] if cs_id in found else ""

    # --- what inbound rules see ----------------------------------------------------------------

    def _inbound_reads(self, connector_id: int, object_type: str | None, *,
                       link_only: bool = False) -> set[str]:
        out: set[str] = set()
        for r in self.rs.inbound_for(connector_id, object_type):
            out |= r.link_reads if link_only else r.reads
        return out

    def load_cs_refs(self, objs: Iterable[CSObject], *, link_only: bool = False,
                     defer: bool = False) -> None:
        """Load the reference values the inbound rules read. ``link_only``: only what scoping
        and join conditions read (the connect pass). ``defer``: large lists stay in the store
        as ``DeferredRefs``, and their Direct flows are computed there as differences."""
        by_conn: dict[int, list[CSObject]] = defaultdict(list)
        for o in objs:
            by_conn[o.connector_id].append(o)
        for cid, group in by_conn.items():
            names: set[str] = set()
            for o in group:
                names |= self._inbound_reads(cid, o.object_type, link_only=link_only)
            names &= self.ref_attrs(cid)
            lists = load_lists(self.store, JournalSpace.CONNECTOR_SPACE, [o.id for o in group],
                               names, self.engine.ref_delta_threshold,
                               deferrable=None if defer else ())
            for o in group:
                o.refs = {n: set() for n in names}
                o.refs.update(lists[o.id])

    def inbound_view(self, cs: CSObject, cs_to_mv: dict[int, int]) -> InboundView:
        connector_id = cs.connector_id

        def dn_to_mv(dn: str) -> int | None:
            found = self.store.cs.find_dn(connector_id, dn)
            return found.mv_id if found else None

        return InboundView(cs, cs_to_mv=cs_to_mv, dn_of=self.dn_of, dn_to_mv=dn_to_mv,
                           multivalued=self.engine.multivalued,
                           mv_ref_attributes=self.engine.mv_ref_attributes,
                           parameters=self.engine.parameters)

    def inbound_scoped(self, rules: Sequence[CompiledRule], view: InboundView
                       ) -> list[CompiledRule]:
        cs = view.cs

        def member_of(dn: str) -> bool:
            return self.store.cs.is_member_of(cs.id, cs.connector_id, dn)

        return [r for r in rules if in_scope(r.rule.scoping, view.values_of, member_of)]

    def end_inbound_batch(self) -> None:
        """Objects referencing the objects linked in this batch are synchronized again (their
        references translate to the new links): one look-up for the batch. The metaverse
        objects the batch changed go to the outbound queue together."""
        if self.linked_cs:
            self.store.cs.mark_pending_update(self.store.cs.referencing(self.linked_cs))
            self.linked_cs = []
        if self.dirty:
            self.store.mv.mark_dirty(sorted(self.dirty))
            self.dirty = set()

    # --- what outbound rules see -----------------------------------------------------------------

    def outbound_scoped(self, rules: Sequence[CompiledRule], mv: MVObject
                        ) -> list[CompiledRule]:
        def values_of(name: str) -> list[Any]:
            return list(mv.attributes.get(name) or ())

        def member_of(group_dn: str, rule: CompiledRule) -> bool:
            group = self.store.cs.find_dn(rule.connector_id, group_dn)
            return bool(group and group.mv_id and mv.id in self.store.mv.refs_of(
                [group.mv_id]).get(group.mv_id, {}).get("member", set()))

        return [r for r in rules if in_scope(r.rule.scoping, values_of,
                                             partial(member_of, rule=r))]

    def links_of(self, mv_ids: Sequence[int]) -> dict[tuple[int, int], CSObject]:
        """(metaverse id, connector id) -> the linked connector space object."""
        return {(o.mv_id, o.connector_id): o for o in self.store.cs.linked_to(list(mv_ids))
                if o.mv_id is not None}

    def outbound_view(self, mv: MVObject, cid: int, mv_to_cs: dict[int, int],
                      hologram: dict[str, list[Any]] | None) -> OutboundView:
        def dn_to_cs(dn: str) -> int | None:
            found = self.store.cs.find_dn(cid, dn)
            return found.id if found else None

        return OutboundView(
            mv, mv_to_cs=mv_to_cs, dn_of=self.dn_now, dn_to_cs=dn_to_cs, hologram=hologram,
            multivalued=self.engine.multivalued, cs_ref_attributes=self.ref_attrs(cid),
            parameters=self.engine.parameters)

    def flush_staged(self) -> None:
        """Write the batch's staged exports: each object is staged at most once per batch,
        and nothing in the batch reads them back."""
        if self.staged:
            self.store.exports.stage_many(list(self.staged.values()))
            self.staged = {}

    def mark_referrers_dirty(self) -> None:
        """Objects that reference the metaverse objects provisioning linked can now name them
        in that connector: queued once for the whole batch."""
        if self.linked_mv:
            self.store.mv.mark_dirty(self.store.mv.referrers(self.linked_mv))
            self.linked_mv = []
