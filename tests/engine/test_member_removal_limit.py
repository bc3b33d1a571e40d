"""The per-group member removal limit: a change that removes 90% of one group's members holds
that group's export alone (an export error on the group), the rest of the run goes on, and an
administrator lets it through once (both stores)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from tests.harness.workspace import (
    Workspace,
    group_entry,
    ldif,
    make_workspace,
    target_dn,
    target_group_dn,
    user_entry,
)

from idsync.cli.main import build
from idsync.error_codes import ErrorCode

MEMBER_REMOVAL_LIMIT = ErrorCode.MEMBER_REMOVAL_LIMIT


def directory(g1: int, g2: int, *, mail_of_u39: str = "u39@contoso.com") -> str:
    users = [user_entry(f"u{i}", mail=mail_of_u39 if i == 39 else f"u{i}@contoso.com")
             for i in range(40)]
    return ldif(*users, group_entry("g1", [f"u{i}" for i in range(g1)]),
                group_entry("g2", [f"u{i}" for i in range(g2)]))


def idsync(ws: Workspace, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(build(), ["--workspace", str(ws.path), *args],
                                catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def members(ws: Workspace, cn: str) -> int:
    return len(ws.target_entries()[target_group_dn(cn)].get("member", []))


def cycle(ws: Workspace) -> str:
    for connector, profile in (("source", "fi"), ("source", "ds")):
        assert ws.run(connector, profile).ok
    result = ws.run("target", "e")
    assert result.ok
    return result.status


def test_a_mass_member_removal_holds_that_group_alone(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", directory(30, 25))
    ws.initial_cycle()
    assert (members(ws, "g1"), members(ws, "g2")) == (30, 25)
    # A filter mistake: g1 keeps 3 of its 30 members (90% removed); g2 loses 2 of 25; one
    # user's mail changes.
    ws.source_file.write_text(directory(3, 23, mail_of_u39="new39@contoso.com"))
    assert cycle(ws) == "completed-export-errors"
    assert members(ws, "g1") == 30  # held
    assert members(ws, "g2") == 23  # the rest of the run went on
    assert ws.target_entries()[target_dn("u39")]["mail"] == ["new39@contoso.com"]
    listed = idsync(ws, "errors", "list", "--connector", "target", "--json")
    assert MEMBER_REMOVAL_LIMIT in listed and "27 of the 30" in listed, listed
    assert "allow-member-removals target" in listed
    # still held by the next export, until an administrator allows it once
    assert ws.run("target", "e").status == "completed-export-errors"
    assert members(ws, "g1") == 30
    idsync(ws, "exports", "allow-member-removals", "target", target_group_dn("g1"))
    done = ws.run("target", "e")
    assert done.status == "success", done.message
    assert members(ws, "g1") == 3
    assert MEMBER_REMOVAL_LIMIT not in idsync(ws, "errors", "list", "--connector", "target",
                                              "--json")
    # only a held group can be allowed: no allowance waits for a later mass removal
    out = idsync(ws, "exports", "allow-member-removals", "target", target_group_dn("g2"), code=2)
    assert "is not held by the member removal limit" in " ".join(out.split())
    # the allowance was spent: the next mass removal is held again
    ws.source_file.write_text(directory(3, 2, mail_of_u39="new39@contoso.com"))
    assert cycle(ws) == "completed-export-errors"
    assert members(ws, "g2") == 23


def test_small_groups_and_the_limit_settings(tmp_path: Path) -> None:
    """A group under the minimum size loses most of its members freely; the limit is a
    per-connector setting, refused when bad."""
    ws = make_workspace(tmp_path / "ws", directory(10, 30))
    ws.initial_cycle()
    ws.source_file.write_text(directory(1, 30))
    assert cycle(ws) == "success"
    assert members(ws, "g1") == 1
    out = idsync(ws, "member-removal-limit", "set", "target", "--percent", "120", code=2)
    assert "at most 100" in out and len(out.strip().splitlines()) == 1
    idsync(ws, "member-removal-limit", "set", "target", "--percent", "10", "--min-members", "5")
    ws.source_file.write_text(directory(1, 26))  # 4 of 30: 13%
    assert cycle(ws) == "completed-export-errors"
    assert members(ws, "g2") == 30
    idsync(ws, "member-removal-limit", "set", "target", "--off")
    assert ws.run("target", "e").status == "success"
    assert members(ws, "g2") == 26
    out = idsync(ws, "exports", "allow-member-removals", "target", "cn=nope,dc=x", code=2)
    assert "holds no object at" in out
