"""The import guard on attribute wipes: an import that clears `mail` on most users (a
permission change, a schema mistake) is held before synchronization and nothing reaches the
target; fixing the cause lifts the hold, `--accept-changes` takes the changes (both stores)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from tests.harness.workspace import Workspace, ldif, make_workspace, target_dn, user_entry

from idsync.cli.main import build

USERS = 120
WIPED = 100


def directory(*, without_mail: int = 0) -> str:
    return ldif(*[user_entry(f"u{i}", mail=None if i < without_mail else f"u{i}@contoso.com")
                  for i in range(USERS)])


def idsync(ws: Workspace, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(build(), ["--workspace", str(ws.path), *args],
                                catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def mails(ws: Workspace) -> int:
    return sum(1 for i in range(USERS) if ws.target_entries()[target_dn(f"u{i}")].get("mail"))


def wiped(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path / "ws", directory())
    ws.initial_cycle()
    assert mails(ws) == USERS
    ws.source_file.write_text(directory(without_mail=WIPED))
    return ws


def test_a_wipe_on_full_import_stops_before_synchronization(tmp_path: Path) -> None:
    ws = wiped(tmp_path)
    stopped = ws.run("source", "fi")
    assert stopped.status == "stopped-attribute-change-limit"
    message = stopped.message or ""
    assert "mail cleared or changed on 100 of 120 user objects (83%)" in message
    assert "uid=u0,ou=Users,dc=contoso,dc=com" in message
    assert "--accept-changes" in message
    events = json.loads(idsync(ws, "events", "list", "--id", "134", "--json"))
    assert events and events[0]["data"]["breaches"][0]["attribute"] == "mail"
    # every synchronization of the connector refuses, so nothing reaches the target
    for profile in ("ds", "fs"):
        assert ws.run("source", profile).status == "stopped-attribute-change-limit"
    assert ws.run("target", "e").ok
    assert mails(ws) == USERS and ws.pending_exports() == 0
    # another import of the same content keeps the hold (the wiped values are not "new")
    assert ws.run("source", "fi").ok
    assert ws.run("source", "ds").status == "stopped-attribute-change-limit"
    shown = json.loads(idsync(ws, "attribute-change-limit", "show", "source", "--json"))
    assert shown["hold"]["breaches"][0]["count"] == WIPED
    # the administrator fixes the cause: the values come back, the hold lifts by itself
    ws.source_file.write_text(directory())
    assert ws.run("source", "fi").ok
    assert json.loads(idsync(ws, "events", "list", "--id", "135", "--json"))
    assert ws.run("source", "ds").ok
    assert ws.run("target", "e").ok
    assert mails(ws) == USERS


def test_accept_changes_lets_an_intended_wipe_through(tmp_path: Path) -> None:
    ws = wiped(tmp_path)
    assert ws.run("source", "fi").status == "stopped-attribute-change-limit"
    assert ws.run("source", "ds", accept_changes=True).ok
    assert ws.run("target", "e").ok
    assert mails(ws) == USERS - WIPED
    # the target's import confirming our own mass change is no wipe: nothing is held there
    assert ws.run("target", "fi").ok and ws.run("target", "ds").ok
    assert ws.pending_exports() == 0
    # accepted on the import itself: the run goes on and synchronization takes it
    ws.source_file.write_text(directory(without_mail=USERS))
    assert ws.run("source", "fi", accept_changes=True).ok
    assert ws.run("source", "ds").ok


def test_a_wipe_on_delta_import_stops_too(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", directory())
    ws.initial_cycle()
    ws.change_source("".join(
        f"dn: uid=u{i},ou=Users,dc=contoso,dc=com\nchangetype: modify\ndelete: mail\n-\n\n"
        for i in range(70)))
    stopped = ws.run("source", "di")
    assert stopped.status == "stopped-attribute-change-limit"
    assert "mail cleared or changed on 70 of 120 user objects" in (stopped.message or "")
    assert ws.run("source", "ds").status == "stopped-attribute-change-limit"
    assert ws.run("target", "e").ok and mails(ws) == USERS


def test_small_spaces_and_the_limit_settings(tmp_path: Path) -> None:
    """Under 100 objects of a type nothing is held (a test directory); the limit is a
    per-connector setting, refused when bad."""
    ws = make_workspace(tmp_path / "ws", ldif(*[user_entry(f"u{i}", mail=f"u{i}@c.com")
                                                for i in range(20)]))
    ws.initial_cycle()
    ws.source_file.write_text(ldif(*[user_entry(f"u{i}") for i in range(20)]))
    assert ws.run("source", "fi").ok and ws.run("source", "ds").ok
    out = idsync(ws, "attribute-change-limit", "set", "source", "--percent", "0", code=2)
    assert "above 0" in out and len(out.strip().splitlines()) == 1
    idsync(ws, "attribute-change-limit", "set", "source", "--percent", "10", "--min-objects",
           "10")
    ws.source_file.write_text(ldif(*[user_entry(f"u{i}", sn="Jones") for i in range(20)]))
    stopped = ws.run("source", "fi")
    assert stopped.status == "stopped-attribute-change-limit"
    assert "sn cleared or changed on 20 of 20 user objects" in (stopped.message or "")
    # turning the limit off lets the held synchronization go
    idsync(ws, "attribute-change-limit", "set", "source", "--off")
    assert ws.run("source", "ds").ok


def test_an_attribute_no_rule_reads_is_not_counted(tmp_path: Path) -> None:
    """A directory's own churn on an attribute synchronization never takes (roomNumber here,
    logon times in a real one) holds nothing."""
    def rooms(n: int) -> str:
        return ldif(*[user_entry(f"u{i}", mail=f"u{i}@contoso.com",
                                 extra={"roomNumber": ["1"]} if i >= n else None)
                      for i in range(USERS)])

    ws = make_workspace(tmp_path / "ws", rooms(0))
    ws.initial_cycle()
    ws.source_file.write_text(rooms(WIPED))
    assert ws.run("source", "fi").ok and ws.run("source", "ds").ok
