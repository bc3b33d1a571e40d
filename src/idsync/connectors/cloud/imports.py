"""Import from the cloud directory: sync API pages become ``ImportBatch``es.

The watermark is a ``CloudWatermark`` (stored as ``{"api_version": N, "token": T}``); both API
versions count changes with the same change number, so a token taken under one version is good
for the other.

v1 gives whole objects: FULL records (groups with their whole member list), DELETE records.
v2 gives membership deltas: in a full import a group's first entry is a FULL record and the
further pages of its members are MODIFY records with ``value_adds``; in a delta import users
and contacts are FULL records, a group created since the token starts with a FULL record, and
other groups are MODIFY records (attributes replaced, members as ``value_adds`` /
``value_removes``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from idsync.connectors.base import ImportBatch, ImportContext, ImportKind, ImportRecord
from idsync.connectors.cloud.client import SyncApiClient
from idsync.connectors.cloud.coalesce import GroupPages
from idsync.connectors.cloud.export import MEMBER
from idsync.connectors.cloud.messages import CloudWatermark, ImportEntry, ImportPage

SOURCE_ANCHOR = "sourceAnchor"
SYNC_ENABLED = "onPremisesSyncEnabled"


def _attributes(entry: ImportEntry, wanted: frozenset[str] | None) -> dict[str, list[Any]]:
    attributes: dict[str, list[Any]] = dict(entry.attributes)
    if entry.source_anchor:
        attributes[SOURCE_ANCHOR] = [entry.source_anchor]
    attributes[SYNC_ENABLED] = ["true" if entry.sync_enabled else "false"]
    if wanted is not None:
        attributes = {k: v for k, v in attributes.items() if k in wanted or k == MEMBER}
    return attributes


def _record(kind: ImportKind, entry: ImportEntry, attributes: dict[str, list[Any]]
            ) -> ImportRecord:
    return ImportRecord(kind, entry.id, entry.dn or "", entry.object_type, attributes,
                        cloud_managed=entry.cloud_managed)


def _delete(entry: ImportEntry) -> ImportRecord:
    return ImportRecord(ImportKind.DELETE, entry.id, entry.dn or "", entry.object_type)


class CloudImporter:
    def __init__(self, client: SyncApiClient, version: int) -> None:
        self.client = client
        self.version = version

    def run(self, context: ImportContext, delta: bool) -> Iterator[ImportBatch]:
        token = None
        if delta:
            watermark = CloudWatermark.from_stored(context.watermark)
            if watermark is None:
                raise ValueError("a delta import needs the watermark of a full import")
            token = watermark.token
        seen_groups: set[str | None] = set()
        groups = GroupPages()  # v2: a group's pages of members make one record
        cursor: str | None = None
        while True:
            page = self._page(token, cursor, context.batch_size)
            records = [r for e in page.entries
                       for r in self._records(e, context, delta, seen_groups)]
            if self.version == 2:
                records = groups.page(records, last=not page.more)
            if not page.more:
                final = CloudWatermark(page.token, self.version)
                yield ImportBatch(records, final.to_stored())
                return
            yield ImportBatch(records, None)
            cursor = page.next

    def _page(self, token: str | None, cursor: str | None, page_size: int) -> ImportPage:
        params: dict[str, Any] = {"page_size": page_size}
        if cursor:
            params["cursor"] = cursor
        elif token is not None:
            params["watermark" if self.version == 1 else "delta_token"] = token
        return ImportPage.from_json(self.client.get(f"/sync/v{self.version}/import", params),
                                    self.version)

    def _records(self, entry: ImportEntry, context: ImportContext, delta: bool,
                 seen_groups: set[str | None]) -> list[ImportRecord]:
        if entry.op == "delete":
            return [_delete(entry)]
        attributes = _attributes(entry, context.attributes)
        anchor = entry.id
        object_type = entry.object_type
        if self.version == 1:
            if object_type == "group":
                attributes[MEMBER] = list(entry.members or [])
            return [_record(ImportKind.FULL, entry, attributes)]
        members = entry.member_delta
        if object_type != "group" or members is None:
            return [_record(ImportKind.FULL, entry, attributes)]
        if (not delta or entry.created) and anchor not in seen_groups:
            seen_groups.add(anchor)
            attributes[MEMBER] = list(members.get("add") or [])
            return [_record(ImportKind.FULL, entry, attributes)]
        record = _record(ImportKind.MODIFY, entry, attributes)
        if members.get("add"):
            record.value_adds[MEMBER] = list(members["add"])
        if members.get("remove"):
            record.value_removes[MEMBER] = list(members["remove"])
        return [record]
