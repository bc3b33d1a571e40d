"""Export through the file connector: the content file is checked after every kind."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from idsync.connectors.base import ExportChange, ExportRef, ImportContext, ImportKind
from idsync.connectors.file import (
    AddRecord,
    ContentRecord,
    FileConnector,
    ModifyRecord,
    read_ldif,
)
from idsync.model import ExportKind

Make = Callable[..., FileConnector]
ALICE_DN = "uid=alice,ou=Users,dc=contoso,dc=com"
BOB_DN = "uid=bob,ou=Users,dc=contoso,dc=com"
TEAM_DN = "cn=Team,dc=contoso,dc=com"


def entries(path: Path) -> dict[str, dict]:
    found = {}
    for record in read_ldif(path, binary_attributes=["jpegPhoto"]):
        assert isinstance(record, ContentRecord)
        found[record.dn] = record.attributes
    return found


def export(connector: FileConnector, *changes: ExportChange) -> dict:
    return {result.cs_id: result for result in connector.export(list(changes))}


def test_add_gets_an_anchor_and_an_object_class(make_connector: Make, directory: Path) -> None:
    connector = make_connector()
    results = export(connector, ExportChange(
        1, ExportKind.ADD, "uid=carol,ou=Users,dc=contoso,dc=com", "user",
        attributes={"cn": ["Carol"], "manager": [ExportRef(ALICE_DN, "a-1")],
                    "jpegPhoto": [b"\x00\x01"]}))
    assert results[1].ok and results[1].dn == "uid=carol,ou=Users,dc=contoso,dc=com"
    carol = entries(directory)["uid=carol,ou=Users,dc=contoso,dc=com"]
    assert carol["entryUUID"] == [results[1].anchor]
    assert carol["objectClass"] == ["inetOrgPerson"]  # from the object type
    assert carol["manager"] == [ALICE_DN]  # references are written as their DN
    assert carol["uid"] == ["carol"]  # the RDN value is part of the entry
    assert carol["jpegPhoto"] == [b"\x00\x01"]
    # The next import confirms the export with the same anchor.
    imported = {r.dn: r for b in connector.full_import(ImportContext(None)) for r in b.records}
    assert imported["uid=carol,ou=Users,dc=contoso,dc=com"].anchor == results[1].anchor


def test_modify_with_value_deltas_and_replacements(make_connector: Make,
                                                   directory: Path) -> None:
    results = export(make_connector(), ExportChange(
        1, ExportKind.MODIFY, TEAM_DN, "group",
        attributes={"description": ["new"], "cn": ["Team"]},
        value_adds={"member": [ExportRef("uid=carol,ou=Users,dc=contoso,dc=com"),
                               ExportRef("UID=Alice, ou=Users,dc=contoso,dc=com")]},
        value_removes={"member": [ExportRef(BOB_DN), ExportRef("uid=absent,dc=x")]}))
    assert results[1].ok
    team = entries(directory)[TEAM_DN]
    # Adding a present member (any DN spelling) and removing an absent one are no-ops.
    assert team["member"] == [ALICE_DN, "uid=carol,ou=Users,dc=contoso,dc=com"]
    assert team["description"] == ["new"]


def test_replace_with_nothing_removes_the_attribute(make_connector: Make,
                                                    directory: Path) -> None:
    assert export(make_connector(), ExportChange(
        1, ExportKind.MODIFY, BOB_DN, "user", attributes={"manager": []}))[1].ok
    assert "manager" not in entries(directory)[BOB_DN]


def test_rename_and_move_keeps_anchor_and_position(make_connector: Make,
                                                   directory: Path) -> None:
    before = list(entries(directory))
    results = export(make_connector(), ExportChange(
        1, ExportKind.RENAME, BOB_DN, "user", new_dn="uid=robert,ou=Staff,dc=contoso,dc=com",
        attributes={"cn": ["Robert Baker"]}))
    assert results[1].ok
    assert results[1].dn == "uid=robert,ou=Staff,dc=contoso,dc=com"
    after = entries(directory)
    assert list(after) == [dn if dn != BOB_DN else "uid=robert,ou=Staff,dc=contoso,dc=com"
                           for dn in before]
    robert = after["uid=robert,ou=Staff,dc=contoso,dc=com"]
    assert robert["uid"] == ["robert"] and robert["cn"] == ["Robert Baker"]
    assert robert["entryUUID"] == ["00000000-0000-4000-8000-000000000002"]


def test_delete(make_connector: Make, directory: Path) -> None:
    assert export(make_connector(), ExportChange(1, ExportKind.DELETE, BOB_DN, "user"))[1].ok
    assert BOB_DN not in entries(directory)
    assert TEAM_DN in entries(directory)


def test_errors_are_per_object(make_connector: Make, directory: Path) -> None:
    original = directory.read_bytes()
    results = export(
        make_connector(),
        ExportChange(1, ExportKind.MODIFY, "uid=ghost,dc=contoso,dc=com", "user",
                     attributes={"cn": ["x"]}),
        ExportChange(2, ExportKind.ADD, BOB_DN, "user", attributes={"cn": ["again"]}),
        ExportChange(3, ExportKind.RENAME, ALICE_DN, "user", new_dn=BOB_DN),
        ExportChange(4, ExportKind.DELETE, "uid=ghost,dc=contoso,dc=com", "user"),
        ExportChange(5, ExportKind.MODIFY, BOB_DN, "user", attributes={"bad name": ["x"]}),
        ExportChange(6, ExportKind.MODIFY, "not a dn", "user"),
        ExportChange(7, ExportKind.MODIFY, BOB_DN, "user",
                     attributes={"entryUUID": ["forged"]}),
        ExportChange(8, ExportKind.RENAME, ALICE_DN, "user"),
    )
    assert {k: r.error_code for k, r in results.items()} == {
        1: "no-such-object", 2: "entry-already-exists", 3: "entry-already-exists",
        4: "no-such-object", 5: "undefined-attribute-type", 6: "invalid-dn-syntax",
        7: "constraint-violation", 8: "invalid-dn-syntax"}
    assert not any(r.ok for r in results.values())
    assert directory.read_bytes() == original  # nothing applied, nothing rewritten


def test_a_failed_change_does_not_stop_the_others(make_connector: Make,
                                                  directory: Path) -> None:
    results = export(
        make_connector(),
        ExportChange(1, ExportKind.DELETE, "uid=ghost,dc=contoso,dc=com", "user"),
        ExportChange(2, ExportKind.MODIFY, BOB_DN, "user", attributes={"title": ["Boss"]}))
    assert (results[1].ok, results[2].ok) == (False, True)
    assert entries(directory)[BOB_DN]["title"] == ["Boss"]


def test_changes_in_one_call_see_each_other(make_connector: Make, directory: Path) -> None:
    results = export(
        make_connector(),
        ExportChange(1, ExportKind.ADD, "cn=New,dc=contoso,dc=com", "group",
                     attributes={"member": [ExportRef(ALICE_DN)]}),
        ExportChange(2, ExportKind.MODIFY, "cn=New,dc=contoso,dc=com", "group",
                     value_adds={"member": [ExportRef(BOB_DN)]}),
        ExportChange(3, ExportKind.RENAME, ALICE_DN, "user",
                     new_dn="uid=alicia,ou=Users,dc=contoso,dc=com"),
        ExportChange(4, ExportKind.ADD, ALICE_DN, "user", attributes={"cn": ["Second"]}),
        ExportChange(5, ExportKind.DELETE, "cn=New,dc=contoso,dc=com", "group"),
        ExportChange(6, ExportKind.ADD, "cn=New,dc=contoso,dc=com", "group",
                     attributes={"member": [ExportRef(BOB_DN)]}),
    )
    assert all(r.ok for r in results.values()), results
    after = entries(directory)
    assert after["cn=New,dc=contoso,dc=com"]["member"] == [BOB_DN]
    assert after["cn=New,dc=contoso,dc=com"]["entryUUID"] == [results[6].anchor]
    assert results[6].anchor != results[1].anchor
    assert after["uid=alicia,ou=Users,dc=contoso,dc=com"]["entryUUID"] == [
        "00000000-0000-4000-8000-000000000001"]
    assert after[ALICE_DN]["cn"] == ["Second"]


def test_export_log_holds_the_applied_changes(make_connector: Make, directory: Path) -> None:
    connector = make_connector(export_log="exports.ldif")
    export(connector,
           ExportChange(1, ExportKind.ADD, "cn=X,dc=contoso,dc=com", "contact"),
           ExportChange(2, ExportKind.DELETE, "uid=ghost,dc=contoso,dc=com", "user"),
           ExportChange(3, ExportKind.MODIFY, BOB_DN, "user", value_adds={"mail": ["b@x"]}))
    logged = list(read_ldif(directory.parent / "exports.ldif"))
    assert [type(r) for r in logged] == [AddRecord, ModifyRecord]
    assert logged[0].attributes["objectClass"] == ["contact"]
    # The export log is itself a changelog a delta import can read.
    target = make_connector(changes_path="exports.ldif")
    kinds = [r.kind for b in target.delta_import(ImportContext(None)) for r in b.records]
    assert kinds == [ImportKind.FULL, ImportKind.MODIFY]


def test_rewrite_is_atomic_and_leaves_no_temp_files(make_connector: Make,
                                                    directory: Path) -> None:
    inode = directory.stat().st_ino
    export(make_connector(), ExportChange(1, ExportKind.DELETE, BOB_DN, "user"))
    assert directory.stat().st_ino != inode  # replaced, not edited in place
    assert sorted(os.listdir(directory.parent)) == ["dir.ldif", "dir.ldif.lock"]


def test_untouched_records_are_copied_byte_for_byte(make_connector: Make,
                                                    directory: Path) -> None:
    directory.write_text(directory.read_text().replace(
        "cn: Partner\n", "# a comment kept\ncn: Partner\ndescription: folded\n  value\n"))
    export(make_connector(), ExportChange(1, ExportKind.DELETE, BOB_DN, "user"))
    assert "# a comment kept\ncn: Partner\ndescription: folded\n  value\n" in (
        directory.read_text())


def test_export_to_an_empty_target(make_connector: Make, tmp_path: Path) -> None:
    connector = make_connector(path="target.ldif", create_if_missing=True)
    results = export(connector, *[
        ExportChange(i, ExportKind.ADD, f"uid=u{i},ou=Users,dc=t", "user",
                     attributes={"cn": [f"U {i}"]}) for i in range(5)])
    assert all(r.ok for r in results.values())
    imported = [r for b in connector.full_import(ImportContext(None)) for r in b.records]
    assert sorted(r.anchor for r in imported) == sorted(r.anchor for r in results.values())


def test_memory_follows_the_changes_not_the_file(make_connector: Make, tmp_path: Path) -> None:
    path = tmp_path / "dir.ldif"
    # Few, large entries: the file is big, the run stays fast under tracemalloc.
    filler = "x" * 70 + "\n " + "y" * 8000
    with open(path, "w") as out:
        for i in range(2_000):
            out.write(f"dn: uid=u{i},dc=x\nobjectClass: person\nuid: u{i}\n"
                      f"description: {filler}\nentryUUID: id-{i}\n\n")
    assert path.stat().st_size > 16_000_000
    connector = make_connector()
    tracemalloc.start()
    try:
        results = list(connector.export([
            ExportChange(1, ExportKind.MODIFY, "uid=u10,dc=x", "user", attributes={"sn": ["a"]}),
            ExportChange(2, ExportKind.DELETE, "uid=u1999,dc=x", "user")]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all(r.ok for r in results)
    assert peak < 5_000_000, peak  # a few 1 MiB read blocks, not the 16 MB file
    # A 16 MB content file takes exports in its journal; compacting folds them in.
    assert connector.compact()
    text = path.read_text()
    assert "dn: uid=u1999,dc=x\n" not in text and "dn: uid=u1998,dc=x\n" in text
