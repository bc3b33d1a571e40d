"""The fallback: changed entries by ``uSNChanged`` (Active Directory) or ``modifyTimestamp``
(any server). Changed entries come back whole (FULL records; renames show as a new DN).

Deletes: on AD, tombstones (``isDeleted=TRUE`` with the show-deleted control) since the
watermark USN. A generic server has no record of deletes, so ``modify_timestamp`` cannot see
them: prefer syncrepl or accesslog on OpenLDAP. Timestamps have one-second resolution, so the
search includes the watermark second again (a re-sent entry is harmless).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from ldap.controls import LDAPControl

import ldap
from idsync.connectors.base import ImportBatch, ImportContext, ImportKind, ImportRecord, Watermark
from idsync.connectors.ldap.change_detection import batched
from idsync.connectors.ldap.change_detection.watermarks import (
    ModifyTimestampWatermark,
    UsnWatermark,
)
from idsync.connectors.ldap.paging import paged_search
from idsync.connectors.ldap.reader import DirectoryReader

SHOW_DELETED_OID = "1.2.840.113556.1.4.417"


class UsnDetector:
    """AD: uSNChanged above the highestCommittedUSN taken at the previous run."""

    name = UsnWatermark.strategy

    def __init__(self, reader: DirectoryReader) -> None:
        self.reader = reader

    def initial_watermark(self) -> Watermark:
        root = self.reader.conn.search_s("", ldap.SCOPE_BASE, "(objectClass=*)",
                                         ["highestCommittedUSN"])
        return UsnWatermark(int(root[0][1]["highestCommittedUSN"][0])).to_dict()

    def changes(self, watermark: Watermark, context: ImportContext) -> Iterator[ImportBatch]:
        start = UsnWatermark.from_dict(watermark).usn + 1
        new = self.initial_watermark()
        yield from (ImportBatch(records=b)
                    for b in batched(self._records(start, context), context.batch_size))
        yield ImportBatch(records=[], watermark=new)

    def _records(self, start: int, context: ImportContext) -> Iterator[ImportRecord]:
        reader = self.reader
        changed = f"(&{reader.scope.class_filter()}(uSNChanged>={start}))"
        for partition in reader.settings.partitions:
            for page in paged_search(reader.conn, partition, changed,
                                     reader.request_attributes(context),
                                     reader.settings.page_size):
                for dn, attrs in page:
                    record = reader.to_record(dn, attrs)
                    yield record or ImportRecord(ImportKind.DELETE, reader.anchor_of(attrs), dn)
            show_deleted = LDAPControl(SHOW_DELETED_OID, True, None)
            tombstones = f"(&(isDeleted=TRUE)(uSNChanged>={start}))"
            for page in paged_search(reader.conn, partition, tombstones, ["objectGUID"],
                                     reader.settings.page_size, extra_controls=[show_deleted]):
                for dn, attrs in page:
                    yield ImportRecord(ImportKind.DELETE, reader.anchor_of(attrs), dn)


class ModifyTimestampDetector:
    name = ModifyTimestampWatermark.strategy

    def __init__(self, reader: DirectoryReader) -> None:
        self.reader = reader

    def initial_watermark(self) -> Watermark:
        return ModifyTimestampWatermark(self._server_now()).to_dict()

    def _server_now(self) -> str:
        """The server's idea of now: AD's rootDSE currentTime, else the newest contextCSN of
        the partitions (OpenLDAP), else the client's clock a few minutes back for skew."""
        conn = self.reader.conn
        root = conn.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["currentTime"])
        current = root[0][1].get("currentTime") if root else None
        if current:
            return current[0].decode()[:14] + "Z"
        stamps = []
        for partition in self.reader.settings.partitions:
            with contextlib.suppress(ldap.LDAPError):
                found = conn.search_s(partition, ldap.SCOPE_BASE, "(objectClass=*)",
                                      ["contextCSN"])
                stamps += [v.decode()[:14] + "Z" for v in found[0][1].get("contextCSN", [])]
        if stamps:
            return max(stamps)
        now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        return now.strftime("%Y%m%d%H%M%SZ")

    def changes(self, watermark: Watermark, context: ImportContext) -> Iterator[ImportBatch]:
        since = ModifyTimestampWatermark.from_dict(watermark).timestamp
        latest = since
        reader = self.reader
        attrs = sorted({*reader.request_attributes(context), "modifyTimestamp"})
        flt = f"(&{reader.scope.class_filter()}(modifyTimestamp>={since}))"
        records: list[ImportRecord] = []
        for page in reader.entries_matching(flt, attrs):
            for dn, entry in page:
                stamp = entry.get("modifyTimestamp", [b""])[0].decode()
                latest = max(latest, stamp)
                record = reader.to_record(dn, entry)
                records.append(record or ImportRecord(ImportKind.DELETE, reader.anchor_of(entry),
                                                      dn))
                if len(records) >= context.batch_size:
                    yield ImportBatch(records=records)
                    records = []
        yield ImportBatch(records=records,
                          watermark=ModifyTimestampWatermark(latest).to_dict())
