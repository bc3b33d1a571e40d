"""Export preview: every pending change of a connector, object by object and attribute by
attribute, with the old value (the hologram: what the last import saw) and the new one. The
equivalent of ``csexport`` followed by CSExportAnalyzer."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idsync.model import CSObject, ExportKind, ExportState, PendingExport
from idsync.store import Store
from idsync.store.export_pages import pending_export_page
from idsync.store.exports import REF_ADD, REF_REMOVE

PAGE = 500


@dataclass
class AttributeChange:
    attribute: str
    #: replace (the whole value set), add / remove (reference values), delete (all values)
    operation: str
    old: list[Any]
    new: list[Any]
    #: the number of values when ``old`` / ``new`` hold only the first of them (a page of the
    #: export preview lists the first values of a 250,000-member change, the CSV all of them)
    total: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"attribute": self.attribute, "operation": self.operation,
                               "old": [display_value(v) for v in self.old],
                               "new": [display_value(v) for v in self.new]}
        if self.total is not None:
            out["total"] = self.total
        return out


@dataclass
class ObjectChange:
    cs_id: int
    dn: str
    object_type: str | None
    #: add, update, rename or delete
    operation: str
    state: str
    new_dn: str | None
    changes: list[AttributeChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"cs_id": self.cs_id, "dn": self.dn, "object_type": self.object_type,
                "operation": self.operation, "state": self.state, "new_dn": self.new_dn,
                "changes": [c.to_dict() for c in self.changes]}


def display_value(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


_OPERATION = {"add": "add", "modify": "update", "rename": "rename", "delete": "delete"}


def pending_changes(store: Store, connector: str, *, include_exported: bool = False,
                    after: int = 0, page: int = PAGE, values_shown: int | None = None
                    ) -> Iterator[ObjectChange]:
    """The connector's pending exports in id order, ``page`` objects read at a time (from
    the object after ``after``, a connector space id: the web UI's pages). With
    ``values_shown``, a reference change lists only its first values by id, with its count:
    a page never reads a large group's whole member list."""
    if values_shown is not None:
        yield from _bounded_changes(store, connector, include_exported=include_exported,
                                    after=after, page=page, values_shown=values_shown)
        return
    record = store.connectors.get(connector)
    states = ((ExportState.PENDING, ExportState.EXPORTED) if include_exported
              else (ExportState.PENDING,))
    while True:
        ids = pending_export_page(store.db, record.id, after, states, page)
        if not ids:
            return
        pending = store.exports.get_many(ids)
        objects = store.cs.by_ids(ids)
        targets = {t for pe in pending.values()
                   for bucket in (pe.ref_adds, pe.ref_removes) for ts in bucket.values()
                   for t in ts}
        names = {k: v[0] for k, v in store.cs.dns_and_anchors(sorted(targets)).items()}
        for cs_id in ids:
            pe, cs = pending.get(cs_id), objects.get(cs_id)
            if pe is None or cs is None:
                continue
            yield _object_change(store, pe, cs, names)
        after = ids[-1]


def _bounded_changes(store: Store, connector: str, *, include_exported: bool, after: int,
                     page: int, values_shown: int) -> Iterator[ObjectChange]:
    record = store.connectors.get(connector)
    states = ((ExportState.PENDING, ExportState.EXPORTED) if include_exported
              else (ExportState.PENDING,))
    ids = pending_export_page(store.db, record.id, after, states, page)
    if not ids:
        return
    pending = store.exports.get_many(ids, with_refs=False)
    objects = store.cs.by_ids(ids)
    counts = store.exports.ref_counts_of(ids)
    for cs_id in ids:
        pe, cs = pending.get(cs_id), objects.get(cs_id)
        if pe is None or cs is None:
            continue
        change = _object_change(store, pe, cs, {})
        for (attr, op), total in sorted(counts.get(cs_id, {}).items()):
            first = [dn for _id, dn in store.cs.export_ref_page(cs_id, attr, op, 0,
                                                                values_shown)]
            change.changes.append(AttributeChange(attr, op, first if op == REF_REMOVE else [],
                                                  first if op == REF_ADD else [], total))
        yield change


def describe_export(store: Store, pe: PendingExport, cs: CSObject) -> ObjectChange:
    """One pending export as export preview shows it (its reference targets by DN)."""
    targets = sorted({t for bucket in (pe.ref_adds, pe.ref_removes) for ts in bucket.values()
                      for t in ts})
    names = {k: v[0] for k, v in store.cs.dns_and_anchors(targets).items()} if targets else {}
    return _object_change(store, pe, cs, names)


def _object_change(store: Store, pe: PendingExport, cs: CSObject, names: dict[int, str]
                   ) -> ObjectChange:
    hologram = {} if pe.kind == ExportKind.ADD else cs.attributes
    change = ObjectChange(cs.id, cs.dn, cs.object_type, _OPERATION.get(pe.kind, pe.kind),
                          pe.state, pe.new_dn)
    if pe.kind == ExportKind.DELETE:
        for attr in sorted(hologram):
            change.changes.append(AttributeChange(attr, "delete", list(hologram[attr]), []))
        return change
    for attr in sorted(pe.attributes):
        new = list(pe.attributes[attr])
        old = list(hologram.get(attr, []))
        if old != new:
            op = "add" if pe.kind == ExportKind.ADD else ("replace" if new else "delete")
            change.changes.append(AttributeChange(attr, op, old, new))
    for attr in sorted(set(pe.ref_adds) | set(pe.ref_removes)):
        # Reference changes are value-level: the targets added and removed, by DN.
        adds = sorted(names.get(t, f"#{t}") for t in pe.ref_adds.get(attr, set()))
        removes = sorted(names.get(t, f"#{t}") for t in pe.ref_removes.get(attr, set()))
        if adds:
            change.changes.append(AttributeChange(attr, "add", [], adds))
        if removes:
            change.changes.append(AttributeChange(attr, "remove", removes, []))
    return change


def summary(changes: list[ObjectChange]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in changes:
        out[c.operation] = out.get(c.operation, 0) + 1
    return out


CSV_COLUMNS = ["dn", "object_type", "operation", "new_dn", "attribute", "attribute_operation",
               "old_value", "new_value"]


def csv_rows(obj: ObjectChange) -> Iterator[list[str]]:
    """One object's CSV rows: one per value change (CSExportAnalyzer's shape); an object
    without attribute changes (a rename) gets one row."""
    base = [obj.dn, obj.object_type or "", obj.operation, obj.new_dn or ""]
    if not obj.changes:
        yield [*base, "", "", "", ""]
    for ch in obj.changes:
        olds = [display_value(v) for v in ch.old]
        news = [display_value(v) for v in ch.new]
        for i in range(max(len(olds), len(news), 1)):
            yield [*base, ch.attribute, ch.operation, olds[i] if i < len(olds) else "",
                   news[i] if i < len(news) else ""]


def write_csv(changes: Iterator[ObjectChange], path: str | Path) -> int:
    """The export preview as CSV (``csv_rows`` of each object). Returns the number of
    objects."""
    count = 0
    with open(Path(path).expanduser(), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for obj in changes:
            count += 1
            writer.writerows(csv_rows(obj))
    return count
