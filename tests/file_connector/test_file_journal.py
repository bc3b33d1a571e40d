"""The export journal of a large file directory: what an administrator relies on.

Exports into a content file of at least ``journal_min_bytes`` append to ``<path>.journal``
instead of rewriting the file. These tests force the journal on small files and hold it
against a twin directory that rewrites the content file on every export (the behaviour before
the journal): same per-object results, same full import, the same bytes once compacted, and
nothing lost or applied twice when the process dies at any point.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idsync.connectors.base import ExportChange, ExportRef, ImportContext
from idsync.connectors.file import FileConnector
from idsync.error_codes import ErrorCode
from idsync.filedir.dn import normalize_dn
from idsync.filedir.journal import scan
from idsync.model import ExportKind

USERS_OU = "ou=Users,dc=x"
GROUP_DN = "cn=All,ou=Groups,dc=x"


def base_ldif(users: int) -> str:
    parts = ["version: 1\n",
             "dn: dc=x\nobjectClass: domain\ndc: x\n",
             f"dn: {USERS_OU}\nobjectClass: organizationalUnit\nou: Users\n",
             "dn: ou=Groups,dc=x\nobjectClass: organizationalUnit\nou: Groups\n"]
    for i in range(users):
        parts.append(f"dn: uid=u{i},{USERS_OU}\nobjectClass: inetOrgPerson\nuid: u{i}\n"
                     f"cn: User {i}\nsn: S{i}\nentryUUID: seed-{i}\n")
    members = "".join(f"member: uid=u{i},{USERS_OU}\n" for i in range(0, users, 2))
    parts.append(f"dn: {GROUP_DN}\nobjectClass: groupOfNames\ncn: All\n{members}"
                 "entryUUID: seed-group\n")
    return "\n".join(parts)


def connector(path: Path, *, journal: bool, ratio: float = float("inf")) -> FileConnector:
    made = FileConnector("files", str(path), export_log=str(path) + ".exports")
    if journal:
        made.directory.journal_min_bytes = 0  # the journal even for a small test file
        made.directory.journal_ratio = ratio
    else:
        made.directory.journal_min_bytes = 1 << 62  # rewrite on every export, as before
    return made


def full_import(made: FileConnector) -> dict[str, tuple]:
    out = {}
    for batch in made.full_import(ImportContext(None)):
        for record in batch.records:
            attributes = {k.lower(): sorted(map(str, v)) for k, v in record.attributes.items()}
            out[normalize_dn(record.dn)] = (record.dn, record.anchor, record.object_type,
                                            attributes)
    return out


def results(made: FileConnector, changes: list[ExportChange]) -> list[tuple]:
    return [(r.cs_id, r.ok, r.dn, r.anchor, r.error_code) for r in made.export(changes)]


def user(i: int) -> str:
    return f"uid=u{i},{USERS_OU}"


def call_changes(rng: random.Random, call: int, users: int) -> list[ExportChange]:
    """One engine-like export call: adds, edits, member changes, renames, deletes and some
    changes the directory must refuse."""
    changes: list[ExportChange] = []
    n = 0

    def add(kind: ExportKind, dn: str, **kw: object) -> None:
        nonlocal n
        n += 1
        changes.append(ExportChange(call * 100 + n, kind, dn, "user", **kw))  # type: ignore[arg-type]

    new = f"uid=n{call},{USERS_OU}"
    add(ExportKind.ADD, new, attributes={"cn": [f"New {call}"], "entryUUID": [f"new-{call}"],
                                         "manager": [ExportRef(user(1))]})
    add(ExportKind.ADD, user(0), attributes={"cn": ["dup"], "entryUUID": [f"dup-{call}"]})
    for _ in range(3):
        add(ExportKind.MODIFY, user(rng.randrange(users)),
            attributes={"title": [f"t{call}"]})
    add(ExportKind.MODIFY, GROUP_DN,
        value_adds={"member": [ExportRef(new), ExportRef(user(rng.randrange(users)).upper())]},
        value_removes={"member": [ExportRef(user(rng.randrange(users)))]})
    victim = rng.randrange(users)
    add(ExportKind.RENAME, user(victim), new_dn=f"uid=r{call}-{victim},{USERS_OU}",
        attributes={"description": ["moved"]})
    add(ExportKind.RENAME, user(rng.randrange(users)), new_dn=user(0))  # target taken
    add(ExportKind.DELETE, user(rng.randrange(users)))
    add(ExportKind.MODIFY, "uid=nobody,dc=x", attributes={"title": ["x"]})  # missing
    return changes


def test_many_small_exports_equal_the_rewritten_directory(tmp_path: Path) -> None:
    (tmp_path / "j").mkdir()
    (tmp_path / "r").mkdir()
    for name in "jr":
        (tmp_path / name / "d.ldif").write_text(base_ldif(60))
    journaled = connector(tmp_path / "j" / "d.ldif", journal=True)
    rewritten = connector(tmp_path / "r" / "d.ldif", journal=False)
    inode = (tmp_path / "j" / "d.ldif").stat().st_ino
    before = (tmp_path / "j" / "d.ldif").read_bytes()
    rng_j, rng_r = random.Random(5), random.Random(5)
    codes: set[str | None] = set()
    for call in range(40):
        got = results(journaled, call_changes(rng_j, call, 60))
        assert got == results(rewritten, call_changes(rng_r, call, 60)), call
        codes |= {code for *_, code in got}
    # the checks were exercised
    assert {ErrorCode.NO_SUCH_OBJECT, ErrorCode.ENTRY_ALREADY_EXISTS} <= codes
    # Nothing rewrote the content file: every export went to the journal.
    assert (tmp_path / "j" / "d.ldif").read_bytes() == before
    assert (tmp_path / "j" / "d.ldif").stat().st_ino == inode
    assert len(scan(str(tmp_path / "j" / "d.ldif.journal")).batches) == 40
    # The export logs hold the same change records.
    assert (tmp_path / "j" / "d.ldif.exports").read_bytes() == (
        tmp_path / "r" / "d.ldif.exports").read_bytes()
    # A full import sees the directory as it is (it compacts first) ...
    assert full_import(journaled) == full_import(rewritten)
    assert not (tmp_path / "j" / "d.ldif.journal").exists()
    # ... and the content file is then the same bytes the rewriting directory holds.
    assert (tmp_path / "j" / "d.ldif").read_bytes() == (tmp_path / "r" / "d.ldif").read_bytes()


def test_compaction_keeps_the_directory_and_the_index(tmp_path: Path) -> None:
    (tmp_path / "j").mkdir()
    (tmp_path / "r").mkdir()
    for name in "jr":
        (tmp_path / name / "d.ldif").write_text(base_ldif(200))
    # A small ratio: the journal is folded in every few calls, between exports.
    journaled = connector(tmp_path / "j" / "d.ldif", journal=True, ratio=0.25)
    rewritten = connector(tmp_path / "r" / "d.ldif", journal=False)
    rng_j, rng_r = random.Random(9), random.Random(9)
    compactions = 0
    for call in range(30):
        inode = (tmp_path / "j" / "d.ldif").stat().st_ino
        assert results(journaled, call_changes(rng_j, call, 200)) == results(
            rewritten, call_changes(rng_r, call, 200))
        compactions += (tmp_path / "j" / "d.ldif").stat().st_ino != inode
        if call % 7 == 3:  # a new process: only the files on disk carry the state
            journaled = connector(tmp_path / "j" / "d.ldif", journal=True, ratio=0.25)
    assert 3 <= compactions < 30
    assert journaled.compact() in (True, False)
    assert not journaled.compact()  # nothing left to fold
    assert (tmp_path / "j" / "d.ldif").read_bytes() == (tmp_path / "r" / "d.ldif").read_bytes()
    assert full_import(journaled) == full_import(rewritten)


def test_a_damaged_or_missing_index_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "j").mkdir()
    (tmp_path / "r").mkdir()
    for name in "jr":
        (tmp_path / name / "d.ldif").write_text(base_ldif(30))
    rng_j, rng_r = random.Random(2), random.Random(2)
    rewritten = connector(tmp_path / "r" / "d.ldif", journal=False)
    index = tmp_path / "j" / "d.ldif.index"
    for call in range(9):
        journaled = connector(tmp_path / "j" / "d.ldif", journal=True)
        if call % 3 == 1:
            index.unlink()
        elif call % 3 == 2:
            index.write_bytes(b"not a database")
        assert results(journaled, call_changes(rng_j, call, 30)) == results(
            rewritten, call_changes(rng_r, call, 30))
    assert full_import(journaled) == full_import(rewritten)


def test_a_torn_journal_tail_is_never_applied(tmp_path: Path) -> None:
    path = tmp_path / "d.ldif"
    path.write_text(base_ldif(10))
    made = connector(path, journal=True)
    assert results(made, [ExportChange(1, ExportKind.MODIFY, user(1), "user",
                                       attributes={"title": ["kept"]})])[0][1]
    journal = tmp_path / "d.ldif.journal"
    committed = journal.read_bytes()
    # A second batch cut short by a crash: records written, commit line missing or partial.
    torn = (f"dn: {user(2)}\nchangetype: delete\n\n"
            f"dn: {user(3)}\nchangetype: modify\nreplace: title\ntitle: lost\n-\n\n"
            "# idsync-commit 99")
    journal.write_bytes(committed + torn.encode())
    again = connector(path, journal=True)
    # The next export cuts the tail off and appends after the committed batch.
    assert results(again, [ExportChange(2, ExportKind.MODIFY, user(4), "user",
                                        attributes={"title": ["new"]})])[0][1]
    assert torn.encode() not in journal.read_bytes()
    state = full_import(again)
    assert state[normalize_dn(user(1))][3]["title"] == ["kept"]
    assert state[normalize_dn(user(4))][3]["title"] == ["new"]
    assert normalize_dn(user(2)) in state  # the uncommitted delete never happened
    assert "title" not in state[normalize_dn(user(3))][3]


def test_a_crash_inside_compaction_loses_and_repeats_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    import idsync.filedir.rewrite as rewrite_module

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "d.ldif").write_text(base_ldif(20))
    rewritten = connector(tmp_path / "r" / "d.ldif", journal=False)
    rng_r = random.Random(4)
    for call in range(3):
        results(rewritten, call_changes(rng_r, call, 20))
    expected = full_import(rewritten)

    class Killed(BaseException):
        pass

    def die(*args: object) -> None:
        raise Killed

    for point in ("os.replace", "unlink"):
        folder = tmp_path / point
        folder.mkdir()
        path = folder / "d.ldif"
        path.write_text(base_ldif(20))
        made = connector(path, journal=True)
        rng = random.Random(4)
        for call in range(3):
            results(made, call_changes(rng, call, 20))
        with monkeypatch.context() as patch:
            if point == "os.replace":  # after the compaction marker, before the swap
                patch.setattr(rewrite_module.os, "replace", die)
            else:  # after the swap, before the journal is deleted
                patch.setattr(rewrite_module, "unlink", die)
            with pytest.raises(Killed):
                made.compact()
        assert (folder / "d.ldif.journal").exists()
        with caplog.at_level(logging.WARNING, logger="idsync.filedir"):
            assert full_import(connector(path, journal=True)) == expected
        # A journal replayed onto a content file that already held it would refuse its
        # adds and renames: nothing was refused.
        assert not caplog.records, [r.getMessage() for r in caplog.records]
        assert not (folder / "d.ldif.journal").exists()
        assert [p for p in os.listdir(folder) if ".idsync-" in p] == []


CHILD = textwrap.dedent("""
    import sys
    from idsync.connectors.base import ExportChange, ExportRef
    from idsync.model import ExportKind
    from idsync.connectors.file import FileConnector

    path, start, ratio = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    made = FileConnector("files", path)
    made.directory.journal_min_bytes = 0
    made.directory.journal_ratio = ratio
    for i in range(start, 10_000):
        dn = f"uid=c{i},ou=Users,dc=x"
        results = list(made.export([
            ExportChange(1, ExportKind.ADD, dn, "user",
                         attributes={"cn": [f"C {i}"], "entryUUID": [f"c-{i}"]}),
            ExportChange(2, ExportKind.MODIFY, "cn=All,ou=Groups,dc=x", "group",
                         value_adds={"member": [ExportRef(dn)]}),
            ExportChange(3, ExportKind.MODIFY, "uid=u0,ou=Users,dc=x", "user",
                         attributes={"description": [str(i)]}),
        ]))
        assert all(r.ok for r in results), results
        print(i, flush=True)
