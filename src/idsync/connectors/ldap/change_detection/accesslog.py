"""OpenLDAP accesslog: every successful write as an audit entry under ``cn=accesslog``.

Unlike syncrepl, the log says *which values* changed: ``reqMod: member:+ uid=x,...`` is one
member added, so a one-member change to a 100,000-member group is one value, not the group.
The watermark is the ``reqStart`` of the last change read (microsecond resolution, unique per
write). Records:

* modify -> MODIFY with ``value_adds`` / ``value_removes`` / replaced ``attributes``,
* add and modrdn -> FULL (the entry as it is now, read by its entryUUID; a move out of scope
  becomes a DELETE),
* delete -> DELETE with ``reqEntryUUID`` (OpenLDAP 2.5+) and the DN.

The entry is looked up by entryUUID once per batch to learn its object type and whether it is
still in scope; a modify of an entry deleted later in the log is dropped (the delete follows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import ldap
from idsync.connectors.base import ImportBatch, ImportContext, ImportKind, ImportRecord, Watermark
from idsync.connectors.ldap.change_detection.watermarks import EPOCH_REQ_START, AccesslogWatermark
from idsync.connectors.ldap.paging import Entry, paged_search
from idsync.connectors.ldap.reader import DirectoryReader

_LOG_ATTRS = ["reqStart", "reqType", "reqDN", "reqMod", "reqEntryUUID", "reqNewRDN",
              "reqNewSuperior"]
_IGNORED = {"modifiersname", "modifytimestamp", "entrycsn", "creatorsname", "createtimestamp",
            "structuralobjectclass", "entryuuid", "memberof"}


@dataclass(slots=True)
class ValueChanges:
    """The value-level effect of one modify request."""

    replaced: dict[str, list[str]] = field(default_factory=dict)
    adds: dict[str, list[str]] = field(default_factory=dict)
    removes: dict[str, list[str]] = field(default_factory=dict)


def parse_req_mods(mods: list[str], ignore: set[str] = _IGNORED) -> ValueChanges:
    """``reqMod`` values (``attr:+ v``, ``attr:- v``, ``attr:-``, ``attr:= v``, ``attr:=``)
    -> value changes, in order. Operational bookkeeping attributes are skipped."""
    out = ValueChanges()
    for mod in mods:
        name, _, rest = mod.partition(":")
        if not rest or name.lower() in ignore:
            continue
        op, value = rest[0], rest[2:] if len(rest) > 1 else None
        if op == "=":
            values = out.replaced.setdefault(name, [])
            if value is not None:
                values.append(value)
        elif op == "+" and value is not None:
            _move(out.removes, out.adds, name, value)
        elif op == "-" and value is None:
            out.replaced[name] = []  # the whole attribute deleted
            out.adds.pop(name, None)
            out.removes.pop(name, None)
        elif op == "-" and value is not None:
            _move(out.adds, out.removes, name, value)
    return out


def _move(undo: dict[str, list[str]], into: dict[str, list[str]], name: str, value: str) -> None:
    # An add after a remove of the same value (or the reverse) cancels out.
    if value in undo.get(name, []):
        undo[name].remove(value)
        if not undo[name]:
            del undo[name]
        return
    into.setdefault(name, []).append(value)


class AccesslogDetector:
    name = AccesslogWatermark.strategy

    def __init__(self, reader: DirectoryReader) -> None:
        self.reader = reader
        self.base = reader.settings.accesslog_base

    def initial_watermark(self) -> Watermark:
        return AccesslogWatermark(self._last_req_start()).to_dict()

    def _last_req_start(self) -> str:
        # reqStart is the request's start second plus a per-second counter, not real
        # microseconds, so it cannot be compared with a CSN. The newest log entry lies within
        # a few seconds before the log database's contextCSN: look there for the largest.
        entry = self.reader.conn.search_s(self.base, ldap.SCOPE_BASE, "(objectClass=*)",
                                          ["contextCSN"])
        csns = sorted(v.decode() for v in entry[0][1].get("contextCSN", []))
        if not csns:
            return EPOCH_REQ_START
        newest = dt.datetime.strptime(csns[-1][:14], "%Y%m%d%H%M%S")
        floor = (newest - dt.timedelta(seconds=5)).strftime("%Y%m%d%H%M%S") + ".000000Z"
        last = floor
        for page in paged_search(self.reader.conn, self.base, f"(reqStart>={floor})",
                                 ["reqStart"], 1000, scope=ldap.SCOPE_ONELEVEL):
            last = max([last, *(a["reqStart"][0].decode() for _, a in page)])
        return last

    def changes(self, watermark: Watermark, context: ImportContext) -> Iterator[ImportBatch]:
        last = AccesslogWatermark.from_dict(watermark).req_start
        log_filter = (f"(&(objectClass=auditWriteObject)(reqResult=0)(reqStart>={last}))")
        for page in paged_search(self.reader.conn, self.base, log_filter, _LOG_ATTRS,
                                 min(self.reader.settings.page_size, context.batch_size),
                                 scope=ldap.SCOPE_ONELEVEL):
            page = sorted(page, key=lambda e: e[1]["reqStart"][0])
            entries = [attrs for _, attrs in page if attrs["reqStart"][0].decode() != last]
            if not entries:
                continue
            last = entries[-1]["reqStart"][0].decode()
            yield ImportBatch(records=self._records(entries, context))
        yield ImportBatch(records=[], watermark=AccesslogWatermark(last).to_dict())

    def _records(self, entries: list[dict[str, list[bytes]]],
                 context: ImportContext) -> list[ImportRecord]:
        reader = self.reader
        anchors = sorted({a for e in entries if (a := _first(e, "reqEntryUUID"))})
        # A modify needs only the entry's class and DN; reading a big group whole for each
        # member change would cost what the value-level log saves.
        light = reader.read_by_anchor(anchors, ["objectClass", reader.anchor_attribute])
        whole = sorted({a for e in entries if _first(e, "reqType") in ("add", "modrdn")
                        and (a := _first(e, "reqEntryUUID")) in light})
        full = reader.read_by_anchor(whole, reader.request_attributes(context))
        records: list[ImportRecord] = []
        for entry in entries:
            record = self._record(entry, light, full)
            if record is not None:
                records.append(record)
        return records

    def _record(self, entry: dict[str, list[bytes]], light: dict[str, Entry],
                full: dict[str, Entry]) -> ImportRecord | None:
        kind = _first(entry, "reqType")
        dn = _first(entry, "reqDN") or ""
        anchor = _first(entry, "reqEntryUUID")
        scope = self.reader.scope
        if kind == "delete":
            return ImportRecord(ImportKind.DELETE, anchor, dn) if scope.contains_dn(dn) else None
        now = light.get(anchor) if anchor else None
        if now is None:
            return None  # deleted later in the log; its delete record follows
        current_dn, attrs = now
        object_type = scope.object_type(attrs.get("objectClass", []))
        if object_type is None or not scope.contains_dn(current_dn):
            # Exists but out of scope: moved out, or never ours. A delete is harmless either way.
            return ImportRecord(ImportKind.DELETE, anchor, current_dn)
        if kind in ("add", "modrdn"):
            return self.reader.to_record(*full[anchor]) if anchor in full else None
        changes = parse_req_mods([v.decode("utf-8", "replace") for v in entry.get("reqMod", [])])
        if not (changes.replaced or changes.adds or changes.removes):
            return None
        return ImportRecord(kind=ImportKind.MODIFY, anchor=anchor, dn=current_dn,
                            object_type=object_type,
                            attributes=dict(changes.replaced),  # type: ignore[arg-type]
                            value_adds=dict(changes.adds),  # type: ignore[arg-type]
                            value_removes=dict(changes.removes))  # type: ignore[arg-type]


def _first(entry: dict[str, list[bytes]], name: str) -> str | None:
    values = entry.get(name)
    return values[0].decode() if values else None
