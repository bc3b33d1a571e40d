"""Metaverse objects, their references and the join index."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from idsync import values
from idsync.model import MVObject
from idsync.store.database import BaseDatabase, utcnow

#: join_index space of the metaverse (connector spaces use their connector id). Not the
#: reference-change journal's space, which is ``store.reference_journal.JournalSpace``.
MV_SPACE = 0


#: Most metaverse objects one page of an attribute search reads (``search_page``): attributes
#: are JSON documents, not indexed, so a search scans; a page stops after this many objects,
#: full or not, and the next page goes on from there.
SCAN_WINDOW = 20_000


class ClauseOperator(StrEnum):
    EQUALS = "equals"
    STARTS_WITH = "starts-with"
    PRESENT = "present"


@dataclass(frozen=True, slots=True)
class AttributeClause:
    """One clause of a metaverse search: ``attribute`` (any case) equals / starts with (any
    case) ``value``, or is present."""

    attribute: str
    operator: ClauseOperator
    value: str = ""


@dataclass(slots=True)
class MVPage:
    objects: list[MVObject]
    #: where the next page starts (``after``), or None: nothing more
    next_after: int | None


def _mv(row: tuple[Any, ...]) -> MVObject:
    return MVObject(id=row[0], object_type=row[1], attributes=values.loads_attributes(row[2]),
                    lineage=values.loads(row[3]) or {})


class MetaverseRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def get(self, mv_id: int) -> MVObject | None:
        row = self.db.query_one(
            "SELECT id, object_type, attributes, lineage FROM mv_objects WHERE id = ?", (mv_id,))
        return _mv(row) if row else None

    def by_ids(self, ids: Sequence[int]) -> dict[int, MVObject]:
        rows = self.db.query_in(
            "SELECT id, object_type, attributes, lineage FROM mv_objects WHERE id IN ({ids})",
            list(ids))
        return {r[0]: _mv(r) for r in rows}

    def create(self, object_type: str) -> int:
        now = utcnow()
        cur = self.db.execute(
            "INSERT INTO mv_objects (object_type, created_at, updated_at) VALUES (?, ?, ?) "
            "RETURNING id", (object_type, now, now))
        return cur.fetchone()[0]

    def create_many(self, object_types: Sequence[str]) -> list[int]:
        """``create`` for many objects (a connect batch's projections): their ids, in order."""
        if not object_types:
            return []
        now = utcnow()
        ids = self.db.reserve_ids("mv_objects", len(object_types))
        self.db.insert_rows("mv_objects", ("id", "object_type", "created_at", "updated_at"),
                            ("INTEGER", "TEXT", "TEXT", "TEXT"),
                            [(i, t, now, now) for i, t in zip(ids, object_types, strict=True)])
        return ids

    def save(self, mv: MVObject) -> None:
        self.db.execute(
            "UPDATE mv_objects SET attributes = ?, lineage = ?, updated_at = ? WHERE id = ?",
            (values.dumps_attributes(mv.attributes), values.dumps(mv.lineage), utcnow(), mv.id))

    def save_many(self, mvs: Sequence[MVObject]) -> None:
        """``save`` for the objects a flow batch changed, in one statement per 10,000."""
        now = utcnow()
        self.db.update_rows(
            "mv_objects", ("attributes", "lineage", "updated_at"), ("TEXT", "TEXT", "TEXT"),
            [(values.dumps_attributes(m.attributes), values.dumps(m.lineage), now, m.id)
             for m in mvs])

    def delete(self, mv_id: int) -> set[int]:
        """Delete an object; returns the MV objects that referenced it (their references to it
        are removed, so their outbound flows must run again)."""
        referrers = {r[0] for r in self.db.query(
            "SELECT DISTINCT mv_id FROM mv_refs WHERE target_id = ?", (mv_id,))}
        self.db.execute("DELETE FROM mv_refs WHERE target_id = ?", (mv_id,))
        self.db.execute("DELETE FROM mv_refs WHERE mv_id = ?", (mv_id,))
        self.db.execute("DELETE FROM join_index WHERE space = ? AND obj_id = ?", (MV_SPACE, mv_id))
        self.db.execute("DELETE FROM mv_dirty WHERE mv_id = ?", (mv_id,))
        self.db.execute("DELETE FROM mv_objects WHERE id = ?", (mv_id,))
        referrers.discard(mv_id)
        return referrers

    def count(self, object_type: str | None = None) -> int:
        if object_type:
            return self.db.scalar("SELECT count(*) FROM mv_objects WHERE object_type = ?",
                                  (object_type,))
        return self.db.scalar("SELECT count(*) FROM mv_objects")

    def search(self, *, object_type: str | None = None, attribute: str | None = None,
               value: str | None = None, limit: int = 0) -> list[MVObject]:
        sql = "SELECT id, object_type, attributes, lineage FROM mv_objects"
        where, params = [], []
        if object_type:
            where.append("object_type = ?")
            params.append(object_type)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        out = []
        for row in self.db.query(sql, params):
            mv = _mv(row)
            if attribute and value is not None and value not in [
                    str(v) for v in mv.attributes.get(attribute, [])]:
                continue
            if attribute and value is None and attribute not in mv.attributes:
                continue
            out.append(mv)
            if limit and len(out) >= limit:
                break
        return out

    def search_page(self, *, object_type: str | None = None,
                    clauses: Sequence[AttributeClause] = (), after: int = 0,
                    limit: int = 50) -> MVPage:
        """One page of objects of ``object_type`` matching every clause, in id order, after
        ``after``. Reads at most ``SCAN_WINDOW`` objects: a page may hold fewer than
        ``limit`` and still have a next one."""
        where: list[str] = []
        params: list[Any] = []
        if object_type:
            where.append("m.object_type = ?")
            params.append(object_type)
        for clause in clauses:
            sql, args = self._clause(clause)
            where.append(sql)
            params += args
        window = (f"(SELECT id, object_type, attributes, lineage FROM mv_objects "
                  f"WHERE id > ? ORDER BY id LIMIT {SCAN_WINDOW}) m")
        rows = self.db.query(
            f"SELECT m.id, m.object_type, m.attributes, m.lineage FROM {window}"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY m.id LIMIT {int(limit)}", [after, *params])
        found = [_mv(r) for r in rows]
        if len(found) == limit:
            return MVPage(found, found[-1].id)
        window_end = self.db.scalar(
            f"SELECT max(id) FROM (SELECT id FROM mv_objects WHERE id > ? ORDER BY id "
            f"LIMIT {SCAN_WINDOW}) w", (after,))
        scanned_all = window_end is None or not self.db.scalar(
            "SELECT 1 FROM mv_objects WHERE id > ? LIMIT 1", (window_end,))
        return MVPage(found, None if scanned_all else int(window_end))

    def _clause(self, clause: AttributeClause) -> tuple[str, list[Any]]:
        """SQL over the attributes document (JSON: attribute -> list of values)."""
        if self.db.dialect == "postgresql":
            values_of = ("SELECT a.key, v.value FROM jsonb_each(m.attributes::jsonb) a, "
                         "jsonb_array_elements_text(a.value) v")
        else:
            values_of = ("SELECT a.key AS key, CAST(v.value AS TEXT) AS value "
                         "FROM json_each(m.attributes) a, json_each(a.value) v")
        test = "lower(x.key) = lower(?)"
        args: list[Any] = [clause.attribute]
        if clause.operator is ClauseOperator.EQUALS:
            test += " AND x.value = ?"
            args.append(clause.value)
        elif clause.operator is ClauseOperator.STARTS_WITH:
            test += f" AND lower(substr(x.value, 1, {len(clause.value)})) = lower(?)"
            args.append(clause.value)
        return f"EXISTS (SELECT 1 FROM ({values_of}) x WHERE {test})", args

    # --- references ---------------------------------------------------------------------

    def ref_page(self, mv_id: int, attr: str, after: int = 0, limit: int = 50) -> list[int]:
        """One page of a reference attribute's targets, in id order (the primary key's)."""
        return [r[0] for r in self.db.query(
            "SELECT target_id FROM mv_refs WHERE mv_id = ? AND attr = ? AND target_id > ? "
            "ORDER BY target_id LIMIT ?", (mv_id, attr, after, limit))]

    def ref_counts(self, mv_id: int) -> dict[str, int]:
        """attribute -> how many values, of each reference attribute of one object."""
        return dict(self.db.query(
            "SELECT attr, count(*) FROM mv_refs WHERE mv_id = ? GROUP BY attr ORDER BY attr",
            (mv_id,)))

    def refs_of(self, mv_ids: Sequence[int]) -> dict[int, dict[str, set[int]]]:
        out: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        for mv_id, attr, target in self.db.query_in(
                "SELECT mv_id, attr, target_id FROM mv_refs WHERE mv_id IN ({ids})",
                list(mv_ids)):
            out[mv_id][attr].add(target)
        return out

    def ref_count(self, mv_id: int, attr: str) -> int:
        return self.db.scalar("SELECT count(*) FROM mv_refs WHERE mv_id = ? AND attr = ?",
                              (mv_id, attr))

    def ref_targets_first(self, mv_id: int, attr: str, limit: int) -> list[int]:
        """The first ``limit`` targets of one reference attribute, by id."""
        return [r[0] for r in self.db.query(
            "SELECT target_id FROM mv_refs WHERE mv_id = ? AND attr = ? ORDER BY target_id "
            "LIMIT ?", (mv_id, attr, limit))]

    def has_refs(self, mv_id: int, attr: str) -> bool:
        """Whether a reference attribute holds any value (one index probe, not a count)."""
        return self.db.scalar("SELECT 1 FROM mv_refs WHERE mv_id = ? AND attr = ? LIMIT 1",
                              (mv_id, attr)) is not None

    def change_refs(self, mv_id: int, attr: str, adds: Iterable[int],
                    removes: Iterable[int]) -> None:
        self.db.executemany("DELETE FROM mv_refs WHERE mv_id = ? AND attr = ? AND target_id = ?",
                            [(mv_id, attr, t) for t in removes])
        self.db.executemany(
            "INSERT INTO mv_refs (mv_id, attr, target_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(mv_id, attr, t) for t in adds])

    def change_refs_many(self, adds: Sequence[tuple[int, str, int]],
                         removes: Sequence[tuple[int, str, int]]) -> None:
        """``change_refs`` for many objects: (mv id, attribute, target id) rows."""
        self.db.delete_rows("mv_refs", ("mv_id", "attr", "target_id"),
                            ("INTEGER", "TEXT", "INTEGER"), removes)
        self.db.insert_rows("mv_refs", ("mv_id", "attr", "target_id"),
                            ("INTEGER", "TEXT", "INTEGER"), adds, "ON CONFLICT DO NOTHING")

    def referrers(self, target_ids: Sequence[int]) -> set[int]:
        return {r[0] for r in self.db.query_in(
            "SELECT DISTINCT mv_id FROM mv_refs WHERE target_id IN ({ids})", list(target_ids))}

    # --- work queue for outbound synchronization ---------------------------------------

    def mark_dirty(self, mv_ids: Iterable[int]) -> None:
        self.db.insert_rows("mv_dirty", ("mv_id",), ("INTEGER",), [(i,) for i in mv_ids],
                            "ON CONFLICT DO NOTHING")

    def dirty_page(self, phase: int, after: int, limit: int) -> list[int]:
        return [r[0] for r in self.db.query(
            "SELECT mv_id FROM mv_dirty WHERE phase = ? AND mv_id > ? ORDER BY mv_id LIMIT ?",
            (phase, after, limit))]

    def set_dirty_phase(self, mv_ids: Sequence[int], phase: int) -> None:
        self.db.execute_in("UPDATE mv_dirty SET phase = ? WHERE mv_id IN ({ids})", list(mv_ids),
                           (phase,))

    def clear_dirty(self, mv_ids: Sequence[int]) -> None:
        self.db.execute_in("DELETE FROM mv_dirty WHERE mv_id IN ({ids})", list(mv_ids))

    def dirty_count(self) -> int:
        return self.db.scalar("SELECT count(*) FROM mv_dirty")


class JoinIndex:
    """Values of join attributes, so a join rule is an index lookup, not a scan."""

    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    @staticmethod
    def key(value: Any, case_sensitive: bool) -> str:
        if isinstance(value, bytes):
            text = "b:" + value.hex()
        else:
            text = "s:" + str(value)
        return text if case_sensitive else text.lower()

    @staticmethod
    def attr_key(attr: str, case_sensitive: bool) -> str:
        return attr if case_sensitive else "~" + attr.lower()

    def replace(self, space: int, obj_id: int, entries: Iterable[tuple[str, str]]) -> None:
        self.db.execute("DELETE FROM join_index WHERE space = ? AND obj_id = ?", (space, obj_id))
        self.db.executemany(
            "INSERT INTO join_index (space, attr, value, obj_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING", [(space, a, v, obj_id) for a, v in entries])

    def replace_many(self, space: int, entries: dict[int, list[tuple[str, str]]]) -> None:
        """``replace`` for many objects of one space: obj id -> its (attr, value) entries."""
        if not entries:
            return
        self.db.execute_in("DELETE FROM join_index WHERE space = ? AND obj_id IN ({ids})",
                           sorted(entries), (space,))
        self.db.insert_rows(
            "join_index", ("space", "attr", "value", "obj_id"),
            ("INTEGER", "TEXT", "TEXT", "INTEGER"),
            [(space, a, v, obj_id) for obj_id, pairs in entries.items() for a, v in pairs],
            "ON CONFLICT DO NOTHING")

    def lookup(self, space: int, attr_key: str, value_key: str) -> set[int]:
        return {r[0] for r in self.db.query(
            "SELECT obj_id FROM join_index WHERE space = ? AND attr = ? AND value = ?",
            (space, attr_key, value_key))}

    def lookup_many(self, space: int, attr_key: str, value_keys: Sequence[str]
                    ) -> dict[str, set[int]]:
        """``lookup`` of many values of one attribute: value key -> object ids."""
        out: dict[str, set[int]] = {k: set() for k in value_keys}
        for value, obj_id in self.db.query_in(
                "SELECT value, obj_id FROM join_index WHERE space = ? AND attr = ? "
                "AND value IN ({ids})", sorted(out), (space, attr_key)):
            out[value].add(obj_id)
        return out

    def clear(self) -> None:
        self.db.execute("DELETE FROM join_index")