""")


def expected_after(calls: int) -> tuple[set[str], set[str], str | None]:
    added = {normalize_dn(f"uid=c{i},{USERS_OU}") for i in range(calls)}
    return added, added, str(calls - 1) if calls else None


def observed(made: FileConnector) -> tuple[set[str], set[str], str | None]:
    state = full_import(made)
    added = {k for k in state if k.startswith("uid=c")}
    group = state[normalize_dn(GROUP_DN)][3]
    members = {normalize_dn(m) for m in group.get("member", [])
               if normalize_dn(m).startswith("uid=c")}
    description = state[normalize_dn(user(0))][3].get("description")
    return added, members, description[0] if description else None


@pytest.mark.parametrize("ratio", [0.02, float("inf")])
def test_sigkill_mid_export_loses_and_repeats_nothing(
        tmp_path: Path, ratio: float, caplog: pytest.LogCaptureFixture) -> None:
    """Kill a process exporting in a loop (the journal folded often with the small ratio, so
    kills land in compactions too); what survives is exactly a prefix of its calls."""
    path = tmp_path / "d.ldif"
    path.write_text(base_ldif(300))
    rng = random.Random(11)
    done = 0
    for _ in range(4):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(done), str(ratio)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout is not None
        last = done - 1
        target = done + rng.randrange(3, 12)
        while last < target:
            line = child.stdout.readline()
            assert line, child.stderr.read() if child.stderr else ""
            last = int(line)
        time.sleep(rng.random() * 0.02)  # somewhere inside a later call
        child.send_signal(signal.SIGKILL)
        child.wait()
        # One more call may have committed after the last line printed; none half way.
        with caplog.at_level(logging.WARNING, logger="idsync.filedir"):
            added, members, description = observed(connector(path, journal=True))
        assert not caplog.records, [r.getMessage() for r in caplog.records]
        calls = len(added)
        assert last + 1 <= calls
        assert (added, members, description) == expected_after(calls)
        done = calls
    # A killed compaction's temp file is removed by the next one.
    connector(path, journal=True).compact()
    assert not [p for p in os.listdir(tmp_path) if ".idsync-" in p]


# --- property: random export sequences against a model in memory ----------------------------

NAMES = ["ann", "bob", "cy", "dee"]
PARENTS = ["ou=A,dc=x", "ou=B,dc=x"]
SEED_TEXT = ("dn: dc=x\nobjectClass: domain\ndc: x\n\n"
             "dn: ou=A,dc=x\nobjectClass: organizationalUnit\nou: A\n\n"
             "dn: ou=B,dc=x\nobjectClass: organizationalUnit\nou: B\n\n"
             "dn: cn=ann,ou=A,dc=x\nobjectClass: person\ncn: ann\nentryUUID: s-1\n\n"
             "dn: cn=G,dc=x\nobjectClass: groupOfNames\ncn: G\n"
             "member: cn=ann,ou=A,dc=x\nentryUUID: s-g\n\n")
dns = st.builds(lambda n, p: f"cn={n},{p}", st.sampled_from(NAMES), st.sampled_from(PARENTS))
spelled = dns.flatmap(lambda dn: st.sampled_from([dn, dn.upper(), dn.replace(",", ", ")]))
titles = st.lists(st.sampled_from(["t1", "t2", "t3"]), max_size=2, unique=True)
changes = st.one_of(
    st.builds(lambda dn, t: ("add", dn, t), dns, titles),
    st.builds(lambda dn: ("delete", dn), dns),
    st.builds(lambda dn, t: ("title", dn, t), dns, titles),
    st.builds(lambda add, rem: ("member", add, rem), st.lists(spelled, max_size=2),
              st.lists(spelled, max_size=2)),
    st.builds(lambda dn, new: ("rename", dn, new), dns, dns),
)
steps = st.lists(st.tuples(st.lists(changes, min_size=1, max_size=6),
                           st.sampled_from(["", "compact", "reopen", "drop-index"])),
                 min_size=1, max_size=6)


class Model:
    """The directory as a dict: normalized DN -> (dn, title list); members normalized."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[str, list[str]]] = {"cn=ann,ou=a,dc=x": (
            "cn=ann,ou=A,dc=x", [])}
        self.members: list[str] = ["cn=ann,ou=a,dc=x"]

    def apply(self, change: tuple) -> str | None:
        """The error code the directory must give, None for success."""
        kind = change[0]
        if kind == "member":  # the connector sends the removes before the adds
            gone = {normalize_dn(dn) for dn in change[2]}
            self.members = [m for m in self.members if m not in gone]
            for dn in change[1]:
                if normalize_dn(dn) not in self.members:
                    self.members.append(normalize_dn(dn))
            return None
        key = normalize_dn(change[1])
        if kind == "add":
            if key in self.entries:
                return ErrorCode.ENTRY_ALREADY_EXISTS
            self.entries[key] = (change[1], list(change[2]))
            return None
        if key not in self.entries:
            return ErrorCode.NO_SUCH_OBJECT
        if kind == "delete":
            del self.entries[key]
        elif kind == "title":
            self.entries[key] = (self.entries[key][0], list(change[2]))
        else:
            new_key = normalize_dn(change[2])
            if new_key != key and new_key in self.entries:
                return ErrorCode.ENTRY_ALREADY_EXISTS
            self.entries[new_key] = (change[2], self.entries.pop(key)[1])
        return None


