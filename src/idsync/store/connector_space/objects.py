"""Connector space objects, one row each: reading them, inserting them, and the writes of one
object's own columns (anchor, DN, pending import, the full import run that saw it).

Non-reference attributes are one JSON document per object (the hologram, as last imported).
Reference values live in their own rows (idsync.store.connector_space.reference_values).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from idsync import values
from idsync.dn import normalize_dn
from idsync.model import CSObject, Direction, ExportKind, ExportState, LinkType, PendingImport
from idsync.store.database import BaseDatabase, utcnow

COLUMNS = ("id, connector_id, anchor, dn, object_type, placeholder, attributes, pending_import, "
           "mv_id, link_type, link_rule_id, link_direction")

# insert_many: the columns and their types.
_INSERT_COLUMNS = ("id", "connector_id", "anchor", "dn", "dn_norm", "dn_rev", "object_type",
                   "placeholder", "attributes", "pending_import", "seen_run", "created_at")
_INSERT_TYPES = ("INTEGER", "INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "INTEGER", "TEXT",
                 "TEXT", "INTEGER", "TEXT")

_FAST = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_STRICT_INTEGER


def dumps_hologram(attributes: values.Attributes) -> str:
    """``values.dumps_attributes`` without its per-value Python pass when no value needs a
    tag: orjson refuses bytes, datetimes (passed through) and integers past 53 bits, and a
    string holding a control character shows as ``\\u000``; those take the tagged path.
    The same text either way (a staged batch writes every object's document)."""
    try:
        text = orjson.dumps(attributes, option=_FAST)
    except TypeError:
        return values.dumps_attributes(attributes)
    if b"\\u000" in text:
        return values.dumps_attributes(attributes)
    return text.decode("utf-8")


def reversed_dn(dn_norm: str) -> str:
    """``cs_objects.dn_rev``: the normalised DN read backwards, so a subtree (a DN suffix) is a
    prefix, one range of an index (migration 0015)."""
    return dn_norm[::-1]


def cs_from_row(row: tuple[Any, ...]) -> CSObject:
    """A ``CSObject`` from a row of ``COLUMNS``."""
    return CSObject(
        id=row[0], connector_id=row[1], anchor=row[2], dn=row[3], object_type=row[4],
        placeholder=bool(row[5]), attributes=values.loads_attributes(row[6]),
        pending_import=PendingImport(row[7]) if row[7] else None, mv_id=row[8],
        link_type=LinkType(row[9]) if row[9] else None, link_rule_id=row[10],
        link_direction=Direction(row[11]) if row[11] else None)


def insert_object(db: BaseDatabase, connector_id: int, *, anchor: str | None, dn: str,
                  object_type: str | None, attributes: values.Attributes | None = None,
                  pending_import: PendingImport | None = None,
                  placeholder: bool = False) -> int:
    cur = db.execute(
        "INSERT INTO cs_objects (connector_id, anchor, dn, dn_norm, dn_rev, object_type, "
        "placeholder, attributes, pending_import, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (connector_id, anchor, dn, normalize_dn(dn), reversed_dn(normalize_dn(dn)), object_type,
         int(placeholder),
         values.dumps_attributes(attributes or {}), pending_import, utcnow()))
    return int(cur.fetchone()[0])


def insert_objects(db: BaseDatabase, objects: Sequence[CSObject], seen_run: int | None = None
                   ) -> list[int]:
    """Insert new objects (their ``id`` is ignored, their links are left empty): an
    import's new objects and placeholders, an outbound batch's provisioned objects.
    Returns their ids in order: reserved first (a multi-row insert's RETURNING order is
    not defined), so two objects of one call may share a DN. Call inside the write
    transaction."""
    if not objects:
        return []
    now = utcnow()
    ids = db.reserve_ids("cs_objects", len(objects))
    norms = [normalize_dn(o.dn) for o in objects]
    rows = [(i, o.connector_id, o.anchor, o.dn, n, reversed_dn(n), o.object_type,
             int(o.placeholder), dumps_hologram(o.attributes), o.pending_import, seen_run, now)
            for i, o, n in zip(ids, objects, norms, strict=True)]
    db.insert_rows("cs_objects", _INSERT_COLUMNS, _INSERT_TYPES, rows)
    return ids


class CSObjectRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def get(self, cs_id: int) -> CSObject | None:
        row = self.db.query_one(f"SELECT {COLUMNS} FROM cs_objects WHERE id = ?", (cs_id,))
        return cs_from_row(row) if row else None

    def by_ids(self, ids: Sequence[int]) -> dict[int, CSObject]:
        rows = self.db.query_in(f"SELECT {COLUMNS} FROM cs_objects WHERE id IN ({{ids}})",
                                list(ids))
        return {r[0]: cs_from_row(r) for r in rows}

    def by_anchors(self, connector_id: int, anchors: Sequence[str]) -> dict[str, CSObject]:
        rows = self.db.query_in(
            f"SELECT {COLUMNS} FROM cs_objects WHERE connector_id = ? AND anchor IN ({{ids}})",
            list(anchors), (connector_id,))
        return {r[2]: cs_from_row(r) for r in rows}

    def by_dns(self, connector_id: int, dn_norms: Sequence[str]) -> dict[str, CSObject]:
        rows = self.db.query_in(
            f"SELECT {COLUMNS}, dn_norm FROM cs_objects "
            f"WHERE connector_id = ? AND dn_norm IN ({{ids}})", list(dn_norms), (connector_id,))
        return {r[-1]: cs_from_row(r[:-1]) for r in rows}

    def by_dns_all(self, connector_id: int, dn_norms: Sequence[str]
                   ) -> dict[str, list[CSObject]]:
        """Every object at each normalised DN (a placeholder and a renamed-away object can
        share one), in id order."""
        out: dict[str, list[CSObject]] = defaultdict(list)
        rows = self.db.query_in(
            f"SELECT {COLUMNS}, dn_norm FROM cs_objects "
            f"WHERE connector_id = ? AND dn_norm IN ({{ids}})", list(dn_norms), (connector_id,))
        for r in sorted(rows, key=lambda r: r[0]):
            out[r[-1]].append(cs_from_row(r[:-1]))
        return out

    def ids_at_dns(self, connector_id: int, dn_norms: Sequence[str]
                   ) -> dict[str, list[tuple[int, int]]]:
        """normalised DN -> [(id, rank)] of the objects there, in id order; the rank says
        which one a reference naming the DN names: 0 an object, 1 a placeholder, 2 an object
        whose delete is staged (gone from the directory: a new object that took the DN, or
        the placeholder the references to the old one moved to, comes first)."""
        out: dict[str, list[tuple[int, int]]] = defaultdict(list)
        rows = self.db.query_in(
            "SELECT dn_norm, id, CASE WHEN placeholder = 1 THEN 1 "
            f"WHEN pending_import = '{PendingImport.DELETE}' THEN 2 ELSE 0 END FROM cs_objects "
            "WHERE connector_id = ? AND dn_norm IN ({ids})", list(dn_norms), (connector_id,))
        for dn_norm, cs_id, rank in sorted(rows, key=lambda r: r[1]):
            out[dn_norm].append((cs_id, int(rank)))
        return out

    def find_dn(self, connector_id: int, dn: str) -> CSObject | None:
        row = self.db.query_one(
            f"SELECT {COLUMNS} FROM cs_objects WHERE connector_id = ? AND dn_norm = ?",
            (connector_id, normalize_dn(dn)))
        return cs_from_row(row) if row else None

    def dns_and_anchors(self, ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
        return {r[0]: (r[1], r[2]) for r in self.db.query_in(
            "SELECT id, dn, anchor FROM cs_objects WHERE id IN ({ids})", list(ids))}

    def insert(self, connector_id: int, *, anchor: str | None, dn: str,
               object_type: str | None, attributes: values.Attributes | None = None,
               pending_import: PendingImport | None = None, placeholder: bool = False) -> int:
        return insert_object(self.db, connector_id, anchor=anchor, dn=dn,
                             object_type=object_type, attributes=attributes,
                             pending_import=pending_import, placeholder=placeholder)

    def insert_many(self, objects: Sequence[CSObject], seen_run: int | None = None
                    ) -> list[int]:
        """See ``insert_objects``."""
        return insert_objects(self.db, objects, seen_run)

    def save(self, cs: CSObject) -> None:
        self.db.execute(
            "UPDATE cs_objects SET anchor = ?, dn = ?, dn_norm = ?, dn_rev = ?, object_type = ?, "
            "placeholder = ?, attributes = ?, pending_import = ?, mv_id = ?, link_type = ?, "
            "link_rule_id = ?, link_direction = ? WHERE id = ?",
            (cs.anchor, cs.dn, normalize_dn(cs.dn), reversed_dn(normalize_dn(cs.dn)),
             cs.object_type, int(cs.placeholder),
             values.dumps_attributes(cs.attributes), cs.pending_import, cs.mv_id, cs.link_type,
             cs.link_rule_id, cs.link_direction, cs.id))

    def set_anchor(self, cs_id: int, anchor: str) -> None:
        self.db.execute("UPDATE cs_objects SET anchor = ? WHERE id = ?", (anchor, cs_id))

    def set_anchors(self, rows: Sequence[tuple[str, int]]) -> None:
        """(anchor, cs id) for many objects: the anchors an export batch's adds returned."""
        self.db.update_rows("cs_objects", ("anchor",), ("TEXT",), rows)

    def set_dn(self, cs_id: int, dn: str) -> None:
        norm = normalize_dn(dn)
        self.db.execute("UPDATE cs_objects SET dn = ?, dn_norm = ?, dn_rev = ? WHERE id = ?",
                        (dn, norm, reversed_dn(norm), cs_id))

    def set_dns(self, rows: Sequence[tuple[str, int]]) -> None:
        """(dn, cs id) for many objects: the DNs an export batch's directory reported."""
        self.db.update_rows("cs_objects", ("dn", "dn_norm", "dn_rev"), ("TEXT", "TEXT", "TEXT"),
                            [(dn, n, reversed_dn(n), cs_id)
                             for dn, cs_id in rows for n in (normalize_dn(dn),)])

    def clear_pending_import(self, ids: Sequence[int]) -> None:
        self.db.execute_in("UPDATE cs_objects SET pending_import = NULL WHERE id IN ({ids})",
                           list(ids))

    def mark_pending_update(self, ids: Iterable[int]) -> None:
        """Queue objects for the next delta synchronization without losing a stronger flag."""
        self.db.execute_in(
            f"UPDATE cs_objects SET pending_import = '{PendingImport.UPDATE}' "
            "WHERE pending_import IS NULL AND placeholder = 0 AND id IN ({ids})", list(ids))

    def set_seen(self, ids: Sequence[int], run_id: int) -> None:
        self.db.execute_in("UPDATE cs_objects SET seen_run = ? WHERE id IN ({ids})",
                           list(ids), (run_id,))

    def unseen(self, connector_id: int, run_id: int) -> list[int]:
        """Objects a full import did not see: gone from the directory (or out of its scope)."""
        return [r[0] for r in self.db.query(
            "SELECT id FROM cs_objects WHERE connector_id = ? AND placeholder = 0 "
            # An object without an anchor is an add not yet confirmed, unless its delete was
            # sent (by sourceAnchor, after a rollback to API v1): then absence confirms it.
            "AND (anchor IS NOT NULL OR EXISTS (SELECT 1 FROM pending_exports p WHERE "
            f"p.cs_id = cs_objects.id AND p.kind = '{ExportKind.DELETE}' "
            f"AND p.state = '{ExportState.EXPORTED}')) "
            "AND (seen_run IS NULL OR seen_run <> ?) "
            f"AND (pending_import IS NULL OR pending_import <> '{PendingImport.DELETE}')",
            (connector_id, run_id))]

    def mark_deleted(self, ids: Sequence[int]) -> None:
        self.db.execute_in(
            f"UPDATE cs_objects SET pending_import = '{PendingImport.DELETE}' "
            "WHERE id IN ({ids})", list(ids))
