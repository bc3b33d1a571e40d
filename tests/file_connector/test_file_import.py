"""Full and delta import through the file connector, on small files each test writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from idsync.connectors.base import (
    ConnectionTester,
    DeltaImporter,
    Exporter,
    FullImporter,
    ImportContext,
    ImportKind,
    MemberDeltaExporter,
)
from idsync.connectors.file import (
    ANCHOR_CONTROL_OID,
    OBJECT_CLASS_CONTROL_OID,
    AddRecord,
    ChangelogTruncatedError,
    Control,
    DeleteRecord,
    FileConnector,
    ModDnRecord,
    Modification,
    ModifyRecord,
    apply_changes,
    create_connector,
    read_ldif,
)
from idsync.errors import ConfigurationError, ConnectivityError, ObjectError

ALICE = "00000000-0000-4000-8000-000000000001"
BOB = "00000000-0000-4000-8000-000000000002"
TEAM = "00000000-0000-4000-8000-000000000003"
TEAM_DN = "cn=Team,dc=contoso,dc=com"
ALICE_DN = "uid=alice,ou=Users,dc=contoso,dc=com"
BOB_DN = "uid=bob,ou=Users,dc=contoso,dc=com"

Make = Callable[..., FileConnector]


def records(batches) -> list:
    return [record for batch in batches for record in batch.records]


def test_capabilities(make_connector: Make, directory: Path) -> None:
    connector = make_connector()
    for capability in (FullImporter, DeltaImporter, Exporter, MemberDeltaExporter,
                       ConnectionTester):
        assert isinstance(connector, capability)
    assert connector.supports_value_deltas()
    assert "member" in connector.reference_attributes()
    connector.test_connection()


def test_full_import_streams_objects_in_batches(make_connector: Make, directory: Path) -> None:
    batches = list(make_connector().full_import(ImportContext(None, batch_size=2)))
    assert [len(b.records) for b in batches] == [2, 2, 0]
    assert [b.watermark for b in batches] == [None, None, {"offset": 0}]
    imported = records(batches)
    # The base entry and the OU map to no object type and are skipped.
    assert [(r.kind, r.anchor, r.object_type) for r in imported] == [
        (ImportKind.FULL, ALICE, "user"), (ImportKind.FULL, BOB, "user"),
        (ImportKind.FULL, TEAM, "group"),
        (ImportKind.FULL, "00000000-0000-4000-8000-000000000004", "contact"),
    ]
    bob = imported[1]
    assert bob.dn == BOB_DN
    assert bob.attributes["manager"] == [ALICE_DN]
    assert bob.attributes["jpegPhoto"] == [b"\xff\xd8\xff"]  # declared binary by default
    assert imported[2].attributes["member"] == [ALICE_DN, BOB_DN]


def test_full_import_watermark_is_the_changelog_size(make_connector: Make,
                                                     directory: Path) -> None:
    apply_changes(directory, [ModifyRecord(ALICE_DN, [Modification("replace", "sn", ["A"])])])
    size = (directory.parent / "dir.changes.ldif").stat().st_size
    batches = list(make_connector().full_import(ImportContext(None)))
    assert batches[-1].watermark == {"offset": size}
    # Nothing new since the full import: the delta import is empty.
    delta = list(make_connector().delta_import(ImportContext(batches[-1].watermark)))
    assert records(delta) == []
    assert delta[-1].watermark == {"offset": size}


def test_attribute_selection(make_connector: Make, directory: Path) -> None:
    context = ImportContext(None, attributes=frozenset({"cn"}))
    bob = records(make_connector().full_import(context))[1]
    assert set(bob.attributes) == {"objectClass", "cn", "entryUUID"}


def test_custom_object_types_and_anchor(make_connector: Make, directory: Path) -> None:
    connector = make_connector(object_types={"groupOfNames": "team"}, anchor_attribute="cn")
    [team] = records(connector.full_import(ImportContext(None)))
    assert (team.object_type, team.anchor) == ("team", "Team")


def test_entries_without_anchor_get_a_stable_dn_based_one(make_connector: Make,
                                                          tmp_path: Path) -> None:
    (tmp_path / "dir.ldif").write_text("dn: cn=x,dc=y\nobjectClass: person\ncn: x\n")
    first = records(make_connector().full_import(ImportContext(None)))
    again = records(make_connector().full_import(ImportContext(None)))
    assert first[0].anchor == again[0].anchor
    assert len(first[0].anchor) == 36


def test_delta_import_of_every_kind(make_connector: Make, directory: Path) -> None:
    watermark = list(make_connector().full_import(ImportContext(None)))[-1].watermark
    outcomes = apply_changes(directory, [
        AddRecord("uid=carol,ou=Users,dc=contoso,dc=com",
                  {"objectClass": ["inetOrgPerson"], "cn": ["Carol"], "sn": ["C"]}),
        AddRecord("ou=Extra,dc=contoso,dc=com", {"objectClass": ["organizationalUnit"]}),
        ModifyRecord(TEAM_DN, [
            Modification("add", "member", ["uid=carol,ou=Users,dc=contoso,dc=com"]),
            Modification("delete", "member", [BOB_DN]),
            Modification("replace", "description", ["the team"]),
        ]),
        ModDnRecord(BOB_DN, "uid=robert", True, "ou=Extra,dc=contoso,dc=com"),
        DeleteRecord(ALICE_DN),
    ])
    carol_anchor = outcomes[0].anchor
    assert carol_anchor and len(carol_anchor) == 36
    batches = list(make_connector().delta_import(ImportContext(watermark, batch_size=100)))
    add, modify, rename, delete = records(batches)  # the OU is not an object: skipped
    assert (add.kind, add.anchor, add.object_type) == (ImportKind.FULL, carol_anchor, "user")
    assert add.attributes["entryUUID"] == [carol_anchor]
    assert (modify.kind, modify.anchor, modify.dn) == (ImportKind.MODIFY, TEAM, TEAM_DN)
    assert modify.value_adds == {"member": ["uid=carol,ou=Users,dc=contoso,dc=com"]}
    assert modify.value_removes == {"member": [BOB_DN]}
    assert modify.attributes == {"description": ["the team"]}
    assert (rename.kind, rename.anchor, rename.dn) == (
        ImportKind.MODIFY, BOB, "uid=robert,ou=Extra,dc=contoso,dc=com")
    assert rename.value_removes == {"uid": ["bob"]}
    assert rename.value_adds == {"uid": ["robert"]}
    assert (delete.kind, delete.anchor, delete.dn) == (ImportKind.DELETE, ALICE, ALICE_DN)
    changes_size = (directory.parent / "dir.changes.ldif").stat().st_size
    assert batches[-1].watermark == {"offset": changes_size}


def test_delta_batches_resume_after_a_partial_run(make_connector: Make,
                                                  directory: Path) -> None:
    apply_changes(directory, [
        ModifyRecord(ALICE_DN, [Modification("replace", "title", [f"t{i}"])]) for i in range(7)
    ])
    connector = make_connector()
    every = records(connector.delta_import(ImportContext(None, batch_size=3)))
    assert [r.attributes["title"] for r in every] == [[f"t{i}"] for i in range(7)]
    # Stage the first batch only, then "crash": the next run starts at its watermark.
    first = next(iter(connector.delta_import(ImportContext(None, batch_size=3))))
    assert len(first.records) == 3
    rest = list(connector.delta_import(ImportContext(first.watermark, batch_size=3)))
    assert [r.attributes["title"] for r in records(rest)] == [[f"t{i}"] for i in range(3, 7)]
    assert [len(b.records) for b in rest] == [3, 1]


def test_delta_sees_changes_appended_later(make_connector: Make, directory: Path) -> None:
    connector = make_connector()
    watermark = list(connector.delta_import(ImportContext(None)))[-1].watermark
    apply_changes(directory, [ModifyRecord(BOB_DN, [Modification("add", "mail", ["b@x"])])])
    [change] = records(connector.delta_import(ImportContext(watermark)))
    assert (change.anchor, change.value_adds) == (BOB, {"mail": ["b@x"]})


def test_hand_written_changelog_without_anchor_control(make_connector: Make,
                                                       directory: Path) -> None:
    changes = directory.parent / "dir.changes.ldif"
    changes.write_text(
        f"dn: {BOB_DN}\nchangetype: modify\ndelete: mail\n-\nadd: mail\nmail: new@x\n-\n"
        "delete: mail\nmail: new@x\n-\nadd: title\ntitle: a\n-\ndelete: title\ntitle: b\n-\n\n"
        "dn: uid=nobody,dc=contoso,dc=com\nchangetype: delete\n\n"
        "dn: uid=ghost,dc=contoso,dc=com\nchangetype: modrdn\nnewrdn: uid=ghost2\n"
        "deleteoldrdn: 1\n"
    )
    modify, unknown, rename = records(make_connector().delta_import(ImportContext(None)))
    assert modify.anchor == BOB  # looked up by DN in the content file
    # Parts fold in order: the whole mail attribute ends empty, title gains a, loses b.
    assert modify.attributes == {"mail": []}
    assert (modify.value_adds, modify.value_removes) == ({"title": ["a"]}, {"title": ["b"]})
    assert (unknown.kind, unknown.anchor) == (ImportKind.DELETE, None)  # reported by DN
    # A rename of an entry we cannot identify: the old DN is reported gone.
    assert (rename.kind, rename.anchor, rename.dn) == (
        ImportKind.DELETE, None, "uid=ghost,dc=contoso,dc=com")


def test_changelog_records_carry_the_anchor_control(directory: Path) -> None:
    apply_changes(directory, [DeleteRecord(BOB_DN)])
    [logged] = read_ldif(directory.parent / "dir.changes.ldif")
    assert logged == DeleteRecord(BOB_DN, [
        Control(ANCHOR_CONTROL_OID, False, BOB),
        Control(OBJECT_CLASS_CONTROL_OID, False, "top inetOrgPerson")])


def test_changes_to_entries_that_are_not_objects_are_skipped(make_connector: Make,
                                                             directory: Path) -> None:
    ou = "ou=Users,dc=contoso,dc=com"
    apply_changes(directory, [
        ModifyRecord(ou, [Modification("replace", "description", ["people"])]),
        ModifyRecord(TEAM_DN, [Modification("replace", "description", ["team"])]),
        ModDnRecord("cn=Partner,dc=contoso,dc=com", "cn=Partner2", True, None),
        AddRecord("ou=Empty,dc=contoso,dc=com", {"objectClass": ["organizationalUnit"]}),
        DeleteRecord("ou=Empty,dc=contoso,dc=com"),
    ])
    changes = records(make_connector().delta_import(ImportContext(None)))
    assert [(r.dn, r.object_type) for r in changes] == [
        (TEAM_DN, "group"), ("cn=Partner2,dc=contoso,dc=com", "contact")]


def test_truncated_changelog_asks_for_a_full_import(make_connector: Make,
                                                    directory: Path) -> None:
    (directory.parent / "dir.changes.ldif").write_text("")
    with pytest.raises(ChangelogTruncatedError, match="full import"):
        list(make_connector().delta_import(ImportContext({"offset": 100})))


def test_missing_changelog_is_no_change(make_connector: Make, directory: Path) -> None:
    batches = list(make_connector().delta_import(ImportContext(None)))
    assert records(batches) == [] and batches[-1].watermark == {"offset": 0}


def test_malformed_record_is_reported_with_its_line(make_connector: Make,
                                                   tmp_path: Path) -> None:
    (tmp_path / "dir.ldif").write_text("dn: cn=a,dc=x\nobjectClass: person\nbroken line\n\n"
                                       "dn: cn=b,dc=x\nobjectClass: person\ncn: b\n")
    batches = list(make_connector().full_import(ImportContext(None)))
    assert [r.dn for r in records(batches)] == ["cn=b,dc=x"]
    [bad] = [u for b in batches for u in b.unreadable]
    assert bad.code == "ldif-record-unreadable" and bad.dn == "cn=a,dc=x"
    assert bad.detail.endswith("dir.ldif, line 3: expected 'attribute: value', got 'broken line'")


def test_missing_content_file(make_connector: Make, tmp_path: Path) -> None:
    connector = make_connector(path="absent.ldif")
    with pytest.raises(ConnectivityError):
        connector.test_connection()
    with pytest.raises(ConnectivityError):
        list(connector.full_import(ImportContext(None)))
    created = make_connector(path="sub/new.ldif", create_if_missing=True)
    created.test_connection()
    assert records(created.full_import(ImportContext(None))) == []


def test_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="path"):
        create_connector("f", {}, {}, str(tmp_path))
    with pytest.raises(ConfigurationError, match="unknown"):
        create_connector("f", {"path": "a", "colour": "blue"}, {}, str(tmp_path))
    with pytest.raises(ConfigurationError, match="object_types"):
        create_connector("f", {"path": "a", "object_types": ["user"]}, {}, str(tmp_path))
    with pytest.raises(ConfigurationError, match="reference_attributes"):
        create_connector("f", {"path": "a", "reference_attributes": "member"}, {},
                         str(tmp_path))
    connector = create_connector("f", {"path": "a.ldif", "changes_path": "/abs/c.ldif",
                                       "export_log": "log.ldif"}, {}, str(tmp_path))
    assert connector.path == str(tmp_path / "a.ldif")
    assert connector.changes_path == "/abs/c.ldif"
    assert connector.export_log == str(tmp_path / "log.ldif")


def test_apply_changes_strict_reports_refusals(directory: Path) -> None:
    with pytest.raises(ObjectError) as info:
        apply_changes(directory, [DeleteRecord("cn=nope,dc=contoso,dc=com"),
                                  DeleteRecord(BOB_DN)])
    assert info.value.code == "no-such-object"
    assert f"dn: {BOB_DN}" not in directory.read_text()  # the good change was applied
    outcomes = apply_changes(directory, [DeleteRecord(BOB_DN)], strict=False)
    assert (outcomes[0].ok, outcomes[0].error_code) == (False, "no-such-object")