def export_change(n: int, change: tuple) -> ExportChange:
    kind = change[0]
    if kind == "add":
        attributes = {"title": change[2]} if change[2] else {}
        return ExportChange(n, ExportKind.ADD, change[1], "user",
                            attributes={**attributes, "entryUUID": [f"a-{n}"]})
    if kind == "delete":
        return ExportChange(n, ExportKind.DELETE, change[1], "user")
    if kind == "title":
        return ExportChange(n, ExportKind.MODIFY, change[1], "user",
                            attributes={"title": change[2]})
    if kind == "member":
        return ExportChange(n, ExportKind.MODIFY, "cn=G,dc=x", "group",
                            value_adds={"member": [ExportRef(dn) for dn in change[1]]},
                            value_removes={"member": [ExportRef(dn) for dn in change[2]]})
    return ExportChange(n, ExportKind.RENAME, change[1], "user", new_dn=change[2])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_random_export_sequences_match_a_model(tmp_path_factory: pytest.TempPathFactory,
                                               calls: list) -> None:
    folder = tmp_path_factory.mktemp("journal")
    path = folder / "d.ldif"
    path.write_text(SEED_TEXT)
    made = connector(path, journal=True)
    model = Model()
    n = 0
    for batch, then in calls:
        exported = []
        for change in batch:
            n += 1
            exported.append(export_change(n, change))
        got = {r.cs_id: (r.ok, r.error_code) for r in made.export(exported)}
        for change in exported:
            code = model.apply(batch[exported.index(change)])
            assert got[change.cs_id] == (code is None, code), (change, got[change.cs_id])
        if then == "compact":
            made.compact()
        elif then == "reopen":
            made = connector(path, journal=True)
        elif then == "drop-index" and (folder / "d.ldif.index").exists():
            (folder / "d.ldif.index").unlink()
    state = full_import(made)
    people = {k: (dn, attrs.get("title", [])) for k, (dn, _, kind, attrs) in state.items()
              if kind == "user"}
    assert people == {k: (dn, sorted(t)) for k, (dn, t) in model.entries.items()}
    group = state["cn=g,dc=x"][3]
    # (full_import() sorts values; the model keeps each member once.)
    assert sorted(normalize_dn(m) for m in group.get("member", [])) == sorted(model.members)
    shutil.rmtree(folder)


