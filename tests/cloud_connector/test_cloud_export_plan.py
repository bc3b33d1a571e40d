"""How ExportChanges become sync API changes (pure logic)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from idsync.connectors.base import ExportChange, ExportRef
from idsync.connectors.cloud.export import plan
from idsync.model import ExportKind


def refs(n: int, prefix: str = "m") -> list[ExportRef]:
    return [ExportRef(f"CN={prefix}{i}", f"{prefix}-id-{i}" if i % 3 else None)
            for i in range(n)]


def test_v1_sends_whole_list_and_plain_values() -> None:
    change = ExportChange(7, ExportKind.MODIFY, "CN=g", "group", anchor="gid", attributes={
        "member": refs(4), "displayName": ["G"], "objectGUIDish": [b"\x01\x02"],
        "sourceAnchor": ["abc"]})
    [part] = plan(change, 1, max_links=2)
    body = part.body
    assert body["op"] == "update" and body["id"] == "gid" and body["source_anchor"] == "abc"
    assert body["members"] == [{"dn": "CN=m0"}, "m-id-1", "m-id-2", {"dn": "CN=m3"}]
    assert body["attributes"] == {"displayName": ["G"], "objectGUIDish": ["AQI="]}


def test_v2_modify_without_delta_sends_replace() -> None:
    change = ExportChange(1, ExportKind.MODIFY, "CN=g", "group", anchor="gid",
                          attributes={"member": refs(2)})
    [part] = plan(change, 2, max_links=10)
    assert part.body["members"] == {"replace": [{"dn": "CN=m0"}, "m-id-1"]}


@given(adds=st.integers(0, 40), removes=st.integers(0, 40), max_links=st.integers(1, 15))
def test_v2_split_keeps_every_reference_once(adds: int, removes: int, max_links: int) -> None:
    change = ExportChange(1, ExportKind.MODIFY, "CN=g", "group", anchor="gid",
                          value_adds={"member": refs(adds, "a")},
                          value_removes={"member": refs(removes, "r")})
    parts = plan(change, 2, max_links)
    assert parts[-1].last and not any(p.last for p in parts[:-1])
    assert all(p.links <= max_links for p in parts)
    assert all(p.links == max_links for p in parts[:-1])  # only the last part is short
    sent_adds = [m for p in parts for m in p.body.get("members", {}).get("add", [])]
    sent_removes = [m for p in parts for m in p.body.get("members", {}).get("remove", [])]
    assert len(sent_adds) == adds and len(sent_removes) == removes
    assert all(p.body["op"] == "update" and p.body["id"] == "gid" for p in parts)
