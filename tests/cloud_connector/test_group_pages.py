"""``GroupPages``/``merge`` (pure logic): a group's records merged across pages have the effect
of the records applied one after the other, and nothing is lost or reordered for other
objects."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from idsync.connectors.base import ImportKind, ImportRecord
from idsync.connectors.cloud.coalesce import GroupPages, merge

MEMBERS = st.lists(st.sampled_from([f"CN=u{i}" for i in range(8)]), max_size=5, unique=True)


def apply(state: dict[str, Any] | None, record: ImportRecord) -> dict[str, Any] | None:
    if record.kind is ImportKind.DELETE:
        return None
    if record.kind is ImportKind.FULL or state is None:
        state = {}
    else:
        state = {k: list(v) for k, v in state.items()}
    for name, values in record.attributes.items():
        state[name] = list(values)
    for name, values in record.value_adds.items():
        state[name] = state.get(name, []) + [v for v in values if v not in state.get(name, [])]
    for name, values in record.value_removes.items():
        state[name] = [v for v in state.get(name, []) if v not in values]
    return {k: sorted(v) for k, v in state.items() if v}


@st.composite
def record(draw: Any, first: bool) -> ImportRecord:
    kind = ImportKind.FULL if first and draw(st.booleans()) else draw(
        st.sampled_from([ImportKind.MODIFY, ImportKind.MODIFY, ImportKind.DELETE]))
    if kind is ImportKind.DELETE:
        return ImportRecord(kind, "g", "CN=g", "group")
    attrs = {"displayName": [draw(st.sampled_from(["A", "B"]))]} if draw(st.booleans()) else {}
    if kind is ImportKind.FULL:
        attrs["member"] = draw(MEMBERS)
        return ImportRecord(kind, "g", "CN=g", "group", attrs)
    if draw(st.booleans()):
        attrs["member"] = draw(MEMBERS)
    adds, removes = draw(MEMBERS), draw(MEMBERS)
    return ImportRecord(kind, "g", "CN=g", "group", attrs,
                        {"member": adds} if adds else {}, {"member": removes} if removes else {})


@given(st.data())
def test_merged_records_have_the_sequential_effect(data: Any) -> None:
    records = [data.draw(record(first=True)),
               *data.draw(st.lists(record(first=False), max_size=5))]
    # Nothing follows a group's delete in one import (its id is never used again).
    ends = [i for i, r in enumerate(records) if r.kind is ImportKind.DELETE]
    records = records[:ends[0] + 1] if ends else records
    start = {"displayName": ["Z"], "member": ["CN=u0", "CN=u7"]}
    sequential: dict[str, Any] | None = start
    for r in records:
        sequential = apply(sequential, r)
    merged = records[0]
    for r in records[1:]:
        merged = merge(merged, r)
    assert apply(start, merged) == sequential


def test_pages_release_each_group_once_complete() -> None:
    user = ImportRecord(ImportKind.FULL, "u", "CN=u", "user", {"displayName": ["U"]})
    first = ImportRecord(ImportKind.FULL, "g", "CN=g", "group", {"member": ["CN=a"]})
    more = ImportRecord(ImportKind.MODIFY, "g", "CN=g", "group", value_adds={"member": ["CN=b"]})
    other = ImportRecord(ImportKind.FULL, "h", "CN=h", "group", {"member": []})
    pages = GroupPages()
    assert pages.page([user, first], last=False) == [user]
    assert pages.page([more, other], last=False) == []
    released = pages.page([], last=True)
    assert [r.anchor for r in released] == ["g", "h"]
    assert released[0].kind is ImportKind.FULL
    assert released[0].attributes["member"] == ["CN=a", "CN=b"]
