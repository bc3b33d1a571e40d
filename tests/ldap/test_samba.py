"""Active Directory behaviour on a real Samba AD DC: objectGUID anchors, DirSync delta import
with member value deltas and tombstones, ranged retrieval with a forced range loop, uSNChanged."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import ldap.modlist
import pytest
from tests.ldap.helpers import delta, full, records

import ldap
from idsync.connectors.base import ImportKind, ImportRecord
from idsync.connectors.ldap import LdapConnector, create_connector
from idsync.connectors.ldap.ad.guid import guid_to_str
from idsync.connectors.ldap.reader import DirectoryReader
from idsync.lab.samba import SambaDC

pytestmark = pytest.mark.samba


class Ou:
    """A fresh OU with a few users and a group, made by the test itself."""

    def __init__(self, dc: SambaDC, users: int = 3) -> None:
        self.dc = dc
        self.conn = dc.connect()
        self.dn = f"OU=t{uuid.uuid4().hex[:10]},{dc.base_dn}"
        self.conn.add_s(self.dn, [("objectClass", [b"organizationalUnit"])])
        self.users = [self.add_user(f"u{i}") for i in range(users)]

    def add_user(self, name: str, **attrs: bytes) -> str:
        dn = f"CN={name},{self.dn}"
        sam = f"{name}{uuid.uuid4().hex[:6]}"
        entry = {"objectClass": [b"user"], "sAMAccountName": [sam.encode()],
                 **{k: [v] for k, v in attrs.items()}}
        self.conn.add_s(dn, ldap.modlist.addModlist(entry))
        return dn

    def add_group(self, name: str, members: list[str]) -> str:
        dn = f"CN={name},{self.dn}"
        entry = [("objectClass", [b"group"]),
                 ("sAMAccountName", [f"{name}{uuid.uuid4().hex[:6]}".encode()])]
        if members:
            entry.append(("member", [m.encode() for m in members]))
        self.conn.add_s(dn, entry)
        return dn

    def guid(self, dn: str) -> str:
        ((_, attrs),) = self.conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)",
                                           ["objectGUID"])
        return guid_to_str(attrs["objectGUID"][0])

    def connector(self, **settings: object) -> LdapConnector:
        return create_connector("ad", self.dc.connector_settings(
            include_containers=[self.dn], **settings), {"password": self.dc.password}, "/x")


@pytest.fixture
def ou(samba_dc: SambaDC) -> Iterator[Ou]:
    made = Ou(samba_dc, users=4)
    yield made
    made.conn.unbind_s()


def by_anchor(got: list[ImportRecord]) -> dict[str | None, list[ImportRecord]]:
    out: dict[str | None, list[ImportRecord]] = {}
    for r in got:
        out.setdefault(r.anchor, []).append(r)
    return out


def test_full_import_anchors_are_object_guids(ou: Ou) -> None:
    group = ou.add_group("staff", ou.users[:2])
    pc = f"pc{uuid.uuid4().hex[:8]}"  # sAMAccountName is unique in the whole domain
    ou.conn.add_s(f"CN={pc},{ou.dn}", [("objectClass", [b"computer"]),
                                       ("sAMAccountName", [f"{pc}$".encode()])])
    conn = ou.connector()
    assert conn.directory_type() == "ad"
    got = {r.dn: r for r in records(full(conn))}
    assert set(got) == {*ou.users, group}  # the computer (also a "user") is left out
    for dn, record in got.items():
        assert record.anchor == ou.guid(dn)
        # the anchor attribute is kept too (binary), for the rules that read it
        assert guid_to_str(record.attributes["objectGUID"][0]) == record.anchor
    assert got[group].object_type == "group"
    assert sorted(got[group].attributes["member"]) == sorted(ou.users[:2])
    assert isinstance(got[ou.users[0]].attributes["objectSid"][0], bytes)


def test_ranged_retrieval_loops_until_the_last_range(ou: Ou, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    members = [ou.add_user(f"m{i}") for i in range(230)]
    group = ou.add_group("big", members)
    calls: list[str] = []
    original = DirectoryReader._fetch_range

    def spy(self: DirectoryReader, dn: str, attribute: str) -> dict[str, list[bytes]]:
        calls.append(attribute)
        return original(self, dn, attribute)

    monkeypatch.setattr(DirectoryReader, "_fetch_range", spy)
    conn = ou.connector(range_step=50, attributes=["cn", "member"])
    (record,) = [r for r in records(full(conn)) if r.dn == group]
    assert sorted(record.attributes["member"]) == sorted(members)
    assert calls == [f"member;range={lo}-{lo + 49}" for lo in range(50, 250, 50)]


@pytest.mark.parametrize("attributes", [None, ["cn", "title", "member"]])
def test_dirsync_delta_has_member_value_deltas_and_deletes(
        ou: Ou, attributes: list[str] | None) -> None:
    group = ou.add_group("staff", ou.users[:2])
    conn = ou.connector(**({"attributes": attributes} if attributes else {}))
    assert conn.change_detector().name == "dirsync"
    watermark = full(conn)[-1].watermark
    anchors = {dn: ou.guid(dn) for dn in [*ou.users, group]}
    new_user = ou.add_user("fresh", title=b"New")
    ou.conn.modify_s(ou.users[0], [(ldap.MOD_REPLACE, "title", [b"Chief"])])
    ou.conn.modify_s(group, [(ldap.MOD_ADD, "member", [ou.users[2].encode()]),
                             (ldap.MOD_DELETE, "member", [ou.users[1].encode()])])
    ou.conn.modify_s(ou.users[3], [(ldap.MOD_REPLACE, "title", [b"Only"])])
    ou.conn.rename_s(ou.users[0], "CN=chief", None, delold=1)
    ou.conn.rename_s(ou.users[1], "CN=renamed", None, delold=1)
    ou.conn.delete_s(f"CN=renamed,{ou.dn}")
    batches = delta(conn, watermark)  # type: ignore[arg-type]
    got = by_anchor(records(batches))
    assert batches[-1].watermark and batches[-1].watermark["strategy"] == "dirsync"
    (grp,) = got[anchors[group]]
    assert grp.kind == ImportKind.MODIFY
    assert grp.value_adds == {"member": [ou.users[2]]}
    # the removal names the member's DN as it was when removed
    assert grp.value_removes == {"member": [ou.users[1]]}
    (chief,) = got[anchors[ou.users[0]]]
    # modified and renamed: a rename comes whole (it might have entered the scope)
    assert chief.kind == ImportKind.FULL and chief.attributes["title"] == ["Chief"]
    assert chief.dn == f"CN=chief,{ou.dn}"
    (bob,) = got[anchors[ou.users[3]]]
    assert bob.kind == ImportKind.MODIFY and bob.attributes["title"] == ["Only"]
    assert [r.kind for r in got[anchors[ou.users[1]]]] == [ImportKind.DELETE]
    fresh = [r for r in records(batches) if r.dn == new_user]
    assert fresh and fresh[0].kind == ImportKind.FULL and fresh[0].attributes["title"] == ["New"]
    assert fresh[0].anchor == ou.guid(new_user)
    assert anchors[ou.users[2]] not in got
    again = records(delta(conn, batches[-1].watermark))  # type: ignore[arg-type]
    assert not [r for r in again if r.anchor in anchors.values()]


def test_usn_fallback_sees_changes_and_tombstones(ou: Ou) -> None:
    conn = ou.connector(change_detection="usn")
    watermark = full(conn)[-1].watermark
    anchors = {dn: ou.guid(dn) for dn in ou.users}
    ou.conn.modify_s(ou.users[0], [(ldap.MOD_REPLACE, "title", [b"Chief"])])
    ou.conn.delete_s(ou.users[2])
    got = by_anchor(records(delta(conn, watermark)))  # type: ignore[arg-type]
    assert got[anchors[ou.users[0]]][0].attributes["title"] == ["Chief"]
    assert ImportKind.DELETE in [r.kind for r in got[anchors[ou.users[2]]]]
    assert anchors[ou.users[1]] not in got


def test_dirsync_move_into_scope_comes_whole(ou: Ou) -> None:
    outside = Ou(ou.dc, users=0)
    mover = outside.add_user("wanderer")
    conn = ou.connector()
    watermark = full(conn)[-1].watermark
    anchor = ou.guid(mover)
    ou.conn.rename_s(mover, mover.split(",")[0], ou.dn, delold=1)
    got = by_anchor(records(delta(conn, watermark)))  # type: ignore[arg-type]
    (record,) = got[anchor]
    assert record.kind == ImportKind.FULL and record.object_type == "user"
    assert record.dn == f"{mover.split(',')[0]},{ou.dn}"
    assert record.attributes["sAMAccountName"]
