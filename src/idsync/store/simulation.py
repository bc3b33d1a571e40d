"""What a simulated run changed: the pending exports and links before it, kept in temporary
tables, and the differences after it, counted in the database (idsync.administration.simulation).

The tables are created inside the discarded transaction the simulation runs in, so the
rollback that undoes the simulation drops them too: nothing here is ever committed. Only keys
and a few columns are copied (no attribute documents), so a workspace with 100,000 pending
adds costs a few megabytes of temporary storage, not the documents again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from idsync.model import ExportKind
from idsync.store.database import BaseDatabase

#: (connector id, object type, change, count)
Count = tuple[int, str | None, str, int]


@dataclass(slots=True)
class SampleRow:
    cs_id: int
    dn: str
    new_dn: str | None = None
    #: attribute names the export sets or clears
    attributes: list[str] = field(default_factory=list)
    #: reference attribute -> (values added, values removed)
    references: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: the object's attributes as last imported (the hologram), else as the export sets them
    shown: dict[str, Any] = field(default_factory=dict)


# A staged export is new, or different from the one pending before: another kind, or rewritten
# (the engine rewrites a pending export only when its content differs: outbound._stage).
_STAGED = (
    "FROM pending_exports p JOIN cs_objects o ON o.id = p.cs_id "
    "LEFT JOIN sim_exports_before b ON b.cs_id = p.cs_id "
    "WHERE (b.cs_id IS NULL OR b.kind <> p.kind OR b.staged_at <> p.staged_at)")
_CANCELLED = (
    "FROM sim_exports_before b "
    "WHERE NOT EXISTS (SELECT 1 FROM pending_exports p WHERE p.cs_id = b.cs_id)")
# A disconnect: linked before, not linked now, and no delete staged for it (that is counted as
# a delete). An object gone from the connector space altogether (its source object left the
# scope) counts too, unless it was an add never exported (counted as a cancelled add).
_DISCONNECTED = (
    "FROM sim_links_before l LEFT JOIN cs_objects o ON o.id = l.id "
    "WHERE ((o.id IS NULL AND NOT EXISTS (SELECT 1 FROM sim_exports_before b "
    f"WHERE b.cs_id = l.id AND b.kind = '{ExportKind.ADD}')) OR o.mv_id IS NULL) "
    "AND NOT EXISTS (SELECT 1 FROM pending_exports p WHERE p.cs_id = l.id "
    f"AND p.kind = '{ExportKind.DELETE}')")


class SimulationDiff:
    """Snapshot before a simulated run, differences after it; use inside one discarded
    transaction (``BaseDatabase.discarded``)."""

    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def snapshot(self) -> None:
        db = self.db
        db.execute(
            "CREATE TEMP TABLE sim_exports_before AS SELECT p.cs_id, p.connector_id, p.kind, "
            "p.staged_at, o.object_type, o.dn FROM pending_exports p "
            "LEFT JOIN cs_objects o ON o.id = p.cs_id")
        db.execute("CREATE INDEX sim_exports_before_id ON sim_exports_before (cs_id)")
        db.execute(
            "CREATE TEMP TABLE sim_links_before AS SELECT id, connector_id, object_type, dn "
            "FROM cs_objects WHERE mv_id IS NOT NULL")
        db.execute("CREATE INDEX sim_links_before_id ON sim_links_before (id)")

    def metaverse_size(self) -> int:
        return int(self.db.scalar("SELECT count(*) FROM mv_objects") or 0)

    def pending_counts(self) -> list[Count]:
        """Every pending export now, by connector, object type and kind."""
        return [(r[0], r[1], r[2], r[3]) for r in self.db.query(
            "SELECT p.connector_id, o.object_type, p.kind, count(*) FROM pending_exports p "
            "LEFT JOIN cs_objects o ON o.id = p.cs_id "
            "GROUP BY p.connector_id, o.object_type, p.kind")]

    def counts(self) -> Iterator[Count]:
        """The differences: staged (by export kind), ``cancel-<kind>`` and ``disconnect``."""
        for r in self.db.query(
                f"SELECT p.connector_id, o.object_type, p.kind, count(*) {_STAGED} "
                "GROUP BY p.connector_id, o.object_type, p.kind"):
            yield r[0], r[1], r[2], r[3]
        for r in self.db.query(
                f"SELECT b.connector_id, b.object_type, b.kind, count(*) {_CANCELLED} "
                "GROUP BY b.connector_id, b.object_type, b.kind"):
            yield r[0], r[1], f"cancel-{r[2]}", r[3]
        for r in self.db.query(
                f"SELECT l.connector_id, l.object_type, count(*) {_DISCONNECTED} "
                "GROUP BY l.connector_id, l.object_type"):
            yield r[0], r[1], "disconnect", r[2]

    def samples(self, connector_id: int, object_type: str | None, change: str,
                limit: int) -> list[SampleRow]:
        """A few objects of one group of ``counts``, in id order."""
        if limit <= 0:
            return []
        type_clause, params = _type_clause(object_type)
        if change == "disconnect":
            return [SampleRow(r[0], r[1], shown=_document(r[2])) for r in self.db.query(
                f"SELECT l.id, l.dn, o.attributes {_DISCONNECTED} AND l.connector_id = ? "
                f"AND l.{type_clause} ORDER BY l.id LIMIT ?",
                (connector_id, *params, limit))]
        if change.startswith("cancel-"):
            return [SampleRow(r[0], r[1] or f"#{r[0]}") for r in self.db.query(
                f"SELECT b.cs_id, b.dn {_CANCELLED} AND b.connector_id = ? AND b.kind = ? "
                f"AND b.{type_clause} ORDER BY b.cs_id LIMIT ?",
                (connector_id, change.removeprefix("cancel-"), *params, limit))]
        rows = self.db.query(
            f"SELECT p.cs_id, o.dn, p.new_dn, p.attributes, o.attributes {_STAGED} "
            f"AND p.connector_id = ? AND p.kind = ? AND o.{type_clause} ORDER BY p.cs_id "
            "LIMIT ?", (connector_id, change, *params, limit))
        out = {}
        for cs_id, dn, new_dn, staged, hologram in rows:
            exported = _document(staged)
            out[cs_id] = SampleRow(cs_id, dn, new_dn, sorted(exported),
                                   shown=_document(hologram) or exported)
        if out:
            for cs_id, attr, op, n in self.db.query_in(
                    "SELECT cs_id, attr, op, count(*) FROM pending_export_refs "
                    "WHERE cs_id IN ({ids}) GROUP BY cs_id, attr, op", list(out)):
                added, removed = out[cs_id].references.get(attr, (0, 0))
                out[cs_id].references[attr] = ((added + n, removed) if op == "add"
                                               else (added, removed + n))
        return list(out.values())


def _type_clause(object_type: str | None) -> tuple[str, tuple[Any, ...]]:
    if object_type is None:
        return "object_type IS NULL", ()
    return "object_type = ?", (object_type,)


def _document(document: str | None) -> dict[str, Any]:
    return orjson.loads(document) if document else {}
