"""One object's whole path through the real engine passes, traced: read fresh from its
directory, staged in its connector space, joined or projected, flowed inbound, provisioned and
flowed outbound to each connector. Preview runs it in a rolled-back transaction, commit in
recorded runs (idsync.administration.object_preview); both read the same trace.

The passes are the ones a synchronization runs (``Importer.stage``, ``JoinProjection``,
``InboundFlow``, ``Provisioning``, ``OutboundFlow``), handed this object's ids only: other
objects waiting for a synchronization (pending imports, ``mv_dirty``) are left for the next
cycle, as are the referrers the passes queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from idsync.administration.object_trace import (
    ObjectTrace,
    StepKind,
    ValueChange,
    attribute_changes,
)
from idsync.administration.preview import describe_export
from idsync.connectors.base import ImportContext, ImportKind, ImportRecord, ObjectReader
from idsync.engine.core import RunContext
from idsync.engine.importing import Importer
from idsync.engine.inbound_flow import InboundFlow
from idsync.engine.join_projection import JoinProjection
from idsync.engine.outbound_flow import OutboundFlow
from idsync.engine.provisioning import Provisioning
from idsync.engine.recorder import RunRecorder
from idsync.engine.reference_journal import ReferenceJournal
from idsync.engine.sync_context import SyncContext
from idsync.errors import ConfigurationError
from idsync.model import (
    ConnectorRecord,
    CSObject,
    ExportState,
    LinkType,
    MVObject,
    PendingExport,
)

#: Reference values named per change in the trace; the rest are counted.
SHOWN_VALUES = 50


def _named(ids: list[int], names: dict[int, str]) -> list[str]:
    out = [names.get(i, f"#{i}") for i in ids[:SHOWN_VALUES]]
    if len(ids) > SHOWN_VALUES:
        out.append(f"... and {len(ids) - SHOWN_VALUES} more")
    return out


def _capped(values: list[object]) -> list[str]:
    """An export's values, at most SHOWN_VALUES of them (a new group's whole member list)."""
    out = [str(v) for v in values[:SHOWN_VALUES]]
    if len(values) > SHOWN_VALUES:
        out.append(f"... and {len(values) - SHOWN_VALUES} more")
    return out


@dataclass
class _Links:
    """The connector space objects linked to the object's metaverse object at one moment,
    with their pending exports."""

    objects: dict[int, CSObject] = field(default_factory=dict)
    pending: dict[int, PendingExport] = field(default_factory=dict)


class ObjectPath:
    def __init__(self, engine: RunContext, record: ConnectorRecord, dn: str) -> None:
        self.engine = engine
        self.store = engine.store
        self.record = record
        self.dn = dn
        self.trace = ObjectTrace(record.name, dn)
        self.before = self.store.cs.find_dn(record.id, dn)
        self.fresh: ImportRecord | None = None
        self.cs_id: int | None = self.before.id if self.before else None
        #: connector id -> the connector space objects whose pending exports this object
        #: staged (what a commit exports)
        self.exports: dict[int, set[int]] = {}
        self._names: dict[int, str] = {}

    # --- read -------------------------------------------------------------------------------

    def read(self) -> None:
        """The object as its directory holds it now (one object, not an import)."""
        connector = self.engine.instance(self.record)
        if not isinstance(connector, ObjectReader):
            raise ConfigurationError(f"connector {self.record.name} cannot read one object")
        anchor = self.before.anchor if self.before else None
        self.fresh = connector.read_object(self.dn, anchor, ImportContext(watermark=None))
        if self.fresh is None and (self.before is None or self.before.placeholder):
            raise ConfigurationError(
                f"no object {self.dn!r} in connector {self.record.name}: neither in its "
                "connector space nor in its directory (in scope)")
        if self.fresh is None:
            self.trace.add(StepKind.READ, "gone from the directory (or out of the connector's "
                           "scope): its deletion is staged")
        else:
            where = "" if self.fresh.dn == self.dn else f" (now at {self.fresh.dn})"
            self.trace.add(StepKind.READ, f"read from the directory{where}: "
                           f"{self.fresh.object_type}, anchor {self.fresh.anchor}")

    # --- import -----------------------------------------------------------------------------

    def import_one(self, recorder: RunRecorder) -> None:
        """Stage the fresh object as a delta import would (the import's guards included)."""
        before = self.before
        importer = Importer(self.engine, self.record, recorder)
        if self.fresh is not None:
            staged = self.fresh
        else:
            assert before is not None
            staged = ImportRecord(ImportKind.DELETE, before.anchor, before.dn,
                                  before.object_type)
        refs_before = self._ref_ids(before) if before is not None else {}
        with self.store.transaction():
            importer.stage([staged])
            importer.guard.save()
            recorder.checkpoint()
        importer.guard.settle(accept=False)
        after = self._current()
        self.cs_id = after.id if after else self.cs_id
        old = {} if before is None or before.placeholder else before.attributes
        new = after.attributes if after is not None else {}
        changes = attribute_changes(old, new) + self._ref_changes(
            refs_before, self._ref_ids(after) if after is not None else {})
        if before is not None and after is not None and before.dn != after.dn:
            changes.insert(0, ValueChange("dn", [before.dn], [after.dn], "renamed or moved"))
        state = after.pending_import.value if after and after.pending_import else "none"
        if before is None or before.placeholder:
            summary = "new in the connector space"
        elif not changes:
            summary = "unchanged since the last import"
        else:
            summary = f"{len(changes)} attribute(s) changed since the last import"
        self.trace.add(StepKind.IMPORT, f"{summary} (pending import: {state})",
                       changes=changes)

    def _current(self) -> CSObject | None:
        found: CSObject | None = None
        if self.fresh is not None and self.fresh.anchor:
            found = self.store.cs.by_anchors(self.record.id, [self.fresh.anchor]).get(
                self.fresh.anchor)
        if found is None:
            found = self.store.cs.find_dn(self.record.id,
                                          self.fresh.dn if self.fresh else self.dn)
        if found is None and self.cs_id is not None:
            found = self.store.cs.get(self.cs_id)
        return found

    def _ref_ids(self, cs: CSObject) -> dict[str, set[int]]:
        """The object's reference values (members, manager) as connector space ids."""
        ref_attrs = self.engine.cs_ref_attributes(cs.connector_id)
        if not ref_attrs:
            return {}
        return {a: set(ts) for a, ts in
                self.store.cs_refs.refs_of([cs.id], ref_attrs).get(cs.id, {}).items()}

    def _ref_changes(self, before: dict[str, set[int]], after: dict[str, set[int]]
                     ) -> list[ValueChange]:
        """Reference values removed and added, by DN. Only the differences are named (a few
        of them: a group of 250,000 members changes by a handful), never the whole list."""
        out: list[ValueChange] = []
        for attr in sorted(set(before) | set(after)):
            old, new = before.get(attr, set()), after.get(attr, set())
            removed, added = sorted(old - new), sorted(new - old)
            if not removed and not added:
                continue
            shown_ids = removed[:SHOWN_VALUES] + added[:SHOWN_VALUES]
            names = {k: v[0] for k, v in self.store.cs.dns_and_anchors(shown_ids).items()}
            out.append(ValueChange(attr, _named(removed, names), _named(added, names),
                                   f"{len(old)} -> {len(new)} values: removed -> added"))
        return out

    # --- synchronization ----------------------------------------------------------------------

    def synchronize(self, recorder: RunRecorder) -> None:
        """The four passes for this object: join or projection and inbound flow over it,
        then provisioning and outbound flow over its metaverse object(s)."""
        ctx = SyncContext(self.engine, recorder, ReferenceJournal(self.engine, usable=False))
        flow = InboundFlow(ctx)
        connect = JoinProjection(ctx, reflow=flow.flow_mv_ids)
        cs = self.store.cs.get(self.cs_id) if self.cs_id is not None else None
        if cs is None:
            self.trace.add(StepKind.JOIN, "not in the connector space: nothing to synchronize")
            return
        self._scoping(ctx, cs)
        mv_before = self.store.mv.get(cs.mv_id) if cs.mv_id is not None else None
        links_before = self._links([cs.mv_id] if cs.mv_id is not None else [])
        links_before.pending.update(self.store.exports.get_many([cs.id]))
        with self.store.transaction():
            connect.connect_batch([cs.id])
            recorder.checkpoint()
        with self.store.transaction():
            flow.flow_batch([cs.id])
            recorder.checkpoint()
        after = self.store.cs.get(cs.id)
        mv_after = (self.store.mv.get(after.mv_id) if after is not None
                    and after.mv_id is not None else None)
        self._join_step(cs, after, mv_before, mv_after)
        self._inbound_step(mv_before, mv_after)
        mv_ids = sorted({m.id for m in (mv_before, mv_after) if m is not None
                         and self.store.mv.get(m.id) is not None})
        provisioning, outbound = Provisioning(ctx), OutboundFlow(ctx)
        if mv_ids:
            with self.store.transaction():
                provisioning.provision_batch(mv_ids)
                self.store.mv.set_dirty_phase(mv_ids, 1)
                recorder.checkpoint()
            with self.store.transaction():
                outbound.flow_batch(mv_ids)
                self.store.mv.clear_dirty(mv_ids)
                recorder.checkpoint()
        links_after = self._links(mv_ids)
        # The object itself: a delete or an outbound flow back to its own directory.
        for links in (links_before, links_after):
            if cs.id not in links.objects and after is not None:
                links.objects[cs.id] = after
        self._provisioning_step(cs.connector_id, links_before, links_after)
        self._exports_steps(links_before, links_after)

    def _scoping(self, ctx: SyncContext, cs: CSObject) -> None:
        rules = ctx.rs.inbound_for(cs.connector_id, cs.object_type)
        if not rules:
            self.trace.add(StepKind.SCOPING, f"no inbound rule reads {cs.object_type} objects "
                           f"of {self.record.name}")
            return
        ctx.load_cs_refs([cs])
        scoped = {r.id for r in ctx.inbound_scoped(rules, ctx.inbound_view(cs, {}))}
        details = [f"{r.rule.name} (precedence {r.rule.precedence}): "
                   + ("in scope" if r.id in scoped else "not in scope") for r in rules]
        self.trace.add(StepKind.SCOPING, f"{len(scoped)} of {len(rules)} inbound rule(s) "
                       "hold it in scope", details=details)

    def _join_step(self, before: CSObject, after: CSObject | None, mv_before: MVObject | None,
                   mv_after: MVObject | None) -> None:
        rule = (self._rule(after.link_rule_id) if after is not None
                and after.link_rule_id is not None else "")
        if after is None:
            text = "deleted from the connector space" + (
                f"; disconnected from metaverse object {mv_before.id}" if mv_before else "")
        elif mv_before is None and mv_after is None:
            text = "a disconnector: no inbound rule joins or projects it"
        elif mv_before is None and mv_after is not None:
            # A projection links the object it creates as Provision; a join as Join.
            how = "projected as" if after.link_type is LinkType.PROVISION else "joined"
            text = f"{how} metaverse object {mv_after.id} ({mv_after.object_type}) by {rule}"
        elif mv_after is None and mv_before is not None:
            text = f"disconnected from metaverse object {mv_before.id}"
        elif mv_before is not None and mv_after is not None and mv_before.id != mv_after.id:
            text = f"moved from metaverse object {mv_before.id} to {mv_after.id} by {rule}"
        else:
            assert mv_after is not None
            text = f"stays joined to metaverse object {mv_after.id} ({mv_after.object_type})"
        self.trace.add(StepKind.JOIN, text)

    def _inbound_step(self, mv_before: MVObject | None, mv_after: MVObject | None) -> None:
        if mv_after is None:
            if mv_before is not None and self.store.mv.get(mv_before.id) is None:
                self.trace.add(StepKind.INBOUND, f"metaverse object {mv_before.id} deleted",
                               changes=attribute_changes(mv_before.attributes, {}))
            else:
                self.trace.add(StepKind.INBOUND, "no metaverse object: nothing flows inbound")
            return
        notes = {a: self._lineage(lin) for a, lin in mv_after.lineage.items()}
        changes = attribute_changes(mv_before.attributes if mv_before else {},
                                    mv_after.attributes, notes)
        self.trace.add(StepKind.INBOUND, f"{len(changes)} metaverse attribute(s) change"
                       if changes else "no metaverse attribute changes", changes=changes)

    def _lineage(self, lineage: dict[str, object]) -> str:
        connector, rule = lineage.get("connector"), lineage.get("rule")
        parts = []
        if isinstance(connector, int):
            parts.append(self._connector_name(connector))
        if isinstance(rule, int):
            parts.append(self._rule(rule))
        if lineage.get("precedence") is not None:
            parts.append(f"precedence {lineage.get('precedence')}")
        return ", ".join(parts)

    def _links(self, mv_ids: list[int]) -> _Links:
        links = _Links()
        if mv_ids:
            links.objects = {o.id: o for o in self.store.cs.linked_to(mv_ids)}
            links.pending = self.store.exports.get_many(list(links.objects))
        return links

    def _provisioning_step(self, source: int, before: _Links, after: _Links) -> None:
        details = []
        ids = sorted(set(before.objects) | set(after.objects))
        for cs_id in ids:
            old, new = before.objects.get(cs_id), after.objects.get(cs_id)
            obj = new or old
            assert obj is not None
            if obj.connector_id == source:
                continue
            where = f"{self._connector_name(obj.connector_id)}: {obj.dn}"
            if old is None:
                how = ("provisioned" if obj.link_type is LinkType.PROVISION
                       else "joined")
                details.append(f"{where}: {how} (new link)")
            elif new is None or new.mv_id is None:
                details.append(f"{where}: deprovisioned (link removed)")
            else:
                details.append(f"{where}: stays linked")
        summary = (f"{len(details)} object(s) in other connectors" if details
                   else "no object in other connectors")
        self.trace.add(StepKind.PROVISIONING, summary, details=details)

    def _exports_steps(self, before: _Links, after: _Links) -> None:
        pending = self.store.exports.get_many(sorted(set(before.objects) | set(after.objects)))
        any_step = False
        for cs_id, pe in sorted(pending.items()):
            if pe.state != ExportState.PENDING:
                continue
            cs = after.objects.get(cs_id) or before.objects.get(cs_id) or \
                self.store.cs.get(cs_id)
            if cs is None:
                continue
            change = describe_export(self.store, pe, cs)
            earlier = before.pending.get(cs_id)
            note = "already pending before" if earlier == pe else "staged now"
            self.exports.setdefault(pe.connector_id, set()).add(cs_id)
            any_step = True
            self.trace.add(
                StepKind.EXPORTS, f"{change.operation} {change.dn}"
                + (f" -> {change.new_dn}" if change.new_dn else "") + f" ({note})",
                connector=self._connector_name(pe.connector_id),
                changes=[ValueChange(c.attribute, _capped(c.old), _capped(c.new),
                                     c.operation)
                         for c in change.changes])
        if not any_step:
            self.trace.add(StepKind.EXPORTS, "no export to stage: every directory already "
                           "holds what the rules want")

    # --- names -------------------------------------------------------------------------------

    def _connector_name(self, connector_id: int) -> str:
        if connector_id not in self._names:
            self._names[connector_id] = self.store.connectors.by_id(connector_id).name
        return self._names[connector_id]

    def _rule(self, rule_id: int) -> str:
        rule = self.engine.ruleset().by_id.get(rule_id)
        return f"rule {rule.rule.name!r}" if rule is not None else f"rule #{rule_id}"
