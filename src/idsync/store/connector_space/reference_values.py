"""Reference values (member, manager...) of connector space objects: one row per value in
``cs_refs``, pointing at the target's connector space id, so one member change of a
250,000-member group is one row and a renamed target never rewrites the references to it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from idsync.dn import normalize_dn
from idsync.store.database import BaseDatabase


class ReferenceValueRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def held_refs(self, cs_id: int, targets: Sequence[int]) -> dict[str, set[int]]:
        """Which of ``targets`` an object's reference attributes hold (attr -> targets)."""
        held: dict[str, set[int]] = {}
        for attr, target in self.db.query_in(
                "SELECT attr, target_id FROM cs_refs WHERE cs_id = ? AND target_id IN ({ids})",
                list(targets), (cs_id,)):
            held.setdefault(attr, set()).add(target)
        return held

    def refs_of(self, cs_ids: Sequence[int],
                attrs: Iterable[str] | None = None) -> dict[int, dict[str, set[int]]]:
        out: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        attr_list = sorted(set(attrs)) if attrs is not None else None
        if attr_list is not None and not attr_list:
            return {}
        extra = ""
        params: tuple[Any, ...] = ()
        if attr_list is not None:
            extra = " AND attr IN (" + ",".join("?" * len(attr_list)) + ")"
            params = tuple(attr_list)
        for cs_id, attr, target in self._query_ids(
                "SELECT cs_id, attr, target_id FROM cs_refs WHERE cs_id IN ({ids})" + extra,
                cs_ids, params):
            out[cs_id][attr].add(target)
        return out

    def _query_ids(self, sql: str, ids: Sequence[int], params: tuple[Any, ...]) -> list[tuple]:
        # Placeholders for the id list come first in the statement, then the extra params.
        out: list[tuple] = []
        for i in range(0, len(ids), 500):
            part = list(ids[i : i + 500])
            marks = ",".join("?" * len(part))
            out.extend(self.db.query(sql.format(ids=marks), (*part, *params)))
        return out

    def ref_count(self, cs_id: int, attr: str) -> int:
        return self.db.scalar("SELECT count(*) FROM cs_refs WHERE cs_id = ? AND attr = ?",
                              (cs_id, attr))

    def ref_counts(self, cs_id: int) -> dict[str, int]:
        """attribute -> how many values, of each reference attribute of one object."""
        return dict(self.db.query(
            "SELECT attr, count(*) FROM cs_refs WHERE cs_id = ? GROUP BY attr ORDER BY attr",
            (cs_id,)))

    def ref_page(self, cs_id: int, attr: str, after: int = 0, limit: int = 50
                 ) -> list[tuple[int, str]]:
        """One page of a reference attribute's values: (target id, its DN), in id order (the
        primary key's), so a 250,000-member group is read 50 at a time."""
        return [(r[0], r[1]) for r in self.db.query(
            "SELECT r.target_id, t.dn FROM cs_refs r JOIN cs_objects t ON t.id = r.target_id "
            "WHERE r.cs_id = ? AND r.attr = ? AND r.target_id > ? ORDER BY r.target_id LIMIT ?",
            (cs_id, attr, after, limit))]

    def export_ref_page(self, cs_id: int, attr: str, op: str, after: int = 0, limit: int = 50
                        ) -> list[tuple[int, str]]:
        """One page of the values a pending export adds (``op`` 'add') or removes ('remove')
        on a reference attribute: (target id, its DN), in id order."""
        return [(r[0], r[1]) for r in self.db.query(
            "SELECT p.target_id, t.dn FROM pending_export_refs p "
            "JOIN cs_objects t ON t.id = p.target_id WHERE p.cs_id = ? AND p.attr = ? "
            "AND p.op = ? AND p.target_id > ? ORDER BY p.target_id LIMIT ?",
            (cs_id, attr, op, after, limit))]

    def ref_targets_first(self, cs_id: int, attr: str, limit: int) -> list[int]:
        """The first ``limit`` targets of one reference attribute, by id (a bounded look at
        a 250,000-member group)."""
        return [r[0] for r in self.db.query(
            "SELECT target_id FROM cs_refs WHERE cs_id = ? AND attr = ? ORDER BY target_id "
            "LIMIT ?", (cs_id, attr, limit))]

    def ref_targets(self, cs_id: int, attr: str) -> set[int]:
        return {r[0] for r in self.db.query(
            "SELECT target_id FROM cs_refs WHERE cs_id = ? AND attr = ?", (cs_id, attr))}

    def ref_attrs(self, cs_id: int) -> list[str]:
        return [r[0] for r in self.db.query(
            "SELECT DISTINCT attr FROM cs_refs WHERE cs_id = ?", (cs_id,))]

    def change_refs(self, cs_id: int, attr: str, adds: Iterable[int],
                    removes: Iterable[int]) -> None:
        self.db.executemany("DELETE FROM cs_refs WHERE cs_id = ? AND attr = ? AND target_id = ?",
                            [(cs_id, attr, t) for t in removes])
        self.db.executemany(
            "INSERT INTO cs_refs (cs_id, attr, target_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(cs_id, attr, t) for t in adds])

    def change_refs_many(self, adds: Sequence[tuple[int, str, int]],
                         removes: Sequence[tuple[int, str, int]],
                         fresh: Sequence[tuple[int, str, int]] = ()) -> None:
        """``(cs_id, attr, target_id)`` rows to remove, then to add. ``fresh`` rows belong to
        objects inserted in this transaction, which hold no row yet: a plain insert (ON
        CONFLICT's speculative insertion costs PostgreSQL 1.7x on a 200,000-row batch)."""
        if removes:
            self.db.executemany(
                "DELETE FROM cs_refs WHERE cs_id = ? AND attr = ? AND target_id = ?", removes)
        columns, types = ("cs_id", "attr", "target_id"), ("INTEGER", "TEXT", "INTEGER")
        self.db.insert_rows("cs_refs", columns, types, adds, "ON CONFLICT DO NOTHING")
        self.db.insert_rows("cs_refs", columns, types, fresh)

    def referencing(self, target_ids: Sequence[int]) -> set[int]:
        """Objects whose reference attributes point at any of ``target_ids``."""
        return {r[0] for r in self.db.query_in(
            "SELECT DISTINCT cs_id FROM cs_refs WHERE target_id IN ({ids})", list(target_ids))}

    def is_member_of(self, cs_id: int, connector_id: int, group_dn: str) -> bool:
        return bool(self.db.scalar(
            "SELECT 1 FROM cs_refs r JOIN cs_objects g ON g.id = r.cs_id "
            "WHERE r.target_id = ? AND r.attr = 'member' AND g.connector_id = ? "
            "AND g.dn_norm = ? LIMIT 1", (cs_id, connector_id, normalize_dn(group_dn))))

    def reference_targets_mv(self, cs_ids: Sequence[int]) -> dict[int, int]:
        """For the reference values of ``cs_ids``: target CS id -> its linked MV id. One join
        per batch of referencing objects, however many values they hold (a 250,000-member
        group is one query, not 500 chunked look-ups)."""
        return {r[0]: r[1] for r in self.db.query_in(
            "SELECT DISTINCT t.id, t.mv_id FROM cs_refs r JOIN cs_objects t ON t.id = r.target_id"
            " WHERE r.cs_id IN ({ids}) AND t.mv_id IS NOT NULL", list(cs_ids))}

    def mv_reference_targets_in(self, connector_id: int, mv_ids: Sequence[int]
                                ) -> dict[int, int]:
        """For the metaverse references of ``mv_ids``: target MV id -> the CS id linked to it
        in one connector (targets with no object there are absent)."""
        return {r[0]: r[1] for r in self.db.query_in(
            # Driven by the references, each target probing (mv_id, connector_id): a join
            # let either planner start from the connector instead, a scan of the whole
            # connector space per batch (PostgreSQL did, 70 ms a batch at 10,000 users). The
            # probe is min(c.id + 0), not min(c.id) or ORDER BY id LIMIT 1: PostgreSQL turns
            # those into a walk of the primary key filtered by mv_id (7.8 s for one batch).
            "SELECT r.target_id, (SELECT min(c.id + 0) FROM cs_objects c "
            "WHERE c.mv_id = r.target_id "
            "AND c.connector_id = ?) FROM (SELECT DISTINCT target_id FROM mv_refs "
            "WHERE mv_id IN ({ids})) AS r", list(mv_ids), (connector_id,)) if r[1] is not None}

    def exported_refs_not_shown(self, cs_ids: Sequence[int]) -> set[int]:
        """Objects among ``cs_ids`` whose exported reference changes (``pending_export_refs``)
        their references do not show: a value added that is missing, or a value removed
        that is still there. Set-based: no value list is loaded."""
        return {r[0] for r in self.db.query_in(
            "SELECT DISTINCT p.cs_id FROM pending_export_refs p WHERE p.cs_id IN ({ids}) "
            "AND (p.op = 'add') <> EXISTS (SELECT 1 FROM cs_refs r WHERE r.cs_id = p.cs_id "
            "AND r.attr = p.attr AND r.target_id = p.target_id)", list(cs_ids))}
