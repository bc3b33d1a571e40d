"""Large groups: a delta synchronization compares only the changed members of a large list
(the reference change journal), never the whole list, and ends exactly where a whole
comparison would."""

from __future__ import annotations

import io
from typing import Any

import pytest
from tests.harness.workspace import (
    group_entry,
    ldif,
    make_workspace,
    target_dn,
    target_group_dn,
    user_entry,
)

from idsync.administration.rule_changes import save_rules
from idsync.connectors.file import apply_changes
from idsync.engine.core import RunContext
from idsync.engine.reference_journal import journal_valid
from idsync.filedir.ldif import read_ldif
from idsync.store.connector_space import ConnectorSpaceRepository
from idsync.store.reference_journal import JournalSpace, RelinkMark
from idsync.store.references import ReferenceDeltas

MEMBERS = [f"u{i:03d}" for i in range(60)]
GROUP_DN = "cn=big,ou=Groups,dc=contoso,dc=com"


def user(uid: str) -> str:
    return f"uid={uid},ou=Users,dc=contoso,dc=com"


@pytest.fixture
def big(tmp_path: Any) -> Any:
    """A 59-member group, with lists of 20 values or more compared in the store."""
    ws = make_workspace(tmp_path / "ws", ldif(*(user_entry(m) for m in MEMBERS),
                                              group_entry("big", MEMBERS[:59])),
                        reference_delta_threshold=20)
    ws.initial_cycle()
    yield ws
    ws.store.close()


class WholeComparisons:
    """Records the whole-list comparisons a run makes (the costly ones)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        for name in ("inbound", "outbound"):
            original = getattr(ReferenceDeltas, name)

            def spy(self_: Any, *args: Any, _o: Any = original, _n: str = name) -> Any:
                self.calls.append(_n)
                return _o(self_, *args)
            monkeypatch.setattr(ReferenceDeltas, name, spy)


def change_membership(ws: Any) -> None:
    ws.change_source(f"""dn: {GROUP_DN}
changetype: modify
add: member
member: {user("u059")}
-
delete: member
member: {user("u000")}
-
""")


def test_one_member_change_compares_only_that_member(big: Any, monkeypatch) -> None:
    assert journal_valid(RunContext(big.store, str(big.path)))
    whole = WholeComparisons(monkeypatch)
    loaded: list[int] = []
    original = ConnectorSpaceRepository.refs_of

    def refs_of(self_: Any, cs_ids: Any, *args: Any) -> Any:
        loaded.extend(cs_ids)
        return original(self_, cs_ids, *args)
    monkeypatch.setattr(ConnectorSpaceRepository, "refs_of", refs_of)
    source = big.store.connectors.get("source")
    [group_id] = [o.id for o in big.store.cs.search(source.id, dn=GROUP_DN)]
    change_membership(big)
    big.run("source", "di")
    big.run("source", "ds")
    assert whole.calls == []  # the 59-member list was never compared whole
    assert group_id not in loaded  # nor read whole by the import
    target = big.store.connectors.get("target")
    [group] = big.store.cs.search(target.id, pending_export=True)
    pe = big.store.exports.get_many([group.id])[group.id]
    assert {a: len(v) for a, v in pe.ref_adds.items()} == {"member": 1}
    assert {a: len(v) for a, v in pe.ref_removes.items()} == {"member": 1}
    big.run("target", "e")
    big.run("target", "fi")
    big.run("target", "ds")
    members = big.target_entries()[target_group_dn("big")]["member"]
    assert len(members) == 59
    assert target_dn("u059") in {m.lower() for m in members}
    assert target_dn("u000") not in {m.lower() for m in members}
    assert whole.calls == []
    assert big.pending_exports() == 0
    # the journal is spent: nothing is left to compare
    assert big.store.db.scalar("SELECT count(*) FROM ref_changes WHERE attr = 'member'") == 0


def test_a_member_removed_in_the_target_is_put_back(big: Any) -> None:
    """Someone edits the target directory: the import's change to the hologram is in the
    journal, so the delta synchronization sees it and sends the member again."""
    records = list(read_ldif(io.BytesIO(f"""dn: {target_group_dn("big")}
changetype: modify
delete: member
member: {target_dn("u005")}
-
""".encode())))
    apply_changes(big.target_file, records)
    big.run("target", "fi")
    big.run("target", "ds")
    assert big.pending_exports() == 1
    big.run("target", "e")
    members = {m.lower() for m in big.target_entries()[target_group_dn("big")]["member"]}
    assert target_dn("u005") in members and len(members) == 59


def test_a_rule_change_suspends_the_journal_until_every_connector_is_fully_synced(
        big: Any, monkeypatch) -> None:
    engine = RunContext(big.store, str(big.path))
    rule = next(r for r in big.store.rules.list() if r.direction.value == "outbound"
                and r.mv_object_type == "group")
    rule.description = "edited"
    save_rules(big.store, [rule], installing_builtin=True)
    assert not journal_valid(engine)
    whole = WholeComparisons(monkeypatch)
    change_membership(big)
    big.delta_cycle()
    assert "inbound" in whole.calls  # compared whole while the journal is suspended
    big.run("source", "fs")
    assert not journal_valid(engine)
    big.run("target", "fs")
    assert journal_valid(engine)
    members = {m.lower() for m in big.target_entries()[target_group_dn("big")]["member"]}
    assert target_dn("u059") in members and target_dn("u000") not in members


def test_deleted_and_recreated_member_ends_where_a_whole_comparison_does(big: Any,
                                                                          tmp_path) -> None:
    """A member deleted (its metaverse object goes) and a new object at the same DN: the
    relink is in the journal with the old metaverse id."""
    big.change_source(f"""dn: {user("u001")}
changetype: delete
""")
    big.delta_cycle()
    big.change_source("\n".join(_as_add(user_entry("u001", anchor="another-u001"))) + "\n")
    big.change_source(f"""dn: {GROUP_DN}
changetype: modify
add: member
member: {user("u001")}
-
""")
    big.delta_cycle()
    big.delta_cycle()
    members = {m.lower() for m in big.target_entries()[target_group_dn("big")]["member"]}
    reference = make_workspace(tmp_path / "reference", ldif(
        *(user_entry(m) for m in MEMBERS), group_entry("big", MEMBERS[:59])))
    reference.initial_cycle()
    want = {m.lower() for m in reference.target_entries()[target_group_dn("big")]["member"]}
    reference.store.close()
    assert members == want


def _as_add(entry: str) -> list[str]:
    lines = entry.strip().splitlines()
    return [lines[0], "changetype: add", *lines[1:]]


def test_the_journal_spaces_and_marks_are_the_stored_values() -> None:
    """The enums name what migrations 0003/0004's triggers write; stored rows never change."""
    assert [int(s) for s in JournalSpace] == [0, 1]
    assert JournalSpace.METAVERSE == 0 and JournalSpace.CONNECTOR_SPACE == 1
    assert [str(m) for m in RelinkMark] == ["*in", "*out"]


def test_an_imported_member_change_is_in_the_journal_until_synchronized(big: Any) -> None:
    source = big.store.connectors.get("source")
    [group_id] = [o.id for o in big.store.cs.search(source.id, dn=GROUP_DN)]
    change_membership(big)
    big.run("source", "di")
    changed = big.store.journal.changed(JournalSpace.CONNECTOR_SPACE, group_id, "member")
    assert len(changed) == 2  # u059 added, u000 removed, each named once
    big.run("source", "ds")
    assert big.store.journal.changed(JournalSpace.CONNECTOR_SPACE, group_id, "member") == {}
