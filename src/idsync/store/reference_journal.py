"""The reference-change journal (table ``ref_changes``): which values of which reference lists
changed since the flows that compare them last ran.

A delta synchronization of a 250,000-member group costs what changed, not the group, because
the flows read only the values this journal names (``idsync.engine.reference_journal`` decides
when it may stand in for a whole comparison). The engine never writes an entry itself: the
database's triggers (migrations 0003 and 0004, described in ``migrations/README.md``) record
every change whichever code makes it:

* ``cs_refs`` insert/delete on a linked object -> (``CONNECTOR_SPACE``, holder, attr, target);
* ``mv_refs`` insert/delete -> (``METAVERSE``, holder, attr, target);
* ``cs_objects.mv_id`` changes (a relink) -> the object's ``*in``/``*out`` marks (its lists are
  compared whole next time), its referrers' entries with ``old_mv`` (the metaverse object the
  target was linked to before), and the metaverse lists naming the old or new metaverse object;
* a deleted connector space or metaverse object takes its entries with it.

On PostgreSQL a bulk relink (``ConnectorSpaceRepository.set_links``) switches the row trigger
off for one statement and writes the same entries set-based (``record_relinks``).

What the engine does with entries: it reads them (``changed``, ``marked``), spends them when a
flow compared the list (``consume``, ``consume_all``), asks for a whole comparison next time
(``mark``) and forgets lists no rule reads after a full synchronization (``forget_unread``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum, StrEnum

from idsync.store.database import BaseDatabase


class JournalSpace(IntEnum):
    """Which lists an entry is about: the stored ``space`` column (values unchanged)."""

    #: a metaverse list (``mv_refs``), or one naming a target whose link changed
    METAVERSE = 0
    #: a connector space list (``cs_refs``) of a linked object
    CONNECTOR_SPACE = 1


class RelinkMark(StrEnum):
    """The ``attr`` of an entry saying an object was linked or unlinked: its lists are compared
    whole by the next flow of that direction (``target_id`` is 0)."""

    INBOUND = "*in"
    OUTBOUND = "*out"


class ReferenceJournalRows:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    # --- reading ----------------------------------------------------------------------------

    def marked(self, cs_ids: Sequence[int], mark: RelinkMark) -> set[int]:
        """Objects among ``cs_ids`` linked or unlinked since their lists were last compared
        by the flow of ``mark``'s direction."""
        if not cs_ids:
            return set()
        return {r[0] for r in self.db.query_in(
            "SELECT obj_id FROM ref_changes WHERE space = ? AND attr = ? AND target_id = 0 "
            "AND obj_id IN ({ids})", list(cs_ids),
            (int(JournalSpace.CONNECTOR_SPACE), str(mark)))}

    def changed(self, space: JournalSpace, obj_id: int, attr: str) -> dict[int, int | None]:
        """Values of one list changed since its flow last compared it: target -> the metaverse
        object the target was linked to before (connector space lists), else None."""
        return {r[0]: r[1] for r in self.db.query(
            "SELECT target_id, old_mv FROM ref_changes WHERE space = ? AND obj_id = ? "
            "AND attr = ?", (int(space), obj_id, attr))}

    # --- spending ---------------------------------------------------------------------------

    def consume(self, space: JournalSpace, obj_ids: Sequence[int], attrs: Iterable[str]) -> None:
        """The flows compared these objects' lists: their journal entries are spent."""
        # Plain strings: a RelinkMark must reach either driver as its text.
        names = sorted({str(a) for a in attrs})
        if not obj_ids or not names:
            return
        marks = ",".join("?" * len(names))
        self.db.execute_in(
            f"DELETE FROM ref_changes WHERE space = ? AND attr IN ({marks}) "
            "AND obj_id IN ({ids})", list(obj_ids), (int(space), *names))

    def consume_all(self, space: JournalSpace, obj_ids: Sequence[int]) -> None:
        if obj_ids:
            self.db.execute_in("DELETE FROM ref_changes WHERE space = ? AND obj_id IN ({ids})",
                               list(obj_ids), (int(space),))

    def mark(self, cs_ids: Iterable[int], mark: RelinkMark) -> None:
        """The next flow of ``mark``'s direction compares these objects' lists whole."""
        self.db.executemany(
            "INSERT INTO ref_changes (space, obj_id, attr, target_id) VALUES (?, ?, ?, 0) "
            "ON CONFLICT DO NOTHING",
            [(int(JournalSpace.CONNECTOR_SPACE), i, str(mark)) for i in cs_ids])

    def forget_unread(self, connector_id: int, keep: Iterable[str]) -> None:
        """Drop journal entries of a connector's lists that no rule compares (a full
        synchronization compared everything the rules read)."""
        names = sorted({str(a) for a in keep}) or [""]
        marks = ",".join("?" * len(names))
        self.db.execute(
            f"DELETE FROM ref_changes WHERE space = ? AND attr NOT IN ({marks}) AND obj_id IN "
            "(SELECT id FROM cs_objects WHERE connector_id = ?)",
            (int(JournalSpace.CONNECTOR_SPACE), *names, connector_id))

    # --- a list's difference, restricted to what the journal names ------------------------------

    def inbound_changed(self, cs_id: int, cs_attr: str, mv_id: int, mv_attr: str,
                        connector_id: int, changes: dict[int, int | None]
                        ) -> tuple[set[int], set[int]]:
        """``ReferenceDeltas.inbound`` restricted to the journal's changed values: valid when
        the metaverse list equalled the translated source list when it was last compared."""
        targets = sorted(changes)
        linked = dict(self.db.query_in(
            "SELECT id, mv_id FROM cs_objects WHERE mv_id IS NOT NULL AND id IN ({ids})",
            targets)) if targets else {}
        candidates = set(linked.values()) | {m for m in changes.values() if m is not None}
        if not candidates:
            return set(), set()
        ids = sorted(candidates)
        # A metaverse value belongs in the list when some value of the source list is linked
        # to it (the source connector's object of that metaverse object).
        # Driven by the few candidates, each probing the list's primary key: a join the
        # planner may order the other way walks the whole list (55 s for a 98,000-member
        # group on PostgreSQL with statistics older than the list).
        wanted = {r[0] for r in self.db.query_in(
            "SELECT t.mv_id FROM cs_objects t WHERE t.connector_id = ? AND EXISTS ("
            "SELECT 1 FROM cs_refs r WHERE r.cs_id = ? AND r.attr = ? AND r.target_id = t.id) "
            "AND t.mv_id IN ({ids})", ids, (connector_id, cs_id, cs_attr))}
        held = {r[0] for r in self.db.query_in(
            "SELECT target_id FROM mv_refs WHERE mv_id = ? AND attr = ? AND target_id IN ({ids})",
            ids, (mv_id, mv_attr))}
        return wanted - held, held - wanted

    def outbound_changed(self, mv_id: int, mv_attr: str, cs_id: int, cs_attr: str,
                         connector_id: int, mv_changes: Iterable[int],
                         cs_changes: Iterable[int]) -> tuple[set[int], set[int], set[int]]:
        """``ReferenceDeltas.outbound`` restricted to the journal's changed values (metaverse
        values and hologram values). Returns adds, removes and the connector space objects
        looked at."""
        mv_ids = sorted(set(mv_changes))
        looked = {r[0] for r in self.db.query_in(
            "SELECT id FROM cs_objects WHERE connector_id = ? AND mv_id IN ({ids})",
            mv_ids, (connector_id,))} if mv_ids else set()
        looked |= set(cs_changes)
        if not looked:
            return set(), set(), looked
        ids = sorted(looked)
        wanted = {r[0] for r in self.db.query_in(  # candidates first, as in inbound_changed
            "SELECT c.id FROM cs_objects c WHERE EXISTS (SELECT 1 FROM mv_refs m "
            "WHERE m.mv_id = ? AND m.attr = ? AND m.target_id = c.mv_id) AND c.id IN ({ids})",
            ids, (mv_id, mv_attr))}
        held = {r[0] for r in self.db.query_in(
            "SELECT target_id FROM cs_refs WHERE cs_id = ? AND attr = ? AND target_id IN ({ids})",
            ids, (cs_id, cs_attr))}
        return wanted - held, held - wanted, looked

    def unplaced(self, mv_id: int, mv_attr: str, connector_id: int,
                 candidates: Iterable[int]) -> bool:
        """Whether any of ``candidates`` is in the metaverse list with no object in the
        connector space (a dropped reference appears)."""
        ids = sorted(set(candidates))
        return bool(ids) and bool(self.db.query_in(
            "SELECT 1 FROM mv_refs m WHERE m.mv_id = ? AND m.attr = ? AND NOT EXISTS ("
            "SELECT 1 FROM cs_objects c WHERE c.mv_id = m.target_id AND c.connector_id = ?) "
            "AND m.target_id IN ({ids})", ids, (mv_id, mv_attr, connector_id)))


