"""The link of a connector space object to its metaverse object (mv id, link type, the rule
that made it, its direction), and the look-ups that go through it."""

from __future__ import annotations

from collections.abc import Sequence

from idsync.model import CSObject, Direction, LinkType
from idsync.store.connector_space.objects import COLUMNS, cs_from_row
from idsync.store.database import BaseDatabase
from idsync.store.reference_journal import record_relinks

#: One link to write: (mv id, link type, rule id, direction, cs id); all None but the cs id
#: unlinks the object.
LinkRow = tuple[int | None, LinkType | None, int | None, Direction | None, int]


class CSLinkRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def set_link(self, cs_id: int, mv_id: int | None, link_type: LinkType | None,
                 rule_id: int | None, direction: Direction | None) -> None:
        self.db.execute(
            "UPDATE cs_objects SET mv_id = ?, link_type = ?, link_rule_id = ?, link_direction = ? "
            "WHERE id = ?", (mv_id, link_type, rule_id, direction, cs_id))

    def set_links(self, rows: Sequence[LinkRow]) -> None:
        """``set_link`` for many objects: (mv id, link type, rule id, direction, cs id) rows.
        The relink journal trigger sees each row (migration 0003), except on PostgreSQL:
        there it is a PL/pgSQL call per row (about 0.1 ms), so the update runs with it off and
        the same journal entries are written set-based (``record_relinks``)."""
        if not rows:
            return
        columns = ("mv_id", "link_type", "link_rule_id", "link_direction")
        types = ("INTEGER", "TEXT", "INTEGER", "TEXT")
        if self.db.dialect != "postgresql":
            self.db.update_rows("cs_objects", columns, types, rows)
            return
        ids = [r[4] for r in rows]
        before = dict(self.db.query_in("SELECT id, mv_id FROM cs_objects WHERE id IN ({ids})",
                                       ids))
        self.db.execute("SELECT set_config('idsync.relink_journal', 'off', true)")
        try:
            self.db.update_rows("cs_objects", columns, types, rows)
        finally:
            self.db.execute("SELECT set_config('idsync.relink_journal', 'on', true)")
        record_relinks(self.db, [(r[4], before.get(r[4]), r[0]) for r in rows])

    def linked_to(self, mv_ids: Sequence[int]) -> list[CSObject]:
        rows = self.db.query_in(f"SELECT {COLUMNS} FROM cs_objects WHERE mv_id IN ({{ids}})",
                                list(mv_ids))
        return [cs_from_row(r) for r in rows]

    def mv_ids_of(self, ids: Sequence[int]) -> dict[int, int]:
        """CS id -> linked MV id, for the linked ones."""
        return {r[0]: r[1] for r in self.db.query_in(
            "SELECT id, mv_id FROM cs_objects WHERE id IN ({ids}) AND mv_id IS NOT NULL",
            list(ids))}

    def in_connector_for_mv(self, connector_id: int, mv_ids: Sequence[int]) -> dict[int, int]:
        """MV id -> the CS id linked to it in one connector."""
        return {r[0]: r[1] for r in self.db.query_in(
            "SELECT mv_id, id FROM cs_objects WHERE connector_id = ? AND mv_id IN ({ids})",
            list(mv_ids), (connector_id,))}
