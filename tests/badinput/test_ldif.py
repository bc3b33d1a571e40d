"""The LDIF bad-input corpus (tests/badinput/ldif/, described in ldif_helpers): each case runs
through a real file connector import in a workspace, on the store the pass uses.

Asserted for every case: the import errors (code, DN and the one-line ``FILE, line N: reason``
message), the status, that the other records were imported, that no object the connector
space held was changed or deleted because of a record that could not be read (and that deletes
are inferred exactly when every unreadable record's object could be told), that the metaverse
kept what it had, and that the commands showing the run and the objects print them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.badinput.ldif_helpers import (
    ALICE,
    BASELINE,
    BOB,
    DAVE,
    GROUP,
    Case,
    dn_of,
    expand,
    load_cases,
)
from tests.harness.workspace import Workspace, make_workspace

from idsync.cli.main import build
from idsync.events import EventId
from idsync.model import PendingImport

CASES = load_cases()
USERS = ("alice", "bob", "carol")
GROUP_DN = "cn=Staff,ou=Groups,dc=contoso,dc=com"


def test_the_corpus_has_its_cases() -> None:
    assert len(CASES) >= 25


def _state(ws: Workspace, dn: str) -> dict[str, Any] | None:
    cid = ws.store.connectors.get("source").id
    found = [o for o in ws.store.cs.search(cid, dn=dn) if not o.placeholder]
    if not found:
        return None
    [obj] = found
    refs = ws.store.cs.refs_of([obj.id], ws.engine().instance(
        ws.store.connectors.get("source")).reference_attributes()).get(obj.id, {})
    mv = ws.store.mv.get(obj.mv_id) if obj.mv_id else None
    return {"dn": obj.dn, "anchor": obj.anchor, "attributes": obj.attributes,
            "pending": obj.pending_import, "refs": {k: sorted(v) for k, v in refs.items()},
            "mv": mv.attributes if mv else None}


def _prepare(tmp_path: Path, case: Case) -> tuple[Workspace, dict[str, Any]]:
    ws = make_workspace(tmp_path / "ws", BASELINE)
    root = ws.path
    for name, text in case.files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    for name, target in case.symlinks.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(expand(target, root), root / name)
    if case.settings:
        record = ws.store.connectors.get("source")
        settings = {**record.settings,
                    **{k: expand(v, root) for k, v in case.settings.items()}}
        with ws.store.transaction():
            ws.store.connectors.update(record.id, settings=settings)
    for profile in ("fi", "fs"):
        result = ws.run("source", profile)
        assert result.status == "success", (profile, result.status, result.message)
    before = {uid: _state(ws, dn_of(uid)) for uid in USERS}
    before["group"] = _state(ws, GROUP_DN)
    return ws, before


def _data(case: Case, root: Path) -> bytes:
    # Placeholders only: the case bytes (invalid UTF-8, NUL, CRLF) stay as they are.
    data = case.data.replace(b"{workspace}", str(root).encode())
    return data.replace(b"{megabyte}", b"x" * (1 << 20))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_ldif_case(tmp_path: Path, case: Case) -> None:
    ws, before = _prepare(tmp_path, case)
    root = ws.path
    try:
        if case.kind == "delta":
            ws.source_changes.write_bytes(_data(case, root))
            result = ws.run("source", "di")
        else:
            ws.source_file.write_bytes(_data(case, root))
            result = ws.run("source", "fi")
        _check_run(ws, case, result)
        if case.kind == "delta":
            _check_delta(ws, case, before)
        else:
            _check_full(ws, case, before)
        _check_commands(ws, result.run_id)
        _check_recovery(ws, case)
    finally:
        ws.store.close()


def _check_run(ws: Workspace, case: Case, result: Any) -> None:
    errors = ws.store.runs.errors(result.run_id)
    got = [(e["code"], e["dn"], e["detail"]) for e in errors]
    want = [(e["code"], e["dn"], f"{ws.path}/{expand(e['message'], ws.path)}")
            for e in case.errors]
    assert got == want
    if case.errors:
        assert result.status == "completed-import-errors", result.message
        assert result.counters.get("unreadable-records") == len(case.errors)
        events = ws.store.events.list(run_id=result.run_id,
                                      event_id=int(EventId.IMPORT_RECORDS_UNREADABLE))
        assert len(events) == 1 and events[0].level == "warning"
        assert result.message and "could not be read" in result.message
    else:
        assert result.status == "success", (result.status, result.message)


def _check_full(ws: Workspace, case: Case, before: dict[str, Any]) -> None:
    now = {uid: _state(ws, dn_of(uid)) for uid in USERS}
    # The records read as they were change nothing; a bad record leaves its object alone.
    for uid in ("alice", "bob"):
        if uid not in case.changed:
            assert now[uid] == before[uid], uid
    assert _state(ws, GROUP_DN) == before["group"]
    # The rest of the file was imported.
    dave = _state(ws, dn_of("dave"))
    assert dave is not None and dave["pending"] == PendingImport.ADD
    for dn, attributes in case.imported.items():
        state = _state(ws, dn)
        assert state is not None, dn
        for name, values in attributes.items():
            if name == "member":
                targets = {ws.store.cs.get(i).dn for i in state["refs"]["member"]}
                assert targets == set(values)
            else:
                assert state["attributes"][name] == values
    # carol is missing from every case file: deleted unless an unreadable record could be
    # any object at all.
    record = ws.store.connectors.get("source")
    carol = now["carol"]
    assert carol is not None
    if case.deletes_withheld:
        assert carol == before["carol"]
        assert record.full_import_required
        assert "no deletes were inferred" in (ws.store.runs.list(limit=1)[0].message or "")
    else:
        assert carol["pending"] == PendingImport.DELETE
        assert not record.full_import_required
    # The metaverse follows: what the bad records named is still there, as it was.
    result = ws.run("source", "fs")
    assert result.ok, result.message
    for uid in ("alice", "bob"):
        if uid not in case.changed:
            assert _state(ws, dn_of(uid))["mv"] == before[uid]["mv"], uid


def _check_delta(ws: Workspace, case: Case, before: dict[str, Any]) -> None:
    assert _state(ws, dn_of("bob")) == before["bob"]
    for dn, attributes in case.applied.items():
        state = _state(ws, dn)
        for name, values in attributes.items():
            assert state["attributes"][name] == values
    record = ws.store.connectors.get("source")
    # The watermark moved past the bad record (the rest was read); a full import is due,
    # and it reads the object's current state from the content file.
    assert record.watermark == {"offset": ws.source_changes.stat().st_size}
    assert record.full_import_required


def _check_recovery(ws: Workspace, case: Case) -> None:
    """Once the file is fixed, the next full import reads every record: the withheld deletes
    are inferred, the errors kept on objects clear, no full import is required any more."""
    if not case.errors:
        return
    ws.source_file.write_text("version: 1\n\n" + "\n".join([ALICE, BOB, GROUP, DAVE]))
    result = ws.run("source", "fi")
    assert result.status == "success", result.message
    carol = _state(ws, dn_of("carol"))  # gone already if its delete was synchronized
    if case.deletes_withheld:  # held until now: inferred by this import
        assert carol is not None and carol["pending"] == PendingImport.DELETE
    else:
        assert carol is None or carol["pending"] == PendingImport.DELETE
    record = ws.store.connectors.get("source")
    assert not record.full_import_required
    assert ws.store.errors.list(connector_id=record.id, stage="import") == []


def _check_commands(ws: Workspace, run_id: int) -> None:
    """What an operator runs next prints, whatever the values hold (markup, NUL...)."""
    runner = CliRunner()
    shown = [["mv", "show", str(o.mv_id)] for o in ws.store.cs.search(
        ws.store.connectors.get("source").id) if o.mv_id]
    for args in (["runs", "show", str(run_id)], ["errors", "list"], ["events", "list"],
                 ["cs", "search", "source"], ["mv", "search"], *shown):
        out = runner.invoke(build(), ["--workspace", str(ws.path), *args])
        assert out.exit_code == 0, (args, out.output, out.exception)
