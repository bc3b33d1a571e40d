"""What the web UI shows of connectors, connector space objects and metaverse objects: the
same facts as ``idsync connector list``, ``cs search`` and ``mv show``
(``idsync.administration.inspection``), read so that no page loads a whole list: reference
values, a pending export's member changes and search results come one keyset page at a time,
and counts come from the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from idsync.error_codes import Stage
from idsync.errors import ConfigurationError
from idsync.model import CSObject, ExportKind, MVObject, PendingExport, RunStatus
from idsync.store import Store
from idsync.store.object_errors import ObjectErrorRecord
from idsync.store.runs import RunRecord

#: Rows of a page (search results, reference values).
PAGE_SIZE = 50
#: Values of a reference attribute shown on the object's own page; the rest on its value pages.
INLINE_VALUES = 10


#: Bytes of a binary value shown (a photo is kilobytes): the page says how many there are.
BINARY_SHOWN = 32


def shown(value: Any) -> str:
    """A value as a page shows it: binary as hexadecimal (as ``idsync cs search`` prints it),
    cut after ``BINARY_SHOWN`` bytes."""
    if isinstance(value, bytes):
        if len(value) > BINARY_SHOWN:
            return f"0x{value[:BINARY_SHOWN].hex()}... ({len(value)} bytes)"
        return "0x" + value.hex()
    return str(value)


def _shown(values: Any) -> list[str]:
    return [shown(v) for v in values]


class ConnectorState(StrEnum):
    """What a connector is doing or needs, as the Connectors page shows it."""

    RUNNING = "running"
    FULL_IMPORT_REQUIRED = "full import required"
    FULL_SYNC_REQUIRED = "full sync required"
    IDLE = "idle"


class ExportRefOp(StrEnum):
    """A reference value a pending export adds or removes (``pending_export_refs.op``)."""

    ADD = "add"
    REMOVE = "remove"


@dataclass(slots=True)
class ConnectorRow:
    name: str
    type: str
    state: ConnectorState
    last_run: RunRecord | None
    objects: int
    pending_import: int
    pending_export: int
    exports_by_kind: dict[str, int]
    errors: int
    errors_by_stage: dict[str, int]


def connector_rows(store: Store) -> list[ConnectorRow]:
    """Every connector with its counts: each a count query, never a read of its objects."""
    return [_connector_row(store, c.name) for c in store.connectors.list()]


def connector_row(store: Store, name: str) -> ConnectorRow:
    return _connector_row(store, name)


def _connector_row(store: Store, name: str) -> ConnectorRow:
    record = store.connectors.get(name)
    runs = store.runs.list(connector_id=record.id, limit=1)
    last = runs[0] if runs else None
    if last is not None and last.status == RunStatus.IN_PROGRESS:
        state = ConnectorState.RUNNING
    elif record.full_import_required:
        state = ConnectorState.FULL_IMPORT_REQUIRED
    elif record.full_sync_required:
        state = ConnectorState.FULL_SYNC_REQUIRED
    else:
        state = ConnectorState.IDLE
    return ConnectorRow(
        name=record.name, type=record.type, state=state, last_run=last,
        objects=store.cs_search.count(record.id),
        pending_import=store.cs_search.count(record.id, pending_only=True),
        pending_export=store.exports.count(record.id),
        exports_by_kind=store.exports.counts_by_kind(record.id),
        errors=store.errors.count(record.id),
        errors_by_stage={s.value: store.errors.count(record.id, s) for s in Stage})


def parse_after(value: str | None) -> int | None:
    """The ``after`` of a keyset page: the last id of the page before, or None."""
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ConfigurationError(f"after={value!r} is not an object id: it must be a number")
    return int(value)


@dataclass(slots=True)
class RefAttribute:
    """A reference attribute of an object: how many values, the first few."""

    name: str
    count: int
    first: list[tuple[int, str]]


@dataclass(slots=True)
class AttributeChange:
    name: str
    old: list[Any]
    new: list[Any]


@dataclass(slots=True)
class RefChange:
    """Reference values a pending export adds and removes on one attribute."""

    name: str
    adds: int
    removes: int
    first_adds: list[tuple[int, str]]
    first_removes: list[tuple[int, str]]


@dataclass(slots=True)
class ExportView:
    export: PendingExport
    changes: list[AttributeChange]
    ref_changes: list[RefChange]
    #: why deprovisioning staged a delete (None: not a delete, or no cause kept)
    cause: dict[str, str] | None


@dataclass(slots=True)
class LinkedObject:
    """A connector space object joined to a metaverse object."""

    connector: str
    cs_id: int
    dn: str
    object_type: str | None
    link_type: str | None
    direction: str | None
    rule: str | None


@dataclass(slots=True)
class CSObjectView:
    object: CSObject
    connector: str
    attributes: list[tuple[str, list[Any]]]
    references: list[RefAttribute]
    export: ExportView | None
    errors: list[ObjectErrorRecord]
    metaverse: MVObject | None
    link_rule: str | None
    #: the objects of every connector linked to the same metaverse object (this one too)
    linked: list[LinkedObject] = field(default_factory=list)


def _rule_names(store: Store) -> dict[int | None, str]:
    return {r.id: r.name for r in store.rules.list()}


def _connector_names(store: Store) -> dict[int | None, str]:
    return {c.id: c.name for c in store.connectors.list()}


def linked_objects(store: Store, mv_id: int) -> list[LinkedObject]:
    rules = _rule_names(store)
    connectors = _connector_names(store)
    return [LinkedObject(connector=connectors.get(o.connector_id, str(o.connector_id)),
                         cs_id=o.id, dn=o.dn, object_type=o.object_type,
                         link_type=o.link_type, direction=o.link_direction,
                         rule=rules.get(o.link_rule_id) if o.link_rule_id else None)
            for o in store.cs_links.linked_to([mv_id])]


def cs_object_view(store: Store, cs_id: int) -> CSObjectView:
    cs = store.cs_objects.get(cs_id)
    if cs is None:
        raise ConfigurationError(f"no connector space object {cs_id}")
    references = [RefAttribute(attr, n, store.cs_refs.ref_page(cs_id, attr, 0, INLINE_VALUES))
                  for attr, n in store.cs_refs.ref_counts(cs_id).items()]
    mv = store.mv.get(cs.mv_id) if cs.mv_id is not None else None
    rules = _rule_names(store)
    return CSObjectView(
        object=cs, connector=store.connectors.by_id(cs.connector_id).name,
        attributes=[(k, _shown(v)) for k, v in sorted(cs.attributes.items())],
        references=references,
        export=_export_view(store, cs), errors=store.cs_search.errors_of(cs_id), metaverse=mv,
        link_rule=rules.get(cs.link_rule_id) if cs.link_rule_id else None,
        linked=linked_objects(store, mv.id) if mv is not None else [])


def _export_view(store: Store, cs: CSObject) -> ExportView | None:
    pe = store.exports.get_many([cs.id], with_refs=False).get(cs.id)
    if pe is None:
        return None
    changes = [AttributeChange(attr, _shown(cs.attributes.get(attr, [])), _shown(new))
               for attr, new in sorted(pe.attributes.items())]
    ref_changes = [
        RefChange(attr, ops.get(ExportRefOp.ADD, 0), ops.get(ExportRefOp.REMOVE, 0),
                  store.cs_refs.export_ref_page(cs.id, attr, ExportRefOp.ADD, 0, INLINE_VALUES),
                  store.cs_refs.export_ref_page(cs.id, attr, ExportRefOp.REMOVE, 0, INLINE_VALUES))
        for attr, ops in sorted(store.exports.ref_counts(cs.id).items())]
    cause = None
    if pe.kind == ExportKind.DELETE:
        record = store.deprovisions.get_many([cs.id]).get(cs.id)
        if record is not None:
            cause = {"cause": str(record.cause), "detail": record.detail}
    return ExportView(pe, changes, ref_changes, cause)


@dataclass(slots=True)
class ValuePage:
    """One page of a reference attribute's values (or of a pending export's changes)."""

    rows: list[tuple[int, str]]
    count: int
    #: ``after`` of the next page, or None
    next_after: int | None


def cs_values_page(store: Store, cs_id: int, attr: str, after: int | None,
                   op: ExportRefOp | None = None) -> ValuePage:
    """A page of ``attr``'s values on a connector space object, or with ``op`` of the values
    its pending export adds or removes."""
    if op is None:
        rows = store.cs_refs.ref_page(cs_id, attr, after or 0, PAGE_SIZE)
        count = store.cs_refs.ref_counts(cs_id).get(attr, 0)
    else:
        rows = store.cs_refs.export_ref_page(cs_id, attr, op, after or 0, PAGE_SIZE)
        count = store.exports.ref_counts(cs_id).get(attr, {}).get(op, 0)
    return ValuePage(rows, count, rows[-1][0] if len(rows) == PAGE_SIZE else None)


@dataclass(slots=True)
class MVAttribute:
    name: str
    values: list[Any]
    #: reference attributes: how many values (the first few are ``values``, metaverse ids)
    count: int | None
    connector: str | None
    rule: str | None
    precedence: Any


@dataclass(slots=True)
class MVObjectView:
    object: MVObject
    attributes: list[MVAttribute]
    linked: list[LinkedObject]
    #: display names of the metaverse objects the first reference values point at
    names: dict[int, str]


def display_name(mv: MVObject) -> str:
    for attr in ("displayName", "cn", "name", "uid"):
        vals = mv.attributes.get(attr)
        if vals:
            return str(vals[0])
    return ""


def mv_object_view(store: Store, mv_id: int) -> MVObjectView:
    mv = store.mv.get(mv_id)
    if mv is None:
        raise ConfigurationError(f"no metaverse object {mv_id}")
    rules = _rule_names(store)
    connectors = _connector_names(store)

    def lineage(attr: str) -> tuple[str | None, str | None, Any]:
        # Lineage names a connector and a rule by id, possibly deleted since: the id then.
        info = mv.lineage.get(attr) or {}
        connector, rule = info.get("connector"), info.get("rule")
        connector_name = connectors.get(connector) or (None if connector is None
                                                       else str(connector))
        rule_name = rules.get(rule) or (None if rule is None else str(rule))
        return connector_name, rule_name, info.get("precedence")

    rows = [MVAttribute(attr, _shown(vals), None, *lineage(attr))
            for attr, vals in mv.attributes.items()]
    firsts: list[int] = []
    for attr, n in store.mv.ref_counts(mv_id).items():
        first = store.mv.ref_page(mv_id, attr, 0, INLINE_VALUES)
        firsts += first
        rows.append(MVAttribute(attr, list(first), n, *lineage(attr)))
    rows.sort(key=lambda a: a.name.lower())
    names = {i: display_name(o) for i, o in store.mv.by_ids(firsts).items()} if firsts else {}
    return MVObjectView(mv, rows, linked_objects(store, mv_id), names)


@dataclass(slots=True)
class MVValuePage:
    rows: list[tuple[int, str]]
    count: int
    next_after: int | None


def mv_values_page(store: Store, mv_id: int, attr: str, after: int | None) -> MVValuePage:
    ids = store.mv.ref_page(mv_id, attr, after or 0, PAGE_SIZE)
    objects = store.mv.by_ids(ids) if ids else {}
    rows = [(i, display_name(objects[i]) if i in objects else "") for i in ids]
    return MVValuePage(rows, store.mv.ref_counts(mv_id).get(attr, 0),
                       ids[-1] if len(ids) == PAGE_SIZE else None)