def record_relinks(db: BaseDatabase, rows: Sequence[tuple[int, int | None, int | None]]) -> None:
    """Journal entries for relinked objects, (cs id, old mv id, new mv id) rows, written
    set-based: what the relink trigger of migrations 0003/0004 writes row by row, for a bulk
    link update made with that trigger switched off (PostgreSQL only: there the trigger is a
    PL/pgSQL call per row). Call after the update, in its transaction."""
    moved = [(i, old, new) for i, old, new in rows if old != new]
    if not moved:
        return
    ids = [i for i, _, _ in moved]
    olds = [old for _, old, _ in moved]
    mvs = sorted({m for _, old, new in moved for m in (old, new) if m is not None})
    # The literals are JournalSpace.CONNECTOR_SPACE (1), JournalSpace.METAVERSE (0) and the
    # RelinkMark values, as the triggers write them.
    db.execute(
        "INSERT INTO ref_changes (space, obj_id, attr, target_id) "
        "SELECT 1, r.id, m.attr, 0 FROM unnest(?::bigint[]) AS r(id) "
        "CROSS JOIN (VALUES ('*in'), ('*out')) AS m(attr) ON CONFLICT DO NOTHING", (ids,))
    db.execute(
        "INSERT INTO ref_changes (space, obj_id, attr, target_id, old_mv) "
        "SELECT DISTINCT ON (r.cs_id, r.attr, r.target_id) 1, r.cs_id, r.attr, r.target_id, "
        "x.old_mv FROM unnest(?::bigint[], ?::bigint[]) AS x(id, old_mv) "
        "JOIN cs_refs r ON r.target_id = x.id JOIN cs_objects h ON h.id = r.cs_id "
        "WHERE h.mv_id IS NOT NULL ON CONFLICT (space, obj_id, attr, target_id) "
        "DO UPDATE SET old_mv = coalesce(ref_changes.old_mv, excluded.old_mv)", (ids, olds))
    if mvs:
        db.execute(
            "INSERT INTO ref_changes (space, obj_id, attr, target_id) "
            "SELECT DISTINCT 0, m.mv_id, m.attr, m.target_id FROM mv_refs m "
            "WHERE m.target_id = ANY(?::bigint[]) ON CONFLICT DO NOTHING", (mvs,))