HAND_WRITTEN = """version: 1
dn: dc=x
objectClass: domain
dc: x

# the people
dn: ou=Users,dc=x
objectClass: organizationalUnit
ou: Users


dn: uid=u0,ou=Users,dc=x
objectClass: inetOrgPerson
uid: u0
cn: User 0
description: folded
  value
entryUUID: seed-0

# a comment between two entries
dn: uid=u1,ou=Users,dc=x
objectClass: inetOrgPerson
uid: u1
cn: User 1
entryUUID: seed-1

dn: uid=u2,ou=Users,dc=x
objectClass: inetOrgPerson
uid: u2
cn: User 2
entryUUID: seed-2

dn:: Y249R3LDvHBwZSxkYz14
objectClass: groupOfNames
cn:: R3LDvHBwZQ==
member: uid=u1,ou=Users,dc=x
entryUUID: seed-group

# trailing comment
"""


@pytest.mark.parametrize("first", [[], [("delete", "dc=x")], [("title", "dc=x", ["t"])]])
def test_compaction_of_a_hand_written_file_keeps_its_layout(tmp_path: Path,
                                                            first: list) -> None:
    """Comments, folding, extra blank lines, the version line sharing the first entry's
    block, base64 DNs: the compacted file is the bytes the rewriting directory writes."""
    changes = [*first, ("delete", "uid=u1,ou=Users,dc=x"),
               ("title", "uid=u2,ou=Users,dc=x", ["a", "b"]),
               ("rename", "uid=u0,ou=Users,dc=x", "uid=u9,ou=Users,dc=x"),
               ("add", "uid=n1,ou=Users,dc=x", ["t"]),
               ("member", ["uid=n1,ou=Users,dc=x"], ["uid=u1,ou=Users,dc=x"])]
    twins = []
    for journal in (True, False):
        folder = tmp_path / str(journal)
        folder.mkdir()
        (folder / "d.ldif").write_text(HAND_WRITTEN)
        made = connector(folder / "d.ldif", journal=journal)
        got = []
        for n, change in enumerate(changes, 1):  # one call each
            exported = export_change(n, change)
            if exported.dn == "cn=G,dc=x":
                exported.dn = "cn=Grüppe,dc=x"
            got += results(made, [exported])
        made.compact()
        twins.append((got, (folder / "d.ldif").read_bytes(), full_import(made)))
    assert twins[0] == twins[1]
    # A comment block of its own stays; one inside a deleted entry's block goes with it.
    assert b"# the people\n" in twins[0][1] and b"# trailing comment\n" in twins[0][1]
    assert b"# a comment between two entries\n" not in twins[0][1]


