"""The reference-change journal, as synchronization uses it: what changed in a list since the
last synchronization compared it.

The database records every change to a reference list and every relink in the journal
(``idsync.store.reference_journal``; its triggers: migrations 0003/0004). A delta
synchronization may then compare only the values the journal names instead of a whole list,
which is what makes a 250,000-member group cost what changed. It may do so only while the
journal is *valid*: every connector had a full synchronization under the current rules (a rule
change changes what a list should hold, which no entry records). A full synchronization is the
*checkpoint*: it compares every list whole and forgets what no rule reads.

The passes ask one question per large list, ``inbound_changes`` / ``outbound_changes``: the
answer is the list's difference restricted to the journal's values, or None when the list must
be compared whole (journal not valid, object relinked, the list read by both directions, or
made by another source or rule than last time). After a flow compared its lists it *spends*
their entries (``spend_inbound`` / ``spend_outbound``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from idsync.engine.core import RunContext
from idsync.engine.flow import RefDelta
from idsync.model import CSObject, MVObject
from idsync.store.reference_journal import JournalSpace, RelinkMark


def journal_valid(engine: RunContext) -> bool:
    """The journal can stand in for whole comparisons only once every connector had a
    full synchronization under the current rules (a rule change changes what a list
    should hold, which no journal entry records)."""
    fingerprint = engine.store.rules.fingerprint()
    return all(engine.store.settings.get(f"ref_journal_rules:{c.id}") == fingerprint
               for c in engine.connectors())


def journal_checkpoint(engine: RunContext, connector_id: int) -> None:
    """After a full synchronization of a connector: its lists were compared whole."""
    engine.store.journal.forget_unread(
        connector_id, engine.inbound_lists(connector_id) | engine.outbound_lists(connector_id)
        | set(RelinkMark))
    engine.store.settings.set(f"ref_journal_rules:{connector_id}",
                              engine.store.rules.fingerprint())


@dataclass(frozen=True, slots=True)
class OutboundChanges:
    """A target list's pending changes from the journal (``outbound_changes``)."""

    adds: set[int]
    removes: set[int]
    #: the connector space objects looked at (a staged change to any other still holds)
    looked: set[int]
    #: the metaverse values that changed (targets that may have become unplaceable)
    mv_changes: dict[int, int | None]


