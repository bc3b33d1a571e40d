"""OpenLDAP content synchronization (RFC 4533) in refreshOnly mode with a stored cookie.

The full import does not use syncrepl (a paged search is 2-3x faster); it takes a cookie made
from the database's contextCSN just before reading, which syncprov accepts as "changes since
then". A delta run then gets changed entries whole (FULL records: renames and moves show as a
new DN with the same entryUUID) and deleted entryUUIDs from syncprov's session log. When the
cookie is older than the session log, syncprov falls back to a present phase, which cannot be
turned into deletes without the whole connector space: that raises ``WatermarkExpired``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

from ldap.ldapobject import SimpleLDAPObject
from ldap.syncrepl import SyncreplConsumer

import ldap
from idsync.connectors.base import ImportBatch, ImportContext, ImportKind, ImportRecord, Watermark
from idsync.connectors.ldap.change_detection import WatermarkExpired
from idsync.connectors.ldap.change_detection.watermarks import SyncreplWatermark
from idsync.connectors.ldap.reader import DirectoryReader
from idsync.connectors.ldap.scope import is_under


class _Consumer(SyncreplConsumer, SimpleLDAPObject):
    """python-ldap's consumer; callbacks collect records for the strategy to batch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cookie: str | None = None
        self.entries: list[tuple[str, dict[str, list[bytes]], str]] = []
        self.deleted: list[str] = []
        self.present_phase = False

    def syncrepl_get_cookie(self) -> str | None:
        return self.cookie

    def syncrepl_set_cookie(self, cookie: str) -> None:
        self.cookie = cookie

    def syncrepl_entry(self, dn: str, attributes: dict[str, list[bytes]], uuid: str) -> None:
        self.entries.append((dn, attributes, uuid))

    def syncrepl_delete(self, uuids: list[str]) -> None:
        self.deleted.extend(uuids)

    def syncrepl_present(self, uuids: list[str] | None, refreshDeletes: bool = False) -> None:
        # uuids=None with refreshDeletes=False closes a present phase: everything not listed
        # is gone. Individual present UUIDs need no action.
        if uuids is None and not refreshDeletes:
            self.present_phase = True


class SyncreplDetector:
    name = SyncreplWatermark.strategy

    def __init__(self, reader: DirectoryReader, open_consumer: Callable[[type], Any]) -> None:
        self.reader = reader
        self._open_consumer = open_consumer

    def initial_watermark(self) -> Watermark:
        return SyncreplWatermark(
            {p: self._cookie_now(p) for p in self.reader.settings.partitions}).to_dict()

    def _cookie_now(self, partition: str) -> str:
        conn = self.reader.conn
        root = conn.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["namingContexts"])
        contexts = [v.decode() for v in root[0][1].get("namingContexts", [])]
        suffix = max((c for c in contexts if is_under(partition, c)), key=len, default=partition)
        entry = conn.search_s(suffix, ldap.SCOPE_BASE, "(objectClass=*)", ["contextCSN"])
        csns = sorted(v.decode() for v in entry[0][1].get("contextCSN", []))
        return f"rid=000,csn={';'.join(csns)}" if csns else ""

    def changes(self, watermark: Watermark, context: ImportContext) -> Iterator[ImportBatch]:
        cookies = dict(SyncreplWatermark.from_dict(watermark).cookies)
        attrs = self.reader.request_attributes(context)
        for partition in self.reader.settings.partitions:
            cookies[partition] = yield from self._partition_changes(
                partition, cookies.get(partition) or None, attrs, context.batch_size)
        yield ImportBatch(records=[], watermark=SyncreplWatermark(cookies).to_dict())

    def _partition_changes(self, partition: str, cookie: str | None, attrs: list[str],
                           batch_size: int) -> Generator[ImportBatch, None, str]:
        if not cookie:
            raise WatermarkExpired(f"no syncrepl cookie for {partition}: run a full import")
        consumer = self._open_consumer(_Consumer)
        try:
            consumer.cookie = cookie
            msgid = consumer.syncrepl_search(partition, ldap.SCOPE_SUBTREE, mode="refreshOnly",
                                             filterstr=self.reader.scope.class_filter(),
                                             attrlist=attrs)
            more = True
            while more:
                more = consumer.syncrepl_poll(msgid=msgid, all=0)
                if consumer.present_phase:
                    raise WatermarkExpired(
                        f"the syncrepl cookie for {partition} is older than the server's "
                        "session log: run a full import")
                records = self._drain(consumer)
                for start in range(0, len(records), batch_size):
                    yield ImportBatch(records=records[start:start + batch_size])
            return consumer.cookie or cookie
        finally:
            consumer.unbind_s()

    def _drain(self, consumer: _Consumer) -> list[ImportRecord]:
        records: list[ImportRecord] = []
        for dn, attributes, uuid in consumer.entries:
            attributes.setdefault("entryUUID", [uuid.encode()])
            record = self.reader.to_record(dn, attributes)
            # Changed but out of scope now (moved out, class changed): gone from our view.
            records.append(record or ImportRecord(kind=ImportKind.DELETE, anchor=uuid, dn=dn))
        records.extend(ImportRecord(kind=ImportKind.DELETE, anchor=uuid, dn="")
                       for uuid in consumer.deleted)
        consumer.entries.clear()
        consumer.deleted.clear()
        return records
