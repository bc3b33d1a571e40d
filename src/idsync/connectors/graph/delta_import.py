"""Delta import through Graph delta queries (``/users/delta``, ``/groups/delta``).

Each object type's round starts at its stored delta link and follows ``@odata.nextLink`` to a
new ``@odata.deltaLink`` (see ``watermark`` for how a round is checkpointed).

* ``@removed`` objects are DELETE records.
* ``members@delta`` entries become ``value_adds`` / ``value_removes`` of ``members``. A large
  group's members come over several pages, the group repeating: its entries are merged into
  one record (the last group of a page is held until the next page says whether it goes on).
* Graph does not say whether an object is new or changed. An object with every selected
  property is a FULL record. A group's is FULL when one member read gives its whole member
  list (at most a page): that list, read now, is the record's. A group's member changes can be
  spread over pages far apart (the writes that made them went in chunks of 20, in other
  batches than the group's), so a first entry's adds alone would not confirm an export that
  created the group; the later entries' changes, older than the read, replay onto it and end
  in the same state. A group above a page of members stays value-level (MODIFY), never a
  whole-list replace. A user's manager not stated in the entry is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from idsync.connectors.base import ImportBatch, ImportContext, ImportKind, ImportRecord, Value
from idsync.connectors.graph.client import GraphClient
from idsync.connectors.graph.config import GraphSettings
from idsync.connectors.graph.errors import DeltaTokenExpired, GraphApiError
from idsync.connectors.graph.records import (
    COLLECTIONS,
    MANAGER,
    MEMBERS,
    cloud_managed,
    dn_of,
    manager_of,
    plain_attributes,
    reference_dn,
    values_of,
)
from idsync.connectors.graph.watermark import DeltaWatermark
from idsync.errors import ConfigurationError

#: Statuses Graph answers a delta link it no longer takes with (410 Gone: resync required).
_EXPIRED_STATUS = frozenset({400, 404, 410})


class DeltaImport:
    def __init__(self, name: str, client: GraphClient, settings: GraphSettings) -> None:
        self.name = name
        self.client = client
        self.settings = settings
        self.properties: dict[str, list[str]] = {}

    def run(self, context: ImportContext) -> Iterator[ImportBatch]:
        watermark = DeltaWatermark.from_stored(context.watermark)
        types = list(self.settings.object_types)
        if watermark is None or any(t not in watermark.links for t in types):
            raise ConfigurationError(f"connector {self.name!r} has no Graph delta link for "
                                     f"{', '.join(types)}: run a full import first")
        links = dict(watermark.links)
        self.properties = dict(watermark.properties)
        start = 0
        if watermark.resume is not None and watermark.resume[0] in types:
            start = types.index(watermark.resume[0])
        for index, object_type in enumerate(types[start:], start):
            resumed = watermark.resume[1] if watermark.resume and index == start else None
            properties = watermark.properties.get(object_type)
            yield from self.round(object_type, links, resumed, properties)

    def round(self, object_type: str, links: dict[str, str], resumed: str | None,
              properties: list[str] | None = None) -> Iterator[ImportBatch]:
        """One object type's delta round; ``properties``: what makes an entry whole."""
        url = resumed or links[object_type]
        held: dict[str, Any] | None = None
        held_from: str | None = None
        while True:
            page = self._page(object_type, url)
            entries = _merged(([held] if held else []) + list(page.get("value") or []))
            next_link = page.get("@odata.nextLink")
            if next_link and entries and object_type == "group" and "@removed" not in \
                    entries[-1]:
                # The group may go on in the next page: staged once it is whole.
                held_from = held_from if held and held["id"] == entries[-1]["id"] else url
                held, entries = entries[-1], entries[:-1]
            else:
                held, held_from = None, None
            records = self.records(object_type, entries, properties)
            if not next_link:
                links[object_type] = str(page.get("@odata.deltaLink") or links[object_type])
                yield ImportBatch(records, self._watermark(links, None))
                return
            resume = str(next_link) if held is None else held_from
            watermark = None
            if resume is not None and resume != links[object_type]:
                watermark = self._watermark(links, (object_type, resume))
            yield ImportBatch(records, watermark)
            url = str(next_link)

    def _page(self, object_type: str, url: str) -> dict[str, Any]:
        try:
            return self.client.get(url)
        except GraphApiError as exc:
            if exc.status in _EXPIRED_STATUS:
                raise DeltaTokenExpired(
                    f"connector {self.name!r}: Graph refused the delta link of "
                    f"/{COLLECTIONS[object_type]}/delta ({exc.status} {exc.code}: "
                    f"{exc.message[:200]}): the watermark is no longer valid; run a full "
                    "import") from exc
            raise

    # --- entries -> records ------------------------------------------------------------------

    def _watermark(self, links: dict[str, str], resume: tuple[str, str] | None
                   ) -> dict[str, Any]:
        return DeltaWatermark(dict(links), resume, self.properties).to_stored()

    def records(self, object_type: str, entries: list[dict[str, Any]],
                properties: list[str] | None = None) -> list[ImportRecord]:
        wanted = self.settings.attributes(object_type)
        plain = plain_attributes(object_type, wanted)
        whole = [p for p in plain if p in properties] if properties is not None else plain
        records: list[ImportRecord] = []
        checks: list[ImportRecord] = []
        for entry in entries:
            object_id = str(entry["id"])
            dn = dn_of(object_type, object_id)
            if "@removed" in entry:
                records.append(ImportRecord(ImportKind.DELETE, object_id, dn, object_type))
                continue
            attributes: dict[str, list[Value]] = {n: values_of(entry[n]) for n in plain
                                                  if n in entry}
            record = ImportRecord(ImportKind.MODIFY, object_id, dn, object_type, attributes,
                                  cloud_managed=cloud_managed(entry))
            complete = all(p in entry for p in whole)
            checking = False
            if object_type == "user" and MANAGER in wanted:
                manager = manager_of(entry)
                if manager is not None:
                    attributes[MANAGER] = manager
                else:
                    checking = complete  # the manager is read below
            members = object_type == "group" and MEMBERS in wanted
            if members:
                adds, removes = _member_delta(entry)
                if adds:
                    record.value_adds[MEMBERS] = adds
                if removes:
                    record.value_removes[MEMBERS] = removes
                # Its whole member list, if it fits a page: the member read below.
                checking = complete
            if checking:
                checks.append(record)
            elif complete and not members:
                _make_full(record)
            records.append(record)
        for record, found in zip(checks, self.client.map(self._check, checks), strict=True):
            if found is not None:
                record.attributes[found[0]] = found[1]
                record.value_adds.pop(found[0], None)
                record.value_removes.pop(found[0], None)
                _make_full(record)
        return records

    def _check(self, record: ImportRecord) -> tuple[str, list[Value]] | None:
        """What makes ``record`` FULL: a user's manager, or a group's whole member list when
        one page holds it (None: a larger group, kept value-level)."""
        object_id = record.anchor or ""
        if record.object_type == "user":
            try:
                manager = self.client.get(f"/users/{object_id}/manager", {"$select": "id"})
            except GraphApiError as exc:
                if exc.status == 404:
                    return MANAGER, []
                raise
            dn = reference_dn(manager)
            return MANAGER, [dn] if dn else []
        adds = record.value_adds.get(MEMBERS, [])
        if len(adds) >= self.settings.page_size:
            return None
        page = self.client.get(f"/groups/{object_id}/members",
                               {"$select": "id", "$top": self.settings.page_size})
        if page.get("@odata.nextLink"):
            return None
        return MEMBERS, [dn for m in page.get("value") or [] if (dn := reference_dn(m))]


def _make_full(record: ImportRecord) -> None:
    record.kind = ImportKind.FULL
    record.attributes = {n: v for n, v in record.attributes.items() if v}


def _member_delta(entry: dict[str, Any]) -> tuple[list[Value], list[Value]]:
    adds: list[Value] = []
    removes: list[Value] = []
    for member in entry.get("members@delta") or []:
        dn = reference_dn(member) if isinstance(member, dict) else None
        if dn is not None:
            (removes if "@removed" in member else adds).append(dn)
    return adds, removes


def _merged(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries of one object merged (a group repeating over pages): properties of the later
    entry win, ``members@delta`` lists are joined. Order: each object's first appearance."""
    by_id: dict[str, dict[str, Any]] = {}
    for entry in entries:
        object_id = entry.get("id")
        if not object_id:
            continue
        known = by_id.get(str(object_id))
        if known is None or "@removed" in entry:
            by_id[str(object_id)] = dict(entry)
            continue
        members = list(known.get("members@delta") or []) + list(entry.get("members@delta")
                                                                or [])
        known.update(entry)
        if members:
            known["members@delta"] = members
    return list(by_id.values())
