"""The entries one apply call works on, and what became of them: an entry (parsed, or frozen as
its LDIF bytes), the run of one apply call, the unit of change records that succeed or fail
together, and the outcome of a unit."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from idsync.filedir.dn import normalize_dn, parent_dn
from idsync.filedir.ldif import (
    ChangeRecord,
    ContentRecord,
    ModDnRecord,
    Value,
    find_key,
    format_record,
)

#: idsync's OID arc: a UUID-based OID (arc 2.25, needs no registration).
IDSYNC_OID = "2.25.311421456293457694415917123921690168450"
#: Control in changelog records: the anchor of the changed entry.
ANCHOR_CONTROL_OID = f"{IDSYNC_OID}.1"
#: Control in changelog records: the entry's objectClass values, space-separated, so a delta
#: import knows the object type of a modify, rename or delete without the content file.
OBJECT_CLASS_CONTROL_OID = f"{IDSYNC_OID}.2"


@dataclass(slots=True)
class Outcome:
    """What happened to one unit of change records."""

    ok: bool
    anchor: str | None = None
    dn: str | None = None
    error_code: str | None = None
    error_detail: str | None = None


@dataclass(slots=True)
class Entry:
    dn: str
    #: None while the entry is frozen: held as LDIF bytes in ``data`` (a parsed entry costs
    #: several times its LDIF size, and an export may hold 100,000 of them).
    attributes: dict[str, list[Value]] | None
    origin: str | None  # normalized DN where the entry sits in the file; None: new entry
    ident: int  # stays the same through renames and copies
    data: bytes | None = None

    def working_attributes(self) -> dict[str, list[Value]]:
        """The attributes of an entry a unit is changing: a unit works on parsed copies, so
        they are never frozen there."""
        assert self.attributes is not None
        return self.attributes

    def freeze(self) -> None:
        if self.attributes is not None:
            self.data = format_record(ContentRecord(self.dn, self.attributes))
            self.attributes = None


class Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail



def entry_bytes(entry: Entry) -> bytes:
    if entry.attributes is None:
        assert entry.data is not None
        return entry.data
    return format_record(ContentRecord(entry.dn, entry.attributes))


class Run:
    """The state of one apply call: the loaded entries and what became of them."""

    def __init__(self, state: dict[str, Entry], remaining: Counter[str]) -> None:
        self.state = state  # normalized DN -> current entry, for the DNs the changes name
        # normalized DN -> the records still to come that name it
        self.remaining = remaining
        self.by_origin: dict[str, Entry | None] = {}  # file position -> final entry or None
        self.new_entries: dict[int, Entry | None] = {}  # ident -> final entry or None
        self.applied: list[bytes] = []  # formatted change records for the log
        self._ident = len(state)

    def next_ident(self) -> int:
        self._ident += 1
        return self._ident


class Unit:
    """Changes of one unit, visible to its own records, committed to the run at the end."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.touched: dict[str, Entry | None] = {}
        self.final: dict[int, Entry | None] = {}  # ident -> entry (None: deleted)
        self.origins: dict[int, str | None] = {}
        self.stamped: list[ChangeRecord] = []

    def get(self, key: str) -> Entry | None:
        if key in self.touched:
            return self.touched[key]
        return self.run.state.get(key)

    def put(self, key: str, entry: Entry) -> None:
        self.touched[key] = entry
        self._track(entry, entry)

    def delete(self, key: str, entry: Entry) -> None:
        self.touched[key] = None
        self._track(entry, None)

    def move(self, old_key: str, new_key: str, entry: Entry) -> None:
        self.touched[old_key] = None
        self.touched[new_key] = entry
        self._track(entry, entry)

    def _track(self, entry: Entry, final: Entry | None) -> None:
        self.final[entry.ident] = final
        self.origins[entry.ident] = entry.origin

    def commit(self) -> None:
        run = self.run
        # Format the log records first: they may share value lists with the entries.
        run.applied.extend(format_record(record) for record in self.stamped)
        for key, entry in self.touched.items():
            if entry is not None and run.remaining[key] <= 0:
                entry.freeze()
        for key, entry in self.touched.items():
            if entry is None:
                run.state.pop(key, None)
            else:
                run.state[key] = entry
        for ident, entry in self.final.items():
            origin = self.origins[ident]
            if origin is not None:
                run.by_origin[origin] = entry
            else:
                run.new_entries[ident] = entry


def keys_of(unit: Sequence[ChangeRecord]) -> list[str]:
    keys = []
    for record in unit:
        keys.append(normalize_dn(record.dn))
        if isinstance(record, ModDnRecord):
            keys.append(normalize_dn(new_dn_of(record)))
    return keys


def new_dn_of(record: ModDnRecord) -> str:
    """The DN an entry has after a modrdn record."""
    superior = record.newsuperior if record.newsuperior is not None else parent_dn(record.dn)
    return f"{record.newrdn},{superior}" if superior else record.newrdn


def copy_attributes(attributes: dict[str, list[Value]]) -> dict[str, list[Value]]:
    return {name: list(values) for name, values in attributes.items()}


def get_first(attributes: dict[str, list[Value]], name: str) -> Value | None:
    key = find_key(attributes, name)
    values = attributes.get(key, []) if key is not None else []
    return values[0] if values else None


def anchor_string(value: Value | None) -> str | None:
    """An anchor as text: a 16-byte binary GUID (objectGUID) becomes its GUID string."""
    if value is None:
        return None
    if isinstance(value, bytes):
        if len(value) == 16:
            return str(uuid.UUID(bytes_le=value))
        return value.hex()
    return value
