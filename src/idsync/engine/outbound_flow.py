"""Outbound attribute flow, the second outbound pass: metaverse -> pending exports.

For each metaverse object a batch changed and each connector space object linked to it, the
desired attributes are computed by the connector's in-scope outbound rules and the difference
from the hologram is staged as a pending export (``engine.export_staging``: attribute-level,
and value-level for references).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from idsync.engine.export_staging import ExportStaging, expected_after, is_empty, merge_sent
from idsync.engine.flow import Contribution, NeedFullRefs, group_by_target
from idsync.engine.lists import load_lists, split_loaded
from idsync.engine.reconciliation import unstaged
from idsync.engine.ruleset import CompiledRule
from idsync.engine.sync_context import SyncContext
from idsync.error_codes import ErrorCode
from idsync.events import EventId
from idsync.expressions import ErrorFunctionTriggered, ExpressionError
from idsync.model import CSObject, ExportKind, ExportState, MVObject, PendingExport
from idsync.store.reference_journal import JournalSpace, RelinkMark


class OutboundFlow:
    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.rs = ctx.rs
        self.recorder = ctx.recorder
        self.staging = ExportStaging(ctx)

    def flow_batch(self, ids: Sequence[int]) -> None:
        ctx = self.ctx
        mvs = self.store.mv.by_ids(ids)
        links = ctx.links_of(list(mvs))
        linked_ids = [o.id for o in links.values()]
        pending = self.store.exports.get_many(linked_ids) if linked_ids else {}
        mv_to_cs_by_conn = self._load_refs(mvs, links, pending)
        ctx.erred = self.store.errors.holders(linked_ids)
        ctx.relinked = ctx.journal.relinked(linked_ids, RelinkMark.OUTBOUND)
        ctx.compared = set()
        for mv_id in ids:
            mv = mvs.get(mv_id)
            if mv is None:
                continue
            for cid, per_type in self.rs.outbound.items():
                cs = links.get((mv.id, cid))
                if cs is None:
                    continue
                rules = per_type.get(mv.object_type, [])
                pe = pending.get(cs.id)
                if pe is not None and pe.kind == ExportKind.DELETE:
                    continue
                scoped = ctx.outbound_scoped(rules, mv) if rules else []
                if not scoped:
                    unstaged(self.recorder, self.store, cs, pe)  # no rule writes it now
                    continue
                try:
                    self._flow_one(mv, cs, scoped, mv_to_cs_by_conn[cid], pe)
                except NeedFullRefs:
                    # A rule needs the values of a large list after all: evaluate this object
                    # again with every value loaded (nothing was staged yet).
                    whole, mv_to_cs = self._load_whole(mv, cs)
                    self._flow_one(whole, cs, scoped, mv_to_cs, pe)
        ctx.flush_staged()
        ctx.journal.spend_outbound(mvs, links, ctx.compared)

    def _load_refs(self, mvs: dict[int, MVObject], links: dict[tuple[int, int], CSObject],
                   pending: dict[int, PendingExport]) -> dict[int, dict[int, int]]:
        """Load the metaverse objects' references and the linked objects' holograms, large
        lists left in the store (``DeferredRefs``; their Direct flows are computed there as
        differences). Returns, per connector, metaverse id -> CS id for the loaded values."""
        threshold = self.ctx.engine.ref_delta_threshold
        mv_lists = load_lists(self.store, JournalSpace.METAVERSE, list(mvs), None, threshold)
        for mv in mvs.values():
            mv.refs = mv_lists[mv.id]
        linked = list(links.values())
        # An export sent and not confirmed yet is compared with what the directory will hold
        # once it applies it (worked out in memory): those holograms are loaded whole.
        deferrable = {o.id for o in linked if o.anchor is not None and not (
            o.id in pending and pending[o.id].state == ExportState.EXPORTED)}
        holograms = load_lists(self.store, JournalSpace.CONNECTOR_SPACE, [o.id for o in linked],
                               None, threshold, deferrable=deferrable)
        for o in linked:
            o.refs = holograms[o.id]
        whole, partial = split_loaded({mv.id: mv.refs for mv in mvs.values()})
        out: dict[int, dict[int, int]] = {}
        for cid in self.rs.outbound:
            found = self.store.cs.mv_reference_targets_in(cid, whole) if whole else {}
            if partial:
                found.update(self.store.cs.in_connector_for_mv(cid, sorted(partial)))
            out[cid] = found
        return out

    def _load_whole(self, mv: MVObject, cs: CSObject) -> tuple[MVObject, dict[int, int]]:
        """A copy of ``mv`` with every reference value loaded, ``cs`` with its whole
        hologram, and the translation of the values into ``cs``'s connector space (``mv``
        itself keeps its deferred lists for the other connectors)."""
        refs = self.store.mv.refs_of([mv.id]).get(mv.id, {})
        whole = dataclasses.replace(mv, refs={a: set(v) for a, v in refs.items()})
        cs.refs = {a: set(v) for a, v in self.store.cs.refs_of([cs.id]).get(cs.id, {}).items()}
        return whole, self.store.cs.mv_reference_targets_in(cs.connector_id, [mv.id])

    def _flow_one(self, mv: MVObject, cs: CSObject, scoped: list[CompiledRule],
                  mv_to_cs: dict[int, int], pe: PendingExport | None) -> None:
        view = self.ctx.outbound_view(mv, cs.connector_id, mv_to_cs, cs.attributes)
        contributions: list[tuple[str, Contribution]] = []
        exists = cs.anchor is not None
        try:
            for r in scoped:
                for t in r.transformations:
                    if t.apply_once and exists:
                        continue
                    contributions.append((t.target, Contribution(
                        r.precedence, r.id, None, t.merge_type, t.evaluate(view))))
        except ErrorFunctionTriggered as exc:
            self.recorder.object_error(cs.id, cs.dn, "export", ErrorCode.SYNC_RULE_ERROR,
                                       exc.message, connector_id=cs.connector_id)
            self.recorder.event(EventId.SYNC_RULE_ERROR, f"{cs.dn}: {exc.message}",
                                {"cs_id": cs.id, "code": ErrorCode.SYNC_RULE_ERROR})
            self._hold(pe)
            return
        except ExpressionError as exc:
            self.recorder.object_error(cs.id, cs.dn, "export", ErrorCode.EXPRESSION_ERROR,
                                       str(exc), connector_id=cs.connector_id)
            self._hold(pe)
            return
        if pe is not None and pe.state == ExportState.EXPORTED:
            # Sent but not confirmed yet: compare with what the directory will hold once it
            # applies that export, so an unrelated re-evaluation does not send it twice.
            expected = expected_after(cs, pe)
            delta = self.staging.delta(expected, group_by_target(contributions), None, view.dropped,
                                in_store=False)
            self._clear_rule_errors(cs, view.dropped)
            if is_empty(delta):
                return
            self.staging.stage(cs, merge_sent(pe, delta), None)
            return
        staged = self.staging.delta(cs, group_by_target(contributions), pe, view.dropped)
        self._clear_rule_errors(cs, view.dropped)
        self.staging.stage(cs, staged, pe)

    def _clear_rule_errors(self, cs: CSObject, dropped: dict[str, list[int]]) -> None:
        if cs.id in self.ctx.erred:
            self.store.errors.clear(cs.id, "export", code=ErrorCode.SYNC_RULE_ERROR)
            self.store.errors.clear(cs.id, "export", code=ErrorCode.EXPRESSION_ERROR)
        self._record_dropped_references(cs, dropped)

    def _hold(self, pe: PendingExport | None) -> None:
        """An object whose outbound rules fail is not exported (not even a provisioning add
        without the failed attribute) until they succeed; the next flow restages it."""
        if pe is not None and pe.state == ExportState.PENDING:
            self.store.exports.set_state([pe.cs_id], ExportState.HELD)

    def _record_dropped_references(self, cs: CSObject, dropped: dict[str, list[int]]) -> None:
        if not dropped:
            if cs.id in self.ctx.erred:
                self.store.errors.clear(cs.id, "export", code=ErrorCode.DN_ATTRIBUTES_FAILURE)
            return
        parts = [f"{attr}: {len(ids)} value(s) name objects not in this connector space "
                 f"(metaverse ids {', '.join(map(str, ids[:5]))}{'...' if len(ids) > 5 else ''})"
                 for attr, ids in sorted(dropped.items())]
        detail = "; ".join(parts)
        self.recorder.object_error(cs.id, cs.dn, "export", ErrorCode.DN_ATTRIBUTES_FAILURE, detail,
                                   informational=True, connector_id=cs.connector_id)
        self.recorder.event(EventId.DN_ATTRIBUTES_FAILURE, f"{cs.dn}: {detail}",
                            {"cs_id": cs.id, "dropped": {a: len(i) for a, i in dropped.items()}})
