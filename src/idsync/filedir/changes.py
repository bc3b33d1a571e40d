"""Applying change records to a directory's entries, the way a directory server would: adds,
deletes, modifies and renames checked as a server checks them (the entry exists, the new DN is
free, the anchor cannot change), each stamped with the entry's anchor and objectClasses for
the changelog. One applier serves one apply call: it caches the normalized form of reference
values for that call only."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from idsync.error_codes import ErrorCode
from idsync.filedir.dn import normalize_dn, rdn_of, rdn_values, split_dn
from idsync.filedir.entries import (
    ANCHOR_CONTROL_OID,
    OBJECT_CLASS_CONTROL_OID,
    Entry,
    Outcome,
    Refused,
    Run,
    Unit,
    anchor_string,
    copy_attributes,
    get_first,
    keys_of,
    new_dn_of,
)
from idsync.filedir.ldif import (
    AddRecord,
    ChangeRecord,
    ContentRecord,
    Control,
    DeleteRecord,
    LdifError,
    ModDnRecord,
    ModifyRecord,
    RawRecord,
    Value,
    find_key,
    parse_raw,
)
from idsync.filedir.values import KeyCounts, add_values, identity, remove_values


class ChangeApplier:
    """Applies units of change records to the entries of one run (see entries.Run)."""

    def __init__(self, path: str, anchor_attribute: str, binary_attributes: frozenset[str],
                 reference_attributes: frozenset[str]) -> None:
        self.path = path  # named in messages only
        self.anchor_attribute = anchor_attribute
        self.binary_attributes = binary_attributes
        self._refs = frozenset(name.lower() for name in reference_attributes)
        # One apply call: many changes to one 250,000-member group.
        self._dn_keys: dict[str, str] = {}
        self._key_counts = KeyCounts()

    def _attributes_of(self, entry: Entry) -> dict[str, list[Value]]:
        if entry.attributes is not None:
            return entry.attributes
        assert entry.data is not None
        data = entry.data.rstrip(b"\n") + b"\n"  # without the blank separator line
        raw = RawRecord(data, 1, 0, len(data))
        try:
            record = parse_raw(raw, binary_attributes=self.binary_attributes)
        except LdifError as exc:  # this change fails alone (an export error), not the export
            raise Refused(ErrorCode.LDIF_RECORD_UNREADABLE, f"{self.path}: the entry {entry.dn} "
                           f"cannot be read ({exc.message}); fix it in the file") from None
        if not isinstance(record, ContentRecord):
            raise LdifError(f"{self.path} holds a change record for {entry.dn}", record.line)
        return record.attributes

    def apply_unit(self, unit: list[ChangeRecord], run: Run) -> Outcome:
        # A unit works on copies and commits at the end, so a unit that fails half way
        # leaves nothing behind.
        run.remaining.subtract(keys_of(unit))
        work = Unit(run)
        entry: Entry | None = None
        try:
            for number, record in enumerate(unit, 1):
                entry = self._apply_record(record, work, number == len(unit))
        except Refused as refused:
            return Outcome(False, error_code=refused.code, error_detail=refused.detail)
        anchor = None
        if entry is not None and entry.attributes is not None:
            anchor = self.anchor_of(entry.attributes)
        outcome = Outcome(True, anchor=anchor, dn=entry.dn if entry is not None else None)
        work.commit()
        return outcome

    def _apply_record(self, record: ChangeRecord, work: Unit, last: bool) -> Entry | None:
        rdns = split_dn(record.dn)
        if not rdns or not all("=" in rdn for rdn in rdns):
            raise Refused(ErrorCode.INVALID_DN_SYNTAX, f"invalid DN {record.dn!r}")
        key = normalize_dn(record.dn)
        existing = work.get(key)
        if isinstance(record, AddRecord):
            if existing is not None:
                raise Refused(ErrorCode.ENTRY_ALREADY_EXISTS, f"{record.dn} already exists")
            entry = self._new_entry(record, work.run.next_ident())
            work.put(key, entry)
            work.stamped.append(AddRecord(entry.dn, entry.attributes or {},
                                          self._stamp(record.controls, entry)))
            return entry
        if existing is None:
            raise Refused(ErrorCode.NO_SUCH_OBJECT, f"{record.dn} does not exist")
        # A shallow copy is enough: value lists are replaced, not changed in place (but
        # see _modify).
        entry = Entry(existing.dn, dict(self._attributes_of(existing)), existing.origin,
                       existing.ident)
        controls = self._stamp(record.controls, entry)
        if isinstance(record, DeleteRecord):
            work.delete(key, entry)
            work.stamped.append(DeleteRecord(existing.dn, controls))
            return None
        if isinstance(record, ModifyRecord):
            # In place only when no earlier record of this unit made the entry: an add's
            # logged record shares its value lists until the unit commits.
            self._modify(entry, record, in_place=last and key not in work.touched)
            work.put(key, entry)
            work.stamped.append(ModifyRecord(existing.dn, record.modifications, controls))
            return entry
        new_dn = new_dn_of(record)
        new_key = normalize_dn(new_dn)
        if new_key != key and work.get(new_key) is not None:
            raise Refused(ErrorCode.ENTRY_ALREADY_EXISTS, f"{new_dn} already exists")
        self._rename(entry, record, new_dn)
        work.move(key, new_key, entry)
        work.stamped.append(ModDnRecord(existing.dn, record.newrdn, record.deleteoldrdn,
                                        record.newsuperior, controls))
        return entry

    def _new_entry(self, record: AddRecord, ident: int) -> Entry:
        attributes = copy_attributes(record.attributes)
        if not get_first(attributes, self.anchor_attribute):
            # The directory assigns the anchor, as a server assigns entryUUID.
            attributes[self.anchor_attribute] = [str(uuid.uuid4())]
        for name, value in rdn_values(rdn_of(record.dn)):
            add_values(attributes, name, [value], self._same(name))
        return Entry(record.dn, attributes, None, ident)

    def _modify(self, entry: Entry, record: ModifyRecord, in_place: bool = False) -> None:
        """Apply a modify record. Checked whole first: past the check it cannot fail, so
        when it is the last record of its unit (nothing after it can undo the unit), the
        values of reference attributes are added and removed in place, without copying a
        250,000-member list per change; the entry it came from is replaced at commit."""
        for mod in record.modifications:
            if mod.attribute.lower() == self.anchor_attribute.lower():
                raise Refused(ErrorCode.CONSTRAINT_VIOLATION,
                              f"{self.anchor_attribute} cannot be modified")
        cache = self._key_counts if in_place else None
        attributes = entry.working_attributes()
        for mod in record.modifications:
            same = self._same(mod.attribute)
            if mod.op == "replace" or (mod.op == "delete" and not mod.values):
                key = find_key(attributes, mod.attribute)
                if key is not None:
                    del attributes[key]
                if mod.op == "replace" and mod.values:
                    add_values(attributes, mod.attribute, mod.values, same)
            elif mod.op == "add":
                add_values(attributes, mod.attribute, mod.values, same, cache)
            else:
                remove_values(attributes, mod.attribute, mod.values, same, cache)

    def _rename(self, entry: Entry, record: ModDnRecord, new_dn: str) -> None:
        attributes = entry.working_attributes()
        if record.deleteoldrdn:
            for name, value in rdn_values(rdn_of(entry.dn)):
                remove_values(attributes, name, [value], self._same(name))
        for name, value in rdn_values(record.newrdn):
            add_values(attributes, name, [value], self._same(name))
        entry.dn = new_dn

    def _same(self, attribute: str) -> Callable[[Value], object]:
        """The equality key of values: DNs compare normalized, everything else exactly."""
        if attribute.split(";")[0].lower() not in self._refs:
            return identity
        cache = self._dn_keys  # one apply call: many changes to one 250,000-member group

        def key(value: Value) -> object:
            if not isinstance(value, str):
                return value
            normalized = cache.get(value)
            if normalized is None:
                normalized = cache[value] = normalize_dn(value)
            return normalized

        return key

    def _stamp(self, controls: list[Control], entry: Entry) -> list[Control]:
        """The record's controls plus ours: the entry's anchor and objectClasses."""
        kept = [c for c in controls if c.oid not in (ANCHOR_CONTROL_OID,
                                                     OBJECT_CLASS_CONTROL_OID)]
        ours = []
        attributes = entry.working_attributes()
        anchor = self.anchor_of(attributes)
        if anchor is not None:
            ours.append(Control(ANCHOR_CONTROL_OID, False, anchor))
        key = find_key(attributes, "objectClass")
        if key is not None:
            classes = " ".join(str(v) for v in attributes[key])
            ours.append(Control(OBJECT_CLASS_CONTROL_OID, False, classes))
        return ours + kept

    def anchor_of(self, attributes: dict[str, list[Value]]) -> str | None:
        value = get_first(attributes, self.anchor_attribute)
        return anchor_string(value)
