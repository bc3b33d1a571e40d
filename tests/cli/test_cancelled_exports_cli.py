"""What an administrator sees of pending export reconciliation from the command line: why a
delete is staged (``idsync cs search --pending-export``), and, once its cause is gone, the
cancellation in the run's counters and in the event log (event 6130)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

import idsync.cli.connector
import idsync.cli.history
import idsync.cli.rules
import idsync.cli.run
import idsync.cli.spaces
import idsync.cli.workspace  # noqa: F401 - the imports register the commands
from idsync.cli.main import cli
from idsync.sample import sample_path

TARGET_SKELETON = "version: 1\n\ndn: dc=fabrikam,dc=com\nobjectClass: dcObject\ndc: fabrikam\n"


def test_a_staged_delete_shows_its_cause_and_its_cancellation(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(sample_path(), ws / "contoso.ldif")
    (ws / "fabrikam.ldif").write_text(TARGET_SKELETON)
    runner = CliRunner()

    def idsync(*args: str) -> str:
        result = runner.invoke(cli, ["--workspace", str(ws), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    idsync("init")
    idsync("connector", "add", "contoso", "--type", "file", "--set", "path=contoso.ldif")
    idsync("connector", "add", "fabrikam", "--type", "file", "--set", "path=fabrikam.ldif")
    from idsync.administration.rule_changes import save_rules
    from idsync.rules.files import builtin_rule_set
    from idsync.store import Store

    store = Store.open(ws)
    save_rules(store, builtin_rule_set("directory-to-directory", source="contoso",
                                       target="fabrikam", target_base="dc=fabrikam,dc=com"),
               installing_builtin=True)
    store.close()
    for connector, profile in (("contoso", "fi"), ("contoso", "fs"), ("fabrikam", "e"),
                               ("fabrikam", "fi"), ("fabrikam", "fs")):
        idsync("run", connector, profile)
    users = int(idsync("cs", "search", "fabrikam", "--object-type", "user", "--count"))

    idsync("rules", "disable", "Out to fabrikam - User Join", "--confirm")
    idsync("run", "contoso", "ds")
    staged = json.loads(idsync("cs", "search", "fabrikam", "--pending-export", "--limit", "0",
                               "--json"))
    deletes = [o for o in staged if o["pending_export"]["kind"] == "delete"]
    assert len(deletes) == users
    assert {d["pending_export"]["cause"]["cause"] for d in deletes} == {"out-of-scope"}
    assert "no outbound rule scopes metaverse person" in \
        deletes[0]["pending_export"]["cause"]["detail"]

    idsync("rules", "enable", "Out to fabrikam - User Join", "--confirm")
    run = json.loads(idsync("run", "contoso", "ds", "--json"))
    assert run["counters"]["cancelled-deletes"] == users
    assert json.loads(idsync("cs", "search", "fabrikam", "--pending-export", "--count",
                             "--json")) == {"count": 0}
    events = json.loads(idsync("events", "list", "--id", "6130", "--limit", "0", "--json"))
    cancelled = [e for e in events if e["data"]["kind"] == "delete"]
    assert len(cancelled) == users
    assert "the pending delete is cancelled" in cancelled[0]["message"]
