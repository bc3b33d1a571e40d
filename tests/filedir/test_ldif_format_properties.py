"""Property tests: whatever the writer writes, the reader reads back unchanged."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from idsync.filedir.dn import escape_rdn_value, normalize_dn, rdn_values, split_dn
from idsync.filedir.ldif import (
    AddRecord,
    ContentRecord,
    Control,
    DeleteRecord,
    LdifWriter,
    ModDnRecord,
    Modification,
    ModifyRecord,
    read_ldif,
)

BINARY = frozenset({"photo", "cert"})

# Any Unicode except surrogates (not encodable as UTF-8).
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=120)
names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,14}\Z").filter(
    lambda n: n.lower() not in {"dn", "changetype", "control", "version"} | BINARY)
rdn = st.builds(lambda a, v: f"{a}={escape_rdn_value(v)}",
                st.sampled_from(["cn", "uid", "ou", "o", "dc"]), text.filter(bool))
dns = st.lists(rdn, min_size=1, max_size=5).map(",".join)
# Bytes that are not UTF-8 stay bytes on any attribute; valid UTF-8 only on binary ones.
not_utf8 = st.binary(min_size=1, max_size=64).filter(lambda b: not _is_utf8(b))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def unique_names(draw_names: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for name in draw_names:
        if name.lower() not in seen:
            seen.add(name.lower())
            kept.append(name)
    return kept


@st.composite
def attribute_maps(draw: st.DrawFn, min_size: int = 1) -> dict[str, list[str | bytes]]:
    attributes: dict[str, list[str | bytes]] = {}
    for name in unique_names(draw(st.lists(names, min_size=min_size, max_size=6))):
        attributes[name] = draw(st.lists(text | not_utf8, min_size=1, max_size=4))
    if draw(st.booleans()):
        attributes["photo"] = draw(st.lists(st.binary(max_size=40), min_size=1, max_size=2))
    if draw(st.booleans()):
        attributes["cert;binary"] = [draw(st.binary(max_size=40))]
    return attributes


controls = st.lists(st.builds(Control, st.from_regex(r"\A[0-9](\.[0-9]{1,4}){1,5}\Z"),
                              st.booleans(), st.none() | text | not_utf8), max_size=2)
modifications = st.lists(
    st.builds(Modification, st.sampled_from(["add", "delete", "replace"]), names,
              st.lists(text | not_utf8, max_size=3)).filter(
        lambda m: m.op != "add" or bool(m.values)),
    max_size=4)

content_records = st.builds(ContentRecord, dns, attribute_maps())
change_records = st.one_of(
    st.builds(AddRecord, dns, attribute_maps(), controls),
    st.builds(DeleteRecord, dns, controls),
    st.builds(ModifyRecord, dns, modifications, controls),
    st.builds(ModDnRecord, dns, rdn, st.booleans(), st.none() | dns, controls),
)


def round_trip(records: list) -> list:
    out = io.BytesIO()
    LdifWriter(out, version=True).write_all(records)
    return list(read_ldif(io.BytesIO(out.getvalue()), binary_attributes=BINARY))


@settings(max_examples=80, deadline=None)
@given(st.lists(content_records, max_size=5))
def test_content_records_round_trip(records: list) -> None:
    assert round_trip(records) == records


@settings(max_examples=80, deadline=None)
@given(st.lists(change_records, max_size=6))
def test_change_records_round_trip(records: list) -> None:
    assert round_trip(records) == records


@settings(max_examples=40, deadline=None)
@given(st.lists(content_records | change_records, min_size=1, max_size=6))
def test_offsets_let_reading_resume_after_any_record(records: list) -> None:
    out = io.BytesIO()
    LdifWriter(out).write_all(records)
    data = out.getvalue()
    read = list(read_ldif(io.BytesIO(data), binary_attributes=BINARY))
    for index, record in enumerate(read):
        rest = list(read_ldif(io.BytesIO(data), binary_attributes=BINARY,
                              start=record.end_offset))
        assert rest == records[index + 1:]


@given(st.lists(st.tuples(st.sampled_from(["cn", "OU", "dc"]), text.filter(bool)),
                min_size=1, max_size=4))
def test_escaped_dns_split_back_into_the_same_values(pairs: list[tuple[str, str]]) -> None:
    dn = ",".join(f"{a}={escape_rdn_value(v)}" for a, v in pairs)
    assert [rdn_values(r) for r in split_dn(dn)] == [[(a, v)] for a, v in pairs]
    spaced = " , ".join(f"{a.upper()} = {escape_rdn_value(v)}" for a, v in pairs)
    assert normalize_dn(spaced) == normalize_dn(dn)


@given(st.text(st.sampled_from("aZé =,+;\\\"\t.-0"), max_size=40))
def test_dn_fast_path_agrees_with_the_full_parser(dn: str) -> None:
    from idsync.filedir.dn import _normalize_rdn

    assert normalize_dn(dn) == ",".join(_normalize_rdn(rdn) for rdn in split_dn(dn))
