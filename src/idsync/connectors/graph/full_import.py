"""Full import through Graph: ``/users`` and ``/groups`` with ``$select`` and ``$top``, paged by
``@odata.nextLink``; managers by ``$expand=manager($select=id)``; each group's members paged
(``/groups/{id}/members?$select=id``), up to ``concurrency`` groups at once.

The delta links of the next delta import are taken *before* the objects are read: a change
made while the full import runs is then read again by that delta (harmless), never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from idsync.connectors.base import ImportBatch, ImportContext, ImportRecord, Value
from idsync.connectors.graph.client import GraphClient
from idsync.connectors.graph.config import GraphSettings
from idsync.connectors.graph.errors import GraphApiError
from idsync.connectors.graph.records import (
    COLLECTIONS,
    MANAGER,
    MEMBERS,
    full_record,
    manager_of,
    plain_attributes,
    reference_dn,
    select,
)
from idsync.connectors.graph.watermark import DeltaWatermark
from idsync.connectors.settings.graph import MAX_PAGE_SIZE

log = logging.getLogger(__name__)


class FullImport:
    def __init__(self, client: GraphClient, settings: GraphSettings) -> None:
        self.client = client
        self.settings = settings

    def run(self, context: ImportContext) -> Iterator[ImportBatch]:
        links = {t: self.latest_delta_link(t) for t in self.settings.object_types}
        properties: dict[str, list[str]] = {}
        for object_type in self.settings.object_types:
            plain = set(plain_attributes(object_type, self.settings.attributes(object_type)))
            returned: set[str] = set()
            for page in self.client.pages(f"/{COLLECTIONS[object_type]}",
                                          self.list_params(object_type)):
                entries = page.get("value") or []
                returned.update(k for e in entries for k in e if k in plain)
                yield ImportBatch(self.records(object_type, entries))
            if returned:  # none seen: unknown, a delta entry is then whole with every one
                properties[object_type] = sorted(returned)
        yield ImportBatch([], DeltaWatermark(links, properties=properties).to_stored())

    def list_params(self, object_type: str) -> dict[str, Any]:
        wanted = self.settings.attributes(object_type)
        params: dict[str, Any] = {"$select": select(object_type, wanted),
                                  "$top": self.settings.page_size}
        if object_type == "user" and MANAGER in wanted:
            params["$expand"] = "manager($select=id)"
        return params

    def records(self, object_type: str, entries: list[dict[str, Any]]) -> list[ImportRecord]:
        wanted = self.settings.attributes(object_type)
        entries = [e for e in entries if e.get("id")]
        records = [full_record(object_type, e, wanted) for e in entries]
        if object_type == "user" and MANAGER in wanted:
            for record, entry in zip(records, entries, strict=True):
                manager = manager_of(entry)
                if manager:
                    record.attributes[MANAGER] = manager
        if object_type == "group" and MEMBERS in wanted:
            ids = [r.anchor or "" for r in records]
            for record, members in zip(records, self.client.map(self.members_of, ids),
                                       strict=True):
                record.attributes[MEMBERS] = members
        return records

    def members_of(self, group_id: str) -> list[Value]:
        """Every member of a group as DNs, page by page."""
        members: list[Value] = []
        params = {"$select": "id", "$top": self.settings.page_size}
        for page in self.client.pages(f"/groups/{group_id}/members", params):
            members += [dn for dn in (reference_dn(m) for m in page.get("value") or [])
                        if dn is not None]
        return members

    def latest_delta_link(self, object_type: str) -> str:
        """A delta link that starts now: ``$deltatoken=latest`` where the service takes it,
        else the delta walked to its end without keeping anything."""
        path = f"/{COLLECTIONS[object_type]}/delta"
        params: dict[str, Any] = {"$select": select(object_type,
                                                    self.settings.attributes(object_type),
                                                    delta=True)}
        if self.settings.page_size < MAX_PAGE_SIZE:
            # A smaller page asked for: the delta link keeps it for every later round.
            params["$top"] = self.settings.page_size
        try:
            page = self.client.get(path, {**params, "$deltatoken": "latest"})
            if page.get("@odata.deltaLink"):
                return str(page["@odata.deltaLink"])
        except GraphApiError as exc:
            # Refused (400) or taken for an unknown token (410 syncStateNotFound).
            if exc.status not in (400, 404, 410):
                raise
            log.info("%s: $deltatoken=latest refused (%s); walking the delta", path, exc.code)
        last: dict[str, Any] = {}
        for page in self.client.pages(path, params):
            last = page
        link = last.get("@odata.deltaLink")
        if not link:
            raise GraphApiError(200, "NoDeltaLink", f"{path} ended without a delta link")
        return str(link)
