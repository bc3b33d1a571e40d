"""Unit tests of the connector's pure logic on synthetic data: ranged retrieval, accesslog
reqMod parsing, chunking of member changes, the DirSync control, AD GUIDs and extended DNs,
DirSync result records, scope."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder

import ldap
from idsync.connectors.base import ImportKind
from idsync.connectors.ldap.ad.extended_dn import parse_extended_dn
from idsync.connectors.ldap.ad.flavor import ActiveDirectoryFlavor
from idsync.connectors.ldap.ad.guid import guid_filter_value, guid_to_str, str_to_guid
from idsync.connectors.ldap.change_detection.accesslog import parse_req_mods
from idsync.connectors.ldap.change_detection.dirsync import dirsync_record
from idsync.connectors.ldap.controls.dirsync import (
    INCREMENTAL_VALUES,
    DirSyncRequestControl,
    DirSyncResponseControl,
    _ResponseValue,
)
from idsync.connectors.ldap.export import chunk_mods
from idsync.connectors.ldap.flavor import OpenLdapFlavor
from idsync.connectors.ldap.ranged import RangeError, complete_ranges, parse_range
from idsync.connectors.ldap.reader import DirectoryReader
from idsync.connectors.ldap.scope import Scope, is_under
from idsync.connectors.ldap.settings import parse_settings

# --- ranged retrieval -------------------------------------------------------------------------


def fake_server(values: list[bytes], step: int):  # type: ignore[no-untyped-def]
    """Answers like AD: at most ``step`` values, named member;range=lo-hi or lo-*."""
    calls: list[str] = []

    def answer(lo: int) -> dict[str, list[bytes]]:
        chunk = values[lo:lo + step]
        last = lo + len(chunk) >= len(values)
        hi = "*" if last else str(lo + len(chunk) - 1)
        return {f"member;range={lo}-{hi}": chunk}

    def fetch(dn: str, attribute: str) -> dict[str, list[bytes]]:
        calls.append(attribute)
        name, lo, hi = parse_range(attribute)  # type: ignore[misc]
        assert name == "member" and hi in (None, lo + step - 1)
        return answer(lo)

    return answer, fetch, calls


def test_parse_range() -> None:
    assert parse_range("member;range=0-1499") == ("member", 0, 1499)
    assert parse_range("member;range=1500-*") == ("member", 1500, None)
    assert parse_range("Member;Range=3-5") == ("Member", 3, 5)
    assert parse_range("member") is None
    assert parse_range("userCertificate;binary") is None


@pytest.mark.parametrize("window", [None, 1500])
@pytest.mark.parametrize("total", [0, 1, 1499, 1500, 1501, 4500, 250_000])
def test_range_loop_reads_every_value(total: int, window: int | None) -> None:
    values = [f"cn=u{i},dc=x".encode() for i in range(total)]
    answer, fetch, calls = fake_server(values, 1500)
    first = {"cn": [b"g"], **answer(0)}
    out = complete_ranges("cn=g,dc=x", first, fetch, step=window)
    assert out["member"] == values and out["cn"] == [b"g"]
    assert len(calls) == max(0, -(-total // 1500) - 1)


def test_range_gap_is_an_error_not_a_short_group() -> None:
    def fetch(dn: str, attribute: str) -> dict[str, list[bytes]]:
        return {"member;range=2000-*": [b"x"]}

    with pytest.raises(RangeError):
        complete_ranges("cn=g", {"member;range=0-1499": [b"a"]}, fetch)


def test_range_shrunk_meanwhile_stops_cleanly() -> None:
    out = complete_ranges("cn=g", {"member;range=0-1": [b"a", b"b"]}, lambda dn, a: {})
    assert out == {"member": [b"a", b"b"]}


# --- accesslog reqMod -------------------------------------------------------------------------


def test_req_mods_to_value_changes() -> None:
    changes = parse_req_mods([
        "member:+ uid=a,dc=x", "member:- uid=b,dc=x", "title:= Boss", "mail:-",
        "modifyTimestamp:= 20261125000000Z", "entryCSN:= x", "description:=",
        "telephoneNumber:- 555",
    ])
    assert changes.adds == {"member": ["uid=a,dc=x"]}
    assert changes.removes == {"member": ["uid=b,dc=x"], "telephoneNumber": ["555"]}
    assert changes.replaced == {"title": ["Boss"], "mail": [], "description": []}


def test_req_mods_add_then_remove_cancels() -> None:
    changes = parse_req_mods(["member:+ uid=a,dc=x", "member:- uid=a,dc=x"])
    assert changes.adds == {} and changes.removes == {}


# --- export chunking --------------------------------------------------------------------------


@settings(deadline=None, max_examples=60)  # big value lists; no timing flakes on a busy box
@given(st.lists(st.tuples(st.sampled_from([ldap.MOD_ADD, ldap.MOD_DELETE, ldap.MOD_REPLACE]),
                          st.sampled_from(["member", "title"]),
                          st.integers(min_value=0, max_value=12000)), max_size=6),
       st.integers(min_value=1, max_value=5000))
def test_chunks_keep_every_value_and_respect_the_limit(spec, limit) -> None:  # type: ignore[no-untyped-def]
    mods = [(op, attr, [str(i).encode() for i in range(n)] or None) for op, attr, n in spec]
    requests = chunk_mods(mods, limit)
    assert all(sum(max(1, len(v or [])) for _, _, v in r) <= max(limit, 1) or len(r) == 1
               for r in requests)
    flat = [m for r in requests for m in r]
    for op, attr, values in mods:
        if op == ldap.MOD_REPLACE or not values:
            assert (op, attr, values) in flat
    joined: dict[tuple[int, str], list[bytes]] = {}
    for op, attr, values in flat:
        if op != ldap.MOD_REPLACE and values:
            joined.setdefault((op, attr), []).extend(values)
    expected: dict[tuple[int, str], list[bytes]] = {}
    for op, attr, values in mods:
        if op != ldap.MOD_REPLACE and values:
            expected.setdefault((op, attr), []).extend(values)
    assert joined == expected


def test_chunk_sizes_for_12000_adds() -> None:
    mods = [(ldap.MOD_ADD, "member", [b"x"] * 12000)]
    assert [len(r[0][2]) for r in chunk_mods(mods, 5000)] == [5000, 5000, 2000]


# --- DirSync control ----------------------------------------------------------------------------


def test_dirsync_request_encoding() -> None:
    value = DirSyncRequestControl(cookie=b"abc", flags=INCREMENTAL_VALUES).encodeControlValue()
    decoded, rest = decoder.decode(value)
    assert rest == b""
    assert int(decoded[0]) == -(1 << 31)  # the flags as Windows' signed 32-bit integer
    assert int(decoded[1]) == 0x7FFFFFFF and bytes(decoded[2]) == b"abc"
    assert value[2:8] == bytes([0x02, 0x04, 0x80, 0x00, 0x00, 0x00])  # 4 bytes, not 5


def test_dirsync_response_decoding() -> None:
    value = _ResponseValue()
    value["moreResults"] = 1
    value["unused"] = 0
    value["cookie"] = b"\x01\x02" * 100
    control = DirSyncResponseControl(encodedControlValue=bytes(encoder.encode(value)))
    assert control.more_results and control.cookie == b"\x01\x02" * 100


# --- AD GUIDs and extended DNs -------------------------------------------------------------------


def test_object_guid_round_trip() -> None:
    raw = bytes(range(16))
    text = guid_to_str(raw)
    assert text == "03020100-0504-0706-0809-0a0b0c0d0e0f"  # Windows' mixed-endian layout
    assert str_to_guid("{" + text + "}") == raw
    assert guid_filter_value(text) == "".join(f"\\{b:02x}" for b in raw)


def test_extended_dn() -> None:
    guid = uuid.UUID("03020100-0504-0706-0809-0a0b0c0d0e0f")
    hex_form = guid.bytes_le.hex()
    assert parse_extended_dn(f"<GUID={hex_form}>;<SID=010500>;CN=Ann,DC=x") == (
        "CN=Ann,DC=x", str(guid))
    assert parse_extended_dn(f"<GUID={guid}>;CN=Ann,DC=x") == ("CN=Ann,DC=x", str(guid))
    assert parse_extended_dn("CN=Ann,DC=x") == ("CN=Ann,DC=x", None)


def ad_reader() -> DirectoryReader:
    settings = parse_settings({"uri": "ldap://dc", "bind_dn": "a", "base": "DC=corp,DC=test"})
    return DirectoryReader(conn=None, settings=settings, flavor=ActiveDirectoryFlavor())


def test_dirsync_records_from_synthetic_replies() -> None:
    reader = ad_reader()
    guid = uuid.uuid4()
    changed = dirsync_record(reader, "CN=Staff,OU=G,DC=corp,DC=test", {
        "objectGUID": [guid.bytes_le], "instanceType": [b"4"], "description": [b"d"],
        "member;range=1-1": [b"<GUID=00>;CN=A,DC=corp,DC=test"],
        "member;range=0-0": [b"CN=B,DC=corp,DC=test"]})
    assert changed is not None and changed.kind == ImportKind.MODIFY
    assert changed.anchor == str(guid)
    assert changed.value_adds == {"member": ["CN=A,DC=corp,DC=test"]}
    assert changed.value_removes == {"member": ["CN=B,DC=corp,DC=test"]}
    assert changed.attributes == {"description": ["d"]}
    gone = dirsync_record(reader, "CN=X\\0ADEL:1,CN=Deleted Objects,DC=corp,DC=test",
                          {"objectGUID": [guid.bytes_le], "isDeleted": [b"TRUE"]})
    assert gone is not None and (gone.kind, gone.anchor) == (ImportKind.DELETE, str(guid))
    new = dirsync_record(reader, "CN=New,OU=U,DC=corp,DC=test", {
        "objectGUID": [guid.bytes_le], "objectClass": [b"top", b"person", b"user"],
        "sAMAccountName": [b"new"]})
    assert new is not None and (new.kind, new.object_type) == (ImportKind.FULL, "user")
    computer = dirsync_record(reader, "CN=PC,OU=U,DC=corp,DC=test", {
        "objectGUID": [guid.bytes_le], "objectClass": [b"top", b"user", b"computer"]})
    assert computer is None


# --- scope ----------------------------------------------------------------------------------


def test_scope_include_exclude_and_dn_spelling() -> None:
    settings = parse_settings({"uri": "ldap://x", "bind_dn": "", "base": "dc=Example,dc=com",
                               "include_containers": ["OU=People, DC=example,DC=com"],
                               "exclude_containers": ["ou=Sales,ou=people,dc=example,dc=com"]})
    scope = Scope(settings)
    assert scope.contains_dn("uid=a,ou=HR,ou=People,dc=example,dc=com")
    assert not scope.contains_dn("uid=a,ou=Sales,ou=People,dc=example,dc=com")
    assert not scope.contains_dn("cn=g,ou=Groups,dc=example,dc=com")
    assert is_under("dc=example,dc=com", "dc=example,dc=com")
    assert not is_under("dc=com", "dc=example,dc=com")
    assert scope.object_type([b"top", b"inetOrgPerson"]) == "user"
    assert scope.object_type(["groupOfNames"]) == "group"
    assert scope.object_type(["device"]) is None


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(("settings", "message"), [
    ({"uri": "http://x", "base": "dc=x"}, "uri"),
    ({"uri": "ldap://x"}, "partitions"),
    ({"uri": "ldap://x", "base": "dc=x", "change_detection": "magic"}, "change_detection"),
    ({"uri": "ldap://x", "base": "dc=x", "max_values_per_request": 6000}, "5000"),
    ({"uri": "ldap://x", "base": "dc=x", "tls_insecure": True}, "always verified"),
    ({"uri": "ldap://x", "base": "dc=x", "object_types": []}, "object_types"),
])
def test_bad_settings_are_refused(settings: dict, message: str) -> None:  # type: ignore[type-arg]
    from idsync.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=message):
        parse_settings(settings)


def test_records_decode_text_and_keep_binary_values() -> None:
    settings = parse_settings({"uri": "ldap://x", "bind_dn": "", "base": "dc=x"})
    reader = DirectoryReader(conn=None, settings=settings, flavor=OpenLdapFlavor())
    record = reader.to_record("uid=a,dc=x", {
        "objectClass": [b"inetOrgPerson"], "entryUUID": [b"0b6c1c0e-0000-1000-8000-000000000001"],
        "cn": ["Zoë".encode()], "jpegPhoto": [b"\xff\xd8\xff"], "audio": [b"\xff\xfe", b"ok"]})
    assert record is not None and record.anchor == "0b6c1c0e-0000-1000-8000-000000000001"
    assert record.attributes["cn"] == ["Zoë"]
    assert record.attributes["jpegPhoto"] == [b"\xff\xd8\xff"]
    assert record.attributes["audio"] == [b"\xff\xfe", "ok"]  # undeclared binary stays bytes
