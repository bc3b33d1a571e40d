"""Full import on a real slapd: paging, scope, object types, anchors, a 100,000-member group."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.ldap.helpers import connector, full, person, records

from idsync.connectors.base import ImportContext, ImportKind
from idsync.lab.ldapdata import DirectoryShape, big_group_dn, generate
from idsync.lab.slapd import SlapdServer

pytestmark = pytest.mark.slapd


@pytest.fixture
def tree(slapd_factory) -> SlapdServer:  # type: ignore[no-untyped-def]
    return slapd_factory(ldif="".join(generate(DirectoryShape(users=120, groups=6))))


def test_paged_full_import_reads_everything_once_in_batches(tree: SlapdServer) -> None:
    conn = connector(tree, page_size=7)
    batches = full(conn, batch_size=25)
    got = records(batches)
    users = [r for r in got if r.object_type == "user"]
    groups = [r for r in got if r.object_type == "group"]
    assert len(users) == 120 and len(groups) == 6
    assert all(len(b.records) <= 25 for b in batches)
    assert [b.watermark is not None for b in batches] == [False] * (len(batches) - 1) + [True]
    # anchors are the server's entryUUIDs
    uuids = {a["entryUUID"][0].decode() for _, a in
             tree.search(tree.base_dn, "(objectClass=inetOrgPerson)", attrs=["entryUUID"])}
    assert {r.anchor for r in users} == uuids
    assert all(r.kind == ImportKind.FULL for r in got)
    sample = next(r for r in users if r.dn.startswith("uid=u0000001,"))
    assert sample.attributes["uid"] == ["u0000001"]
    assert "memberOf" in sample.attributes or not any(
        sample.dn in g.attributes["member"] for g in groups)
    total_members = sum(len(g.attributes["member"]) for g in groups)
    assert total_members == sum(len(a["member"]) for _, a in tree.search(
        tree.base_dn, "(objectClass=groupOfNames)", attrs=["member"]))


def test_include_and_exclude_containers(tree: SlapdServer) -> None:
    people = f"ou=People,{tree.base_dn}"
    conn = connector(tree, include_containers=[people],
                     exclude_containers=[f"ou=Sales,{people}"])
    got = records(full(conn))
    assert got and all(r.object_type == "user" for r in got)
    assert not any(",ou=Sales," in r.dn for r in got)
    expected = [dn for dn, _ in tree.search(people, "(objectClass=inetOrgPerson)", attrs=["1.1"])
                if ",ou=Sales," not in dn]
    assert sorted(r.dn for r in got) == sorted(expected)


def test_object_type_mapping_and_requested_attributes(slapd: SlapdServer) -> None:
    slapd.add(f"uid=ann,ou=People,{slapd.base_dn}", person("ann", title="CEO", mail="a@x.org"))
    slapd.add(f"cn=ops,ou=Groups,{slapd.base_dn}",
              {"objectClass": "groupOfNames", "cn": "ops",
               "member": f"uid=ann,ou=People,{slapd.base_dn}"})
    slapd.add(f"cn=printer,ou=People,{slapd.base_dn}",
              {"objectClass": "device", "cn": "printer"})
    conn = connector(slapd, object_types={"person": ["inetOrgPerson"], "team": ["groupOfNames"]})
    context = ImportContext(watermark=None, attributes=frozenset({"mail"}))
    got = {r.dn.split(",")[0]: r for r in records(list(conn.full_import(context)))}
    assert set(got) == {"uid=ann", "cn=ops"}
    assert got["uid=ann"].object_type == "person"
    assert got["uid=ann"].attributes["mail"] == ["a@x.org"]
    assert "title" not in got["uid=ann"].attributes
    assert got["cn=ops"].object_type == "team"


# --- a group of 100,000 members, bulk-loaded by slapadd ------------------------------------

BIG = 100_000


@pytest.fixture(scope="module")
def big_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlapdServer]:
    server = SlapdServer(workdir=str(tmp_path_factory.mktemp("slapd-big")))
    server.init()
    shape = DirectoryShape(users=BIG, groups=0, big_group=BIG, minimal=True)
    path = server.dir / "big.ldif"
    with path.open("w", encoding="utf-8") as out:
        out.writelines(generate(shape))
    server.slapadd(path)
    server.start()
    yield server
    server.close()


def test_group_of_100k_members_is_read_completely(big_directory: SlapdServer) -> None:
    shape = DirectoryShape(users=BIG, big_group=BIG)
    conn = connector(big_directory, include_containers=[f"ou=Groups,{big_directory.base_dn}"])
    (group,) = records(full(conn))
    assert group.dn == big_group_dn(shape)
    members = group.attributes["member"]
    assert len(members) == BIG
    assert len(set(members)) == BIG
    assert members[0].startswith("uid=u0000001,") or "uid=u0000001,ou=" in "".join(members[:10])