def test_the_compact_command(tmp_path: Path) -> None:
    from idsync.connectors.file.__main__ import main

    path = tmp_path / "d.ldif"
    path.write_text(base_ldif(10))
    made = connector(path, journal=True)
    results(made, [ExportChange(1, ExportKind.DELETE, user(3), "user")])
    assert f"dn: {user(3)}\n" in path.read_text()  # still in the content file
    assert main(["compact", str(path)]) == 0
    assert f"dn: {user(3)}\n" not in path.read_text()
    assert not (tmp_path / "d.ldif.journal").exists()
    assert main(["compact", str(path), str(tmp_path / "missing.ldif")]) == 1


def test_a_failing_index_or_compaction_does_not_fail_a_committed_export(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the journal holds a batch the export happened: the index (a cache) and the
    compaction catch up on the next call instead of reporting the export failed."""
    import idsync.filedir.directory as directory_module
    from idsync.filedir.index import ContentIndex

    (tmp_path / "j").mkdir()
    (tmp_path / "r").mkdir()
    for name in "jr":
        (tmp_path / name / "d.ldif").write_text(base_ldif(50))
    journaled = connector(tmp_path / "j" / "d.ldif", journal=True, ratio=0.01)
    rewritten = connector(tmp_path / "r" / "d.ldif", journal=False)
    rng_j, rng_r = random.Random(3), random.Random(3)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(ContentIndex, "update", broken)
        patch.setattr(directory_module.FileDirectory, "_merge", broken)
        assert results(journaled, call_changes(rng_j, 0, 50)) == results(
            rewritten, call_changes(rng_r, 0, 50))
    with monkeypatch.context() as patch:
        patch.setattr(directory_module.FileDirectory, "_merge", broken)
        for call in range(1, 3):  # the index catches up with the first batch first
            assert results(journaled, call_changes(rng_j, call, 50)) == results(
                rewritten, call_changes(rng_r, call, 50))
    assert (tmp_path / "j" / "d.ldif.journal").exists()  # compaction was due, and failed
    for call in range(3, 6):
        assert results(journaled, call_changes(rng_j, call, 50)) == results(
            rewritten, call_changes(rng_r, call, 50))
    assert full_import(journaled) == full_import(rewritten)
    assert (tmp_path / "j" / "d.ldif").read_bytes() == (tmp_path / "r" / "d.ldif").read_bytes()
