"""The delta round's page logic, on scripted pages (pure logic: clouddir repeats a group over
pages only in a first round, which the connector walks without emitting): a group repeating
over pages is merged into one record, and a batch's watermark never claims a held group."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from idsync.connectors.base import ImportKind
from idsync.connectors.graph.config import GraphSettings
from idsync.connectors.graph.delta_import import DeltaImport

START = "https://graph/v1.0/groups/delta?$deltatoken=1"


def group(object_id: str, *members: str, removed: tuple[str, ...] = ()) -> dict[str, Any]:
    delta = [{"@odata.type": "#microsoft.graph.user", "id": m} for m in members]
    delta += [{"@odata.type": "#microsoft.graph.user", "id": m, "@removed": {}}
              for m in removed]
    return {"id": object_id, "members@delta": delta}


PAGES = {
    START: {"value": [group("A", "a1"), group("B", "b1")], "@odata.nextLink": "n1"},
    "n1": {"value": [group("B", "b2", removed=("b0",)), group("C", "c1")],
           "@odata.nextLink": "n2"},
    "n2": {"value": [group("C", "c2")], "@odata.deltaLink": "d2"},
}


class ScriptedClient:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def get(self, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.asked.append(url)
        return PAGES[url]

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        return map(fn, items)


def importer(client: ScriptedClient) -> DeltaImport:
    settings = GraphSettings.parse({"tenant_id": "t", "client_id": "c",
                                    "object_types": ["group"]})
    return DeltaImport("entra", client, settings)  # type: ignore[arg-type]


def run(resume: str | None = None) -> list[Any]:
    return list(importer(ScriptedClient()).round("group", {"group": START}, resume))


def test_a_group_over_pages_is_one_record_and_held_groups_keep_the_watermark_back() -> None:
    batches = run()
    assert [[r.anchor for r in b.records] for b in batches] == [["A"], ["B"], ["C"]]
    b = batches[1].records[0]
    assert b.kind is ImportKind.MODIFY
    assert b.value_adds == {"members": ["CN=b1,OU=Users", "CN=b2,OU=Users"]}
    assert b.value_removes == {"members": ["CN=b0,OU=Users"]}
    assert batches[2].records[0].value_adds == {"members": ["CN=c1,OU=Users",
                                                            "CN=c2,OU=Users"]}
    # Batch 1 holds B (begun on the first page): nothing new to store yet.
    assert batches[0].watermark is None
    # Batch 2 holds C, begun on the page read from n1: a crash resumes there.
    assert batches[1].watermark["resume"] == {"object_type": "group", "next_link": "n1"}
    assert batches[2].watermark["delta_links"] == {"group": "d2"}
    assert "resume" not in batches[2].watermark


def test_resuming_from_a_held_groups_page_reads_it_whole() -> None:
    batches = run(resume="n1")
    records = [r for b in batches for r in b.records]
    assert [r.anchor for r in records] == ["B", "C"]
    assert records[1].value_adds == {"members": ["CN=c1,OU=Users", "CN=c2,OU=Users"]}
