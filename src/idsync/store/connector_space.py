"""Connector space objects: the staging copy of each connected directory.

Non-reference attributes are one JSON document per object (the hologram, as last imported).
Reference values (member, manager...) are one row per value in ``cs_refs``, pointing at the
target's connector space id, so one member change of a 250,000-member group is one row and a
renamed target never rewrites the references to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from idsync import values
from idsync.dn import normalize_dn
from idsync.model import CSObject, Direction, LinkType, PendingImport
from idsync.store.database import Database, utcnow
from idsync.store.reference_journal import record_relinks

_COLUMNS = ("id, connector_id, anchor, dn, object_type, placeholder, attributes, pending_import, "
            "mv_id, link_type, link_rule_id, link_direction")

# Staged writes (insert_many, update_many): the columns and their types.
_INSERT_COLUMNS = ("id", "connector_id", "anchor", "dn", "dn_norm", "object_type",
                   "placeholder", "attributes", "pending_import", "seen_run", "created_at")
_INSERT_TYPES = ("INTEGER", "INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "INTEGER", "TEXT",
                 "TEXT", "INTEGER", "TEXT")
# (update_many: the hologram's "attributes" column follows when it is rewritten.)
_UPDATE_COLUMNS = ("anchor", "dn", "dn_norm", "object_type", "placeholder", "pending_import")
_UPDATE_TYPES = ("TEXT", "TEXT", "TEXT", "TEXT", "INTEGER", "TEXT")

_FAST = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_STRICT_INTEGER


def _dumps(attributes: values.Attributes) -> str:
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


def _cs(row: tuple[Any, ...]) -> CSObject:
    return CSObject(
        id=row[0], connector_id=row[1], anchor=row[2], dn=row[3], object_type=row[4],
        placeholder=bool(row[5]), attributes=values.loads_attributes(row[6]),
        pending_import=PendingImport(row[7]) if row[7] else None, mv_id=row[8],
        link_type=LinkType(row[9]) if row[9] else None, link_rule_id=row[10],
        link_direction=Direction(row[11]) if row[11] else None)


class ConnectorSpaceRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reading ------------------------------------------------------------------------

    def get(self, cs_id: int) -> CSObject | None:
        row = self.db.query_one(f"SELECT {_COLUMNS} FROM cs_objects WHERE id = ?", (cs_id,))
        return _cs(row) if row else None

    def by_ids(self, ids: Sequence[int]) -> dict[int, CSObject]:
        rows = self.db.query_in(f"SELECT {_COLUMNS} FROM cs_objects WHERE id IN ({{ids}})",
                                list(ids))
        return {r[0]: _cs(r) for r in rows}

    def by_anchors(self, connector_id: int, anchors: Sequence[str]) -> dict[str, CSObject]:
        rows = self.db.query_in(
            f"SELECT {_COLUMNS} FROM cs_objects WHERE connector_id = ? AND anchor IN ({{ids}})",
            list(anchors), (connector_id,))
        return {r[2]: _cs(r) for r in rows}

    def by_dns(self, connector_id: int, dn_norms: Sequence[str]) -> dict[str, CSObject]:
        rows = self.db.query_in(
            f"SELECT {_COLUMNS}, dn_norm FROM cs_objects "
            f"WHERE connector_id = ? AND dn_norm IN ({{ids}})", list(dn_norms), (connector_id,))
        return {r[-1]: _cs(r[:-1]) for r in rows}

    def find_dn(self, connector_id: int, dn: str) -> CSObject | None:
        row = self.db.query_one(
            f"SELECT {_COLUMNS} FROM cs_objects WHERE connector_id = ? AND dn_norm = ?",
            (connector_id, normalize_dn(dn)))
        return _cs(row) if row else None

    def linked_to(self, mv_ids: Sequence[int]) -> list[CSObject]:
        rows = self.db.query_in(f"SELECT {_COLUMNS} FROM cs_objects WHERE mv_id IN ({{ids}})",
                                list(mv_ids))
        return [_cs(r) for r in rows]

    def ids_page(self, connector_id: int, after: int, limit: int, *,
                 pending_only: bool = False) -> list[int]:
        """The next page of object ids of a connector space, in id order (placeholders left
        out): the unit of work of a synchronization run."""
        pending = "AND pending_import IS NOT NULL" if pending_only else ""
        return [r[0] for r in self.db.query(
            f"SELECT id FROM cs_objects WHERE connector_id = ? AND placeholder = 0 AND id > ? "
            f"{pending} ORDER BY id LIMIT ?", (connector_id, after, limit))]

    def count(self, connector_id: int, *, pending_only: bool = False) -> int:
        pending = "AND pending_import IS NOT NULL" if pending_only else ""
        return self.db.scalar(
            f"SELECT count(*) FROM cs_objects WHERE connector_id = ? AND placeholder = 0 "
            f"{pending}", (connector_id,))

    def search(self, connector_id: int, *, dn: str | None = None, anchor: str | None = None,
               object_type: str | None = None, pending_import: bool = False,
               pending_export: bool = False, placeholders: bool = False,
               limit: int = 0) -> list[CSObject]:
        where = ["c.connector_id = ?"]
        params: list[Any] = [connector_id]
        if not placeholders:
            where.append("c.placeholder = 0")
        if dn:
            where.append("c.dn_norm = ?")
            params.append(normalize_dn(dn))
        if anchor:
            where.append("c.anchor = ?")
            params.append(anchor)
        if object_type:
            where.append("c.object_type = ?")
            params.append(object_type)
        if pending_import:
            where.append("c.pending_import IS NOT NULL")
        if pending_export:
            where.append("EXISTS (SELECT 1 FROM pending_exports p WHERE p.cs_id = c.id)")
        cols = ", ".join(f"c.{c.strip()}" for c in _COLUMNS.split(","))
        sql = f"SELECT {cols} FROM cs_objects c WHERE {' AND '.join(where)} ORDER BY c.id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_cs(r) for r in self.db.query(sql, params)]

    # --- writing ------------------------------------------------------------------------

    def insert(self, connector_id: int, *, anchor: str | None, dn: str,
               object_type: str | None, attributes: values.Attributes | None = None,
               pending_import: str | None = None, placeholder: bool = False) -> int:
        cur = self.db.execute(
            "INSERT INTO cs_objects (connector_id, anchor, dn, dn_norm, object_type, placeholder, "
            "attributes, pending_import, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (connector_id, anchor, dn, normalize_dn(dn), object_type, int(placeholder),
             values.dumps_attributes(attributes or {}), pending_import, utcnow()))
        return cur.fetchone()[0]

    def save(self, cs: CSObject) -> None:
        self.db.execute(
            "UPDATE cs_objects SET anchor = ?, dn = ?, dn_norm = ?, object_type = ?, "
            "placeholder = ?, attributes = ?, pending_import = ?, mv_id = ?, link_type = ?, "
            "link_rule_id = ?, link_direction = ? WHERE id = ?",
            (cs.anchor, cs.dn, normalize_dn(cs.dn), cs.object_type, int(cs.placeholder),
             values.dumps_attributes(cs.attributes), cs.pending_import, cs.mv_id, cs.link_type,
             cs.link_rule_id, cs.link_direction, cs.id))

    def set_link(self, cs_id: int, mv_id: int | None, link_type: str | None,
                 rule_id: int | None, direction: str | None) -> None:
        self.db.execute(
            "UPDATE cs_objects SET mv_id = ?, link_type = ?, link_rule_id = ?, link_direction = ? "
            "WHERE id = ?", (mv_id, link_type, rule_id, direction, cs_id))

    def set_links(self, rows: Sequence[tuple[int | None, str | None, int | None, str | None,
                                         int]]) -> None:
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

    def set_anchor(self, cs_id: int, anchor: str) -> None:
        self.db.execute("UPDATE cs_objects SET anchor = ? WHERE id = ?", (anchor, cs_id))

    def held_refs(self, cs_id: int, targets: Sequence[int]) -> dict[str, set[int]]:
        """Which of ``targets`` an object's reference attributes hold (attr -> targets)."""
        held: dict[str, set[int]] = {}
        for attr, target in self.db.query_in(
                "SELECT attr, target_id FROM cs_refs WHERE cs_id = ? AND target_id IN ({ids})",
                list(targets), (cs_id,)):
            held.setdefault(attr, set()).add(target)
        return held

    def set_anchors(self, rows: Sequence[tuple[str, int]]) -> None:
        """(anchor, cs id) for many objects: the anchors an export batch's adds returned."""
        self.db.update_rows("cs_objects", ("anchor",), ("TEXT",), rows)

    def set_dns(self, rows: Sequence[tuple[str, int]]) -> None:
        """(dn, cs id) for many objects: the DNs an export batch's directory reported."""
        self.db.update_rows("cs_objects", ("dn", "dn_norm"), ("TEXT", "TEXT"),
                            [(dn, normalize_dn(dn), cs_id) for dn, cs_id in rows])

    def set_dn(self, cs_id: int, dn: str) -> None:
        self.db.execute("UPDATE cs_objects SET dn = ?, dn_norm = ? WHERE id = ?",
                        (dn, normalize_dn(dn), cs_id))

    def clear_pending_import(self, ids: Sequence[int]) -> None:
        self.db.execute_in("UPDATE cs_objects SET pending_import = NULL WHERE id IN ({ids})",
                           list(ids))

    def mark_pending_update(self, ids: Iterable[int]) -> None:
        """Queue objects for the next delta synchronization without losing a stronger flag."""
        self.db.execute_in(
            "UPDATE cs_objects SET pending_import = 'update' "
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
            "p.cs_id = cs_objects.id AND p.kind = 'delete' AND p.state = 'exported')) "
            "AND (seen_run IS NULL OR seen_run <> ?) "
            "AND (pending_import IS NULL OR pending_import <> 'delete')",
            (connector_id, run_id))]

    def mark_deleted(self, ids: Sequence[int]) -> None:
        self.db.execute_in("UPDATE cs_objects SET pending_import = 'delete' WHERE id IN ({ids})",
                           list(ids))

    def remove(self, cs_id: int) -> None:
        """Drop an object for good; if others still reference it, keep it as a placeholder so
        the references keep their DN."""
        self.db.execute("DELETE FROM cs_refs WHERE cs_id = ?", (cs_id,))
        referenced = self.db.scalar("SELECT 1 FROM cs_refs WHERE target_id = ? LIMIT 1", (cs_id,))
        self.db.execute("DELETE FROM pending_exports WHERE cs_id = ?", (cs_id,))
        self.db.execute("DELETE FROM pending_export_refs WHERE cs_id = ?", (cs_id,))
        self.db.execute("DELETE FROM object_errors WHERE cs_id = ?", (cs_id,))
        # "space = its connector": only an equality uses the (space, obj_id) index; "space <> 0"
        # walked every connector's join values (10 ms per delete at 100,000 users).
        self.db.execute("DELETE FROM join_index WHERE space = (SELECT connector_id FROM "
                        "cs_objects WHERE id = ?) AND obj_id = ?", (cs_id, cs_id))
        if referenced:
            self.db.execute(
                "UPDATE cs_objects SET anchor = NULL, object_type = NULL, placeholder = 1, "
                "attributes = '{}', pending_import = NULL, mv_id = NULL, link_type = NULL, "
                "link_rule_id = NULL, link_direction = NULL WHERE id = ?", (cs_id,))
            self._one_placeholder_per_dn([cs_id])
        else:
            self.db.execute("DELETE FROM cs_objects WHERE id = ?", (cs_id,))

    def placeholder_at(self, connector_id: int, dn: str) -> int | None:
        return self.db.scalar(
            "SELECT id FROM cs_objects WHERE connector_id = ? AND dn_norm = ? AND placeholder = 1",
            (connector_id, normalize_dn(dn)))

    def merge_placeholder(self, placeholder_id: int, real_id: int) -> None:
        """A real object arrived at a placeholder's DN: references move over to it."""
        self.db.execute(
            "INSERT INTO cs_refs (cs_id, attr, target_id) "
            "SELECT cs_id, attr, ? FROM cs_refs WHERE target_id = ? ON CONFLICT DO NOTHING",
            (real_id, placeholder_id))
        self.db.execute("DELETE FROM cs_refs WHERE target_id = ?", (placeholder_id,))
        self.db.execute("DELETE FROM cs_objects WHERE id = ?", (placeholder_id,))

    # --- staging: set-based writes of one import batch ------------------------------------
    # An import batch is staged with a fixed number of statements whatever its size (each a
    # round trip on PostgreSQL): load the batch's objects, compute in Python, write in bulk.

    def by_dns_all(self, connector_id: int, dn_norms: Sequence[str]
                   ) -> dict[str, list[CSObject]]:
        """Every object at each normalised DN (a placeholder and a renamed-away object can
        share one), in id order."""
        out: dict[str, list[CSObject]] = defaultdict(list)
        rows = self.db.query_in(
            f"SELECT {_COLUMNS}, dn_norm FROM cs_objects "
            f"WHERE connector_id = ? AND dn_norm IN ({{ids}})", list(dn_norms), (connector_id,))
        for r in sorted(rows, key=lambda r: r[0]):
            out[r[-1]].append(_cs(r[:-1]))
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
            "WHEN pending_import = 'delete' THEN 2 ELSE 0 END FROM cs_objects "
            "WHERE connector_id = ? AND dn_norm IN ({ids})", list(dn_norms), (connector_id,))
        for dn_norm, cs_id, rank in sorted(rows, key=lambda r: r[1]):
            out[dn_norm].append((cs_id, int(rank)))
        return out

    def insert_many(self, objects: Sequence[CSObject], seen_run: int | None = None
                    ) -> list[int]:
        """Insert new objects (their ``id`` is ignored, their links are left empty): an
        import's new objects and placeholders, an outbound batch's provisioned objects.
        Returns their ids in order: reserved first (a multi-row insert's RETURNING order is
        not defined), so two objects of one call may share a DN. Call inside the write
        transaction."""
        if not objects:
            return []
        now = utcnow()
        ids = self.db.reserve_ids("cs_objects", len(objects))
        rows = [(i, o.connector_id, o.anchor, o.dn, normalize_dn(o.dn), o.object_type,
                 int(o.placeholder), _dumps(o.attributes), o.pending_import, seen_run, now)
                for i, o in zip(ids, objects, strict=True)]
        self.db.insert_rows("cs_objects", _INSERT_COLUMNS, _INSERT_TYPES, rows)
        return ids

    def insert_placeholders(self, connector_id: int, dns: dict[str, str]) -> dict[str, int]:
        """normalised DN -> id of a new placeholder for each of ``dns`` (normalised -> as
        written): reference targets not imported yet."""
        objs = [CSObject(0, connector_id, None, dn, None, True, {}, None, None, None, None,
                         None) for dn in dns.values()]
        return dict(zip(dns, self.insert_many(objs), strict=True))

    def update_many(self, objects: Sequence[CSObject], seen_run: int | None = None, *,
                    with_attributes: set[int] | None = None) -> None:
        """Write the staged state of existing objects (links are the synchronization's and
        are left as they are); ``seen_run`` too when a full import saw them. Given
        ``with_attributes``, only those objects' hologram documents are written again (most
        updates of a confirming import only set the anchor)."""
        rewrite = [o for o in objects if with_attributes is None or o.id in with_attributes]
        keep = [o for o in objects if with_attributes is not None and o.id not in with_attributes]
        seen = ("seen_run",) if seen_run is not None else ()
        if rewrite:
            self.db.update_rows(
                "cs_objects", (*_UPDATE_COLUMNS, "attributes", *seen),
                (*_UPDATE_TYPES, "TEXT", *("INTEGER",) * len(seen)),
                [(o.anchor, o.dn, normalize_dn(o.dn), o.object_type, int(o.placeholder),
                  o.pending_import, _dumps(o.attributes), *(seen_run,) * len(seen), o.id)
                 for o in rewrite])
        if keep:
            self.db.update_rows(
                "cs_objects", (*_UPDATE_COLUMNS, *seen),
                (*_UPDATE_TYPES, *("INTEGER",) * len(seen)),
                [(o.anchor, o.dn, normalize_dn(o.dn), o.object_type, int(o.placeholder),
                  o.pending_import, *(seen_run,) * len(seen), o.id) for o in keep])

    def touch_seen(self, ids: Sequence[int], run_id: int) -> None:
        """``set_seen`` in one statement per 500 ids (10,000 on PostgreSQL)."""
        self.db.execute_in("UPDATE cs_objects SET seen_run = ? WHERE id IN ({ids})",
                           list(ids), (run_id,))

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

    def replace_join_entries(self, connector_id: int, cleared: Sequence[int],
                             rows: Sequence[tuple[str, str, int]]) -> None:
        """The join index rows of a batch: drop those of ``cleared`` objects, then add
        ``(attr key, value key, cs id)`` rows."""
        if cleared:
            self.db.execute_in("DELETE FROM join_index WHERE space = ? AND obj_id IN ({ids})",
                               list(cleared), (connector_id,))
        self.db.insert_rows("join_index", ("space", "attr", "value", "obj_id"),
                            ("INTEGER", "TEXT", "TEXT", "INTEGER"),
                            [(connector_id, a, v, i) for a, v, i in rows],
                            "ON CONFLICT DO NOTHING")

    def exported_refs_not_shown(self, cs_ids: Sequence[int]) -> set[int]:
        """Objects among ``cs_ids`` whose exported reference changes (``pending_export_refs``)
        their references do not show: a value added that is missing, or a value removed
        that is still there. Set-based: no value list is loaded."""
        return {r[0] for r in self.db.query_in(
            "SELECT DISTINCT p.cs_id FROM pending_export_refs p WHERE p.cs_id IN ({ids}) "
            "AND (p.op = 'add') <> EXISTS (SELECT 1 FROM cs_refs r WHERE r.cs_id = p.cs_id "
            "AND r.attr = p.attr AND r.target_id = p.target_id)", list(cs_ids))}

    def placeholders_at_dns(self, connector_id: int, dn_norms: Sequence[str]
                            ) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(list)
        for dn_norm, cs_id in self.db.query_in(
                "SELECT dn_norm, id FROM cs_objects WHERE connector_id = ? AND placeholder = 1 "
                "AND dn_norm IN ({ids})", list(dn_norms), (connector_id,)):
            out[dn_norm].append(cs_id)
        return out

    def merge_placeholders(self, pairs: Sequence[tuple[int, int]]) -> None:
        """``merge_placeholder`` for many ``(placeholder, real object)`` pairs."""
        if not pairs:
            return
        self.db.executemany(
            "INSERT INTO cs_refs (cs_id, attr, target_id) "
            "SELECT cs_id, attr, ? FROM cs_refs WHERE target_id = ? ON CONFLICT DO NOTHING",
            [(real, ph) for ph, real in pairs])
        gone = [ph for ph, _ in pairs]
        self.db.execute_in("DELETE FROM cs_refs WHERE target_id IN ({ids})", gone)
        self.db.execute_in("DELETE FROM cs_objects WHERE id IN ({ids})", gone)

    def remove_many(self, connector_id: int, ids: Sequence[int]) -> None:
        """``remove`` for many objects of one connector space: the referenced ones stay as
        placeholders."""
        if not ids:
            return
        ids = list(ids)
        for table in ("cs_refs", "pending_exports", "pending_export_refs", "object_errors"):
            self.db.execute_in(f"DELETE FROM {table} WHERE cs_id IN ({{ids}})", ids)
        # Asked once their own references are gone: a manager of itself is referenced by
        # nothing that stays.
        referenced = [r[0] for r in self.db.query_in(
            "SELECT DISTINCT target_id FROM cs_refs WHERE target_id IN ({ids})", ids)]
        # "space = ?", not "space <> 0": only an equality uses the (space, obj_id) index; the
        # inequality scans every connector's join values.
        self.db.execute_in("DELETE FROM join_index WHERE space = ? AND obj_id IN ({ids})", ids,
                           (connector_id,))
        if referenced:
            self.db.execute_in(
                # The empty document is a parameter: braces in the text would be taken
                # for the {ids} placeholder.
                "UPDATE cs_objects SET anchor = NULL, object_type = NULL, placeholder = 1, "
                "attributes = ?, pending_import = NULL, mv_id = NULL, link_type = NULL, "
                "link_rule_id = NULL, link_direction = NULL WHERE id IN ({ids})", referenced,
                ("{}",))
        kept = set(referenced)
        self.db.execute_in("DELETE FROM cs_objects WHERE id IN ({ids})",
                           [i for i in ids if i not in kept])
        self._one_placeholder_per_dn(referenced)

    def _one_placeholder_per_dn(self, ids: Sequence[int]) -> None:
        """Objects just kept as placeholders join a placeholder already at their DN: a
        reference naming a DN resolves to one placeholder there, so two would leave the
        references naming the other one for a full import to move (an object deleted while
        a report deleted with it still named it, removed after its name references had
        moved to a placeholder)."""
        if not ids:
            return
        # Every placeholder at those DNs joins the lowest one there, so the merges never
        # chain or cross.
        rows = self.db.query_in(
            "SELECT p.id, p.connector_id, p.dn_norm FROM cs_objects o JOIN cs_objects p "
            "ON p.connector_id = o.connector_id AND p.dn_norm = o.dn_norm "
            "AND p.placeholder = 1 WHERE o.id IN ({ids})", list(ids))
        lowest: dict[tuple[int, str], int] = {}
        for cs_id, connector_id, dn_norm in rows:
            key = (connector_id, dn_norm)
            lowest[key] = min(cs_id, lowest.get(key, cs_id))
        pairs = sorted({(cs_id, lowest[(c, d)]) for cs_id, c, d in rows
                        if cs_id != lowest[(c, d)]})
        self.merge_placeholders(pairs)

    # --- references ---------------------------------------------------------------------

    def resolve_dns(self, connector_id: int, dns: Iterable[str],
                    created: dict[str, int] | None = None) -> dict[str, int]:
        """DN -> connector space id for each reference target, creating placeholders for
        targets not imported yet (recorded in ``created`` when given). Keys are normalised
        DNs."""
        wanted: dict[str, str] = {}
        for dn in dns:
            wanted.setdefault(normalize_dn(dn), dn)
        if not wanted:
            return {}
        found: dict[str, int] = {}
        keys = list(wanted)
        for row in self.db.query_in(
                "SELECT dn_norm, id FROM cs_objects WHERE connector_id = ? AND dn_norm IN ({ids})",
                keys, (connector_id,)):
            found[row[0]] = row[1]
        for key in keys:
            if key not in found:
                found[key] = self.insert(connector_id, anchor=None, dn=wanted[key],
                                         object_type=None, placeholder=True)
                if created is not None:
                    created[key] = found[key]
        return found

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

    def referencing(self, target_ids: Sequence[int]) -> set[int]:
        """Objects whose reference attributes point at any of ``target_ids``."""
        return {r[0] for r in self.db.query_in(
            "SELECT DISTINCT cs_id FROM cs_refs WHERE target_id IN ({ids})", list(target_ids))}

    def is_member_of(self, cs_id: int, connector_id: int, group_dn: str) -> bool:
        return bool(self.db.scalar(
            "SELECT 1 FROM cs_refs r JOIN cs_objects g ON g.id = r.cs_id "
            "WHERE r.target_id = ? AND r.attr = 'member' AND g.connector_id = ? "
            "AND g.dn_norm = ? LIMIT 1", (cs_id, connector_id, normalize_dn(group_dn))))

    def dns_and_anchors(self, ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
        return {r[0]: (r[1], r[2]) for r in self.db.query_in(
            "SELECT id, dn, anchor FROM cs_objects WHERE id IN ({ids})", list(ids))}

    def mv_ids_of(self, ids: Sequence[int]) -> dict[int, int]:
        """CS id -> linked MV id, for the linked ones."""
        return {r[0]: r[1] for r in self.db.query_in(
            "SELECT id, mv_id FROM cs_objects WHERE id IN ({ids}) AND mv_id IS NOT NULL",
            list(ids))}

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

    def in_connector_for_mv(self, connector_id: int, mv_ids: Sequence[int]) -> dict[int, int]:
        """MV id -> the CS id linked to it in one connector."""
        return {r[0]: r[1] for r in self.db.query_in(
            "SELECT mv_id, id FROM cs_objects WHERE connector_id = ? AND mv_id IN ({ids})",
            list(mv_ids), (connector_id,))}
