"""The settings reference page is the schema's own output; data that looks like console markup
prints as it is; the failures no command handles (a full disk, a damaged database, an error in
clouddir's command line) are one line, and ``--debug`` shows their traceback."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from clouddir.cli import main as clouddir_main
from idsync.cli.main import build
from idsync.connectors.settings import SCHEMAS
from idsync.failures import describe
from idsync.store import DB_FILE

ROOT = Path(__file__).resolve().parents[2]


def idsync(workspace: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build(), ["--workspace", str(workspace), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_committed_reference_page_is_the_schemas_output(tmp_path: Path) -> None:
    code, out, _ = idsync(tmp_path / "ws", "connector", "settings")
    assert code == 0
    assert (ROOT / "docs" / "settings.md").read_text("utf-8") == out, (
        "docs/settings.md is stale: run `idsync connector settings > docs/settings.md`")
    for schema in SCHEMAS.values():  # every setting of every type is on the page
        assert all(f"`{s.name}`" in out for s in schema.settings)
    code, ldap_only, _ = idsync(tmp_path / "ws", "connector", "settings", "ldap")
    assert code == 0 and "Replicating Directory Changes" in ldap_only and "`url`" not in ldap_only


MARKUP = "[/bold] [red]not red[/red] [link=http://x]y"

LDIF = f"""version: 1

dn: ou=People,dc=contoso,dc=com
objectClass: organizationalUnit
ou: People
entryUUID: 6c1b2a3f-0000-4000-8000-000000000001

dn: uid=ann,ou=People,dc=contoso,dc=com
objectClass: inetOrgPerson
uid: ann
cn: ann
sn: Ann
displayName: {MARKUP}
entryUUID: 6c1b2a3f-0000-4000-8000-000000000002
"""


def test_values_that_look_like_markup_print_as_they_are(tmp_path: Path) -> None:
    """A displayName holding "[/bold]" ended `idsync mv search` in rich's MarkupError."""
    from idsync.administration.rule_changes import save_rules
    from idsync.rules.files import builtin_rule_set
    from idsync.store import Store

    workspace = tmp_path / "ws"
    assert idsync(workspace, "init")[0] == 0
    (workspace / "contoso.ldif").write_text(LDIF)
    (workspace / "fabrikam.ldif").write_text(
        "version: 1\n\ndn: dc=fabrikam,dc=com\nobjectClass: dcObject\ndc: fabrikam\n")
    for name in ("contoso", "fabrikam"):
        assert idsync(workspace, "connector", "add", name, "--type", "file",
                      "--set", f"path={name}.ldif")[0] == 0
    store = Store.open(workspace)
    save_rules(store, builtin_rule_set("directory-to-directory", source="contoso",
                                       target="fabrikam", target_base="dc=fabrikam,dc=com"),
               installing_builtin=True)
    store.close()
    assert idsync(workspace, "run", "contoso", "fi")[0] == 0
    assert idsync(workspace, "run", "contoso", "fs")[0] == 0

    code, out, err = idsync(workspace, "mv", "search", "--object-type", "person")
    assert code == 0, err
    # The table folds long cells: compare without the folding's whitespace and borders.
    flat = "".join(c for c in out if c not in " \n│")
    assert "".join(MARKUP.split()) in flat, out


@pytest.mark.sqlite_only  # the SQLite file itself is what fills up
def test_a_full_disk_is_one_line(tmp_path: Path) -> None:
    """SQLite's own "database or disk is full", from a database held to a few pages."""
    conn = sqlite3.connect(tmp_path / "small.db")
    conn.execute("CREATE TABLE t (v BLOB)")
    conn.execute("PRAGMA max_page_count = 8")
    with pytest.raises(sqlite3.DatabaseError) as caught:
        for _ in range(100):
            conn.execute("INSERT INTO t VALUES (?)", (b"x" * 4096,))
    message, code = describe(caught.value, "/srv/idsync")
    assert code == 2 and "\n" not in message
    assert message.startswith("the disk holding the workspace database in /srv/idsync is full")
    full = OSError(28, "No space left on device", "/srv/idsync/idsync.db")
    assert describe(full)[0].startswith("no space left on the device holding /srv/idsync")


@pytest.mark.sqlite_only  # a damaged SQLite file
def test_debug_shows_the_traceback_of_a_damaged_database(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    assert idsync(workspace, "init")[0] == 0
    (workspace / DB_FILE).write_bytes(b"garbage" * 1000)

    code, _, err = idsync(workspace, "connector", "list")
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert "damaged or not an idsync database" in err and "idsync db restore" in err

    argv = [sys.executable, "-m", "idsync", "--workspace", str(workspace), "--debug",
            "connector", "list"]
    loud = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False,
                          env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    assert loud.returncode != 0 and "Traceback" in loud.stderr
    assert "file is not a database" in loud.stderr


def test_clouddir_command_line_misuse_is_one_line() -> None:
    result = CliRunner().invoke(clouddir_main, ["serve", "--limit", "bogus"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "'bogus' is not NAME=VALUE" in result.stderr


def test_settings_stored_before_the_schema_stop_a_run_with_the_same_message(
        tmp_path: Path) -> None:
    """A workspace that already holds a bad setting (stored by an older idsync): the run ends
    stopped-configuration-error with the message `connector set` gives, not a traceback."""
    from idsync.store import Store

    workspace = tmp_path / "ws"
    assert idsync(workspace, "init")[0] == 0
    store = Store.open(workspace)
    store.connectors.add("corp", "ldap", {"uri": "ldap://127.0.0.1:1",
                                          "partitions": "dc=corp,dc=example",
                                          "page_size": "abc"}, {})
    store.close()
    expected = "ldap setting 'page_size': 'abc' is not a whole number"

    code, out, err = idsync(workspace, "run", "corp", "Full Import")
    assert code == 1 and "Traceback" not in out + err
    assert "stopped-configuration-error" in out and expected in out
    code, _, err = idsync(workspace, "connector", "set", "corp", "--set", "timeout=5")
    assert code == 2 and expected in err and len(err.splitlines()) == 1
    code, _, err = idsync(workspace, "connector", "set", "corp", "--set", "page_size=500")
    assert code == 0, err