class ReferenceJournal:
    """One synchronization's use of the journal. ``usable``: a delta synchronization with a
    valid journal (``journal_valid``); otherwise every question is answered None."""

    def __init__(self, engine: RunContext, *, usable: bool) -> None:
        self.engine = engine
        self.rows = engine.store.journal
        self.usable = usable
        self._inbound: dict[int, frozenset[str]] = {}
        self._outbound: dict[tuple[int, str | None], frozenset[str]] = {}
        self._shared: dict[int, frozenset[str]] = {}

    # --- which lists ----------------------------------------------------------------------

    def inbound_lists(self, connector_id: int) -> frozenset[str]:
        """Lists the connector's inbound rules read, per run."""
        if connector_id not in self._inbound:
            self._inbound[connector_id] = self.engine.inbound_lists(connector_id)
        return self._inbound[connector_id]

    def outbound_lists(self, connector_id: int, mv_object_type: str | None = None
                       ) -> frozenset[str]:
        """Lists the connector's outbound rules write (for one metaverse type), per run."""
        key = (connector_id, mv_object_type)
        if key not in self._outbound:
            self._outbound[key] = self.engine.outbound_lists(connector_id, mv_object_type)
        return self._outbound[key]

    def shared_lists(self, connector_id: int) -> frozenset[str]:
        """Lists a connector both contributes and receives: their journal entries have two
        readers, so they are always compared whole."""
        if connector_id not in self._shared:
            self._shared[connector_id] = (self.engine.inbound_lists(connector_id)
                                          & self.engine.outbound_lists(connector_id))
        return self._shared[connector_id]

    def relinked(self, cs_ids: Sequence[int], mark: RelinkMark) -> set[int]:
        """Objects among ``cs_ids`` linked or unlinked since the flow of ``mark``'s direction
        last compared their lists (compared whole)."""
        return self.rows.marked(cs_ids, mark) if self.usable else set()

    # --- the question ----------------------------------------------------------------------

    def inbound_changes(self, mv: MVObject, name: str, value: RefDelta,
                        lineage: Mapping[str, Any], relinked: set[int]
                        ) -> tuple[set[int], set[int]] | None:
        """What the metaverse list ``name`` of ``mv`` gains and loses from the large source
        list ``value``, from the journal; None when it must be compared whole."""
        cid = lineage["connector"]
        if (self.usable and value.source_id not in relinked
                and mv.lineage.get(name) == lineage
                and value.attribute not in self.shared_lists(cid)):
            # The list was last made from this same source by this same rule, and every
            # change to the source list or to its targets' links since is in the journal.
            changes = self.rows.changed(JournalSpace.CONNECTOR_SPACE, value.source_id,
                                        value.attribute)
            return self.rows.inbound_changed(value.source_id, value.attribute, mv.id, name,
                                             cid, changes)
        return None

    def outbound_changes(self, cs: CSObject, name: str, value: RefDelta, relinked: set[int]
                         ) -> OutboundChanges | None:
        """What the hologram list ``name`` of ``cs`` gains and loses from the large metaverse
        list ``value`` (metaverse values changed, targets relinked, hologram values changed),
        from the journal; None when it must be compared whole."""
        if not self.usable or cs.id in relinked or name in self.shared_lists(cs.connector_id):
            return None
        mv_changes = self.rows.changed(JournalSpace.METAVERSE, value.source_id, value.attribute)
        cs_changes = self.rows.changed(JournalSpace.CONNECTOR_SPACE, cs.id, name)
        adds, removes, looked = self.rows.outbound_changed(
            value.source_id, value.attribute, cs.id, name, cs.connector_id, mv_changes,
            cs_changes)
        return OutboundChanges(adds, removes, looked, mv_changes)

    def unplaced(self, value: RefDelta, connector_id: int, changes: OutboundChanges) -> bool:
        """Whether a changed metaverse value has no object in the connector space."""
        return self.rows.unplaced(value.source_id, value.attribute, connector_id,
                                  changes.mv_changes)

    # --- spending ---------------------------------------------------------------------------

    def spend_inbound(self, linked: Sequence[CSObject]) -> None:
        """The lists of ``linked`` were just compared: their journal entries are spent."""
        by_conn: dict[int, list[int]] = defaultdict(list)
        for o in linked:
            by_conn[o.connector_id].append(o.id)
        for cid, ids in by_conn.items():
            self.rows.consume(JournalSpace.CONNECTOR_SPACE, ids,
                              self.inbound_lists(cid) | {RelinkMark.INBOUND})

    def spend_outbound(self, mvs: Mapping[int, MVObject],
                       links: Mapping[tuple[int, int], CSObject],
                       compared: set[tuple[int, str]]) -> None:
        """The metaverse lists of the batch went out to every connector: their journal
        entries are spent, and so are the target lists' entries where the flow compared
        them. A target list the flow did not compare (its rule out of scope, a failed rule)
        is compared whole next time."""
        self.rows.consume_all(JournalSpace.METAVERSE, list(mvs))
        by_conn: dict[int, list[CSObject]] = {}
        for (_, cid), cs in links.items():
            by_conn.setdefault(cid, []).append(cs)
        for cid, objs in by_conn.items():
            self.rows.consume(JournalSpace.CONNECTOR_SPACE, [o.id for o in objs],
                              self.outbound_lists(cid) | {RelinkMark.OUTBOUND})
            missed = {o.id for o in objs if o.mv_id is not None
                      for a in self.outbound_lists(cid, mvs[o.mv_id].object_type)
                      if (o.id, a) not in compared}
            self.rows.mark(sorted(missed), RelinkMark.OUTBOUND)
