"""Active Directory DirSync with incremental values (our own control, ``controls.dirsync``).

The server returns each changed object once with only its changed attributes; with
INCREMENTAL_VALUES a member change arrives as ``member;range=1-1`` (values added) and
``member;range=0-0`` (values removed). Deleted objects arrive as tombstones (``isDeleted``)
carrying their objectGUID. New objects carry their objectClass and come out as FULL records;
changed ones as MODIFY. The cookie is the watermark. DirSync needs the naming context root as
base and the "Replicating Directory Changes" right.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from ldap.controls import KNOWN_RESPONSE_CONTROLS

import ldap
from idsync.connectors.base import ImportBatch, ImportContext, ImportKind, ImportRecord, Watermark
from idsync.connectors.ldap.ad.extended_dn import parse_extended_dn
from idsync.connectors.ldap.change_detection.watermarks import DirSyncWatermark
from idsync.connectors.ldap.controls.dirsync import (
    DIRSYNC_OID,
    DirSyncRequestControl,
    DirSyncResponseControl,
    find_response,
)
from idsync.connectors.ldap.ranged import parse_range
from idsync.connectors.ldap.reader import DirectoryReader

# python-ldap drops response controls it does not know; tell it about ours for this call only.
RESPONSE_CONTROLS = {**KNOWN_RESPONSE_CONTROLS, DIRSYNC_OID: DirSyncResponseControl}
_SKIP = {"objectguid", "instancetype", "isdeleted", "parentguid", "usnchanged", "whenchanged",
         "name"}


def dirsync_record(reader: DirectoryReader, dn: str,
                   attrs: dict[str, list[bytes]]) -> ImportRecord | None:
    """One DirSync result entry -> a record (pure logic over the reply's attributes)."""
    anchor = reader.anchor_of(attrs)
    dn, _ = parse_extended_dn(dn)
    lowered = {k.lower(): v for k, v in attrs.items()}
    if lowered.get("isdeleted", [b""])[0].upper() == b"TRUE":
        return ImportRecord(kind=ImportKind.DELETE, anchor=anchor, dn=dn)
    if not reader.scope.contains_dn(dn):
        # Moved out of scope looks like a change under a DN we do not sync.
        return ImportRecord(kind=ImportKind.DELETE, anchor=anchor, dn=dn)
    if "objectclass" in lowered:
        return reader.to_record(dn, _plain_members(attrs))
    record = ImportRecord(kind=ImportKind.MODIFY, anchor=anchor, dn=dn)
    for key, values in attrs.items():
        if key.lower() in _SKIP:
            continue
        ranged = parse_range(key)
        if ranged is None:
            record.attributes[key] = reader.decode(key, values)
            continue
        name, lo, hi = ranged
        # Incremental values: range 1-1 holds values added, 0-0 values removed.
        target = record.value_adds if (lo, hi) == (1, 1) else record.value_removes
        target.setdefault(name, []).extend(_dn_values(reader.decode(name, values)))
    return record


def _plain_members(attrs: dict[str, list[bytes]]) -> dict[str, list[bytes]]:
    # A new object's members come as the "added" range; the removed range is empty.
    out: dict[str, list[bytes]] = {}
    for key, values in attrs.items():
        ranged = parse_range(key)
        if ranged is None:
            out[key] = values
        elif ranged[1:] == (1, 1):
            out[ranged[0]] = [parse_extended_dn(v.decode())[0].encode() for v in values]
    return out


def _dn_values(values: list[Any]) -> list[Any]:
    return [parse_extended_dn(v)[0] if isinstance(v, str) and v.startswith("<") else v
            for v in values]


class DirSyncDetector:
    name = DirSyncWatermark.strategy

    def __init__(self, reader: DirectoryReader) -> None:
        self.reader = reader

    def initial_watermark(self) -> Watermark:
        # DirSync has no "now" cookie: read through once asking for the anchor only.
        cookies = {}
        for partition in self.reader.settings.partitions:
            pages = self._pages(partition, b"", ["objectGUID"])
            last = b""
            for page in pages:
                last = page[1]
            cookies[partition] = base64.b64encode(last).decode()
        return DirSyncWatermark(cookies).to_dict()

    def changes(self, watermark: Watermark, context: ImportContext) -> Iterator[ImportBatch]:
        cookies = dict(DirSyncWatermark.from_dict(watermark).cookies)
        # DirSync reports an object only when a requested attribute changed: always ask for
        # the ones that say "deleted" (isDeleted), "renamed or moved" (name) and "new"
        # (objectClass). Range options do not apply: each changed value comes once.
        attrs = sorted({a.split(";", 1)[0] for a in self.reader.request_attributes(context)}
                       | {"isDeleted", "name", "objectClass"})
        for partition in self.reader.settings.partitions:
            start = base64.b64decode(cookies.get(partition, ""))
            last = start
            for entries, cookie in self._pages(partition, start, attrs):
                last = cookie
                yield ImportBatch(records=self._records(entries, context))
            cookies[partition] = base64.b64encode(last).decode()
        yield ImportBatch(records=[], watermark=DirSyncWatermark(cookies).to_dict())

    def _records(self, entries: list[tuple[str, dict[str, list[bytes]]]],
                 context: ImportContext) -> list[ImportRecord]:
        records: list[ImportRecord] = []
        moved: list[int] = []
        for dn, attrs in entries:
            record = dirsync_record(self.reader, dn, attrs)
            if record is None:
                continue
            if record.kind == ImportKind.MODIFY and any(k.lower() == "name" for k in attrs):
                moved.append(len(records))
            records.append(record)
        if moved:
            # A rename or move (DirSync sends the new "name") may bring an object into scope
            # that the connector space has never seen: send such objects whole.
            anchors = [a for i in moved if (a := records[i].anchor)]
            current = self.reader.read_by_anchor(anchors, self.reader.request_attributes(context))
            for i in moved:
                entry = current.get(records[i].anchor or "")
                whole = self.reader.to_record(*entry) if entry else None
                if whole is not None:
                    records[i] = whole
        return records

    def _pages(self, partition: str, cookie: bytes, attrs: list[str]
               ) -> Iterator[tuple[list[tuple[str, dict[str, list[bytes]]]], bytes]]:
        conn = self.reader.conn
        while True:
            control = DirSyncRequestControl(cookie=cookie)
            msgid = conn.search_ext(partition, ldap.SCOPE_SUBTREE,
                                    self.reader.scope.class_filter(), attrs,
                                    serverctrls=[control])
            _, data, _, controls = conn.result3(msgid, resp_ctrl_classes=RESPONSE_CONTROLS)
            response = find_response(controls)
            if response is None:
                raise ldap.PROTOCOL_ERROR({"desc": "no DirSync response control"})
            cookie = response.cookie or cookie
            yield [(dn, a) for dn, a in data if dn and isinstance(a, dict)], cookie
            if not response.more_results:
                return
