"""Deletion limits per connector and object type, the threshold's message and `idsync exports
discard`, run as an administrator does: a file source, a file target, the built-in rules, the
CLI for the settings (both stores)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from tests.harness.workspace import (
    TARGET_BASE,
    Workspace,
    ldif,
    make_workspace,
    target_dn,
    user_entry,
)

from idsync.administration.rule_changes import save_rules
from idsync.cli.main import build
from idsync.engine.deletion_limits import limit_breaches
from idsync.rules.files import builtin_rule_set, load_rules_text
from idsync.rules.model import ScopeOperator, ScopingClause, ScopingGroup

USERS = 60


class Cli:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0, raw: bool = False) -> str:
        result = self.runner.invoke(build(), ["--workspace", str(self.ws.path), *args],
                                    catch_exceptions=False)
        assert result.exit_code == code, (result.exit_code, result.output)
        # One line per message whatever the terminal's width (rich wraps long lines).
        if raw or "--json" in args:
            return result.output
        return " ".join(result.output.split()) + "\n"


def users(n: int, start: int = 0) -> list[str]:
    return [user_entry(f"u{i}", mail=f"u{i}@contoso.com") for i in range(start, start + n)]


def synced(tmp_path: Path) -> tuple[Workspace, Cli]:
    ws = make_workspace(tmp_path / "ws", ldif(*users(USERS)))
    ws.initial_cycle()
    return ws, Cli(ws)


def stage_deletes(ws: Workspace, keep: int) -> None:
    """The source loses every user from ``keep`` on; its import and sync stage the deletes."""
    ws.source_file.write_text(ldif(*users(keep)))
    assert ws.run("source", "fi", accept_deletes=True).ok
    assert ws.run("source", "ds").ok


def test_the_threshold_message_counts_per_type_samples_and_offers_safe_ways_out(
        tmp_path: Path) -> None:
    ws, cli = synced(tmp_path)
    cli("export-deletion-threshold", "set", "10")
    stage_deletes(ws, keep=USERS - 12)
    stopped = ws.run("target", "e")
    assert stopped.status == "stopped-deletion-threshold-exceeded"
    message = stopped.message or ""
    # per connector and object type, with the share of the space and a sample of DNs
    assert "target: 12 deletes of user, 20% of 60" in message
    assert target_dn("u48") in message.lower()
    # the safe ways out, in order: look, discard, raise the limit last
    look = message.index("idsync export preview target")
    drop = message.index("idsync exports discard target --kind delete --object-type user")
    raise_ = message.index("idsync deletion-limit set target --object-type user --count N")
    assert look < drop < raise_
    # nothing was sent
    assert target_dn("u59") in ws.target_entries()
    events = json.loads(cli("events", "list", "--id", "116", "--json"))
    assert events and events[0]["data"]["breaches"][0]["deletes"] == 12


TARGET_JOIN = """
rules:
  - name: In from target - Join
    direction: inbound
    connector: target
    cs_object_type: user
    mv_object_type: person
    link_type: Join
    precedence: 50
    join:
      - - {cs_attribute: uid, mv_attribute: accountName}
"""


def test_the_threshold_message_gives_each_sampled_delete_its_cause(tmp_path: Path) -> None:
    """Where the target's join rules find the metaverse object again, the message says why
    each sampled delete is there."""
    ws = make_workspace(tmp_path / "ws", ldif(*users(USERS)), rules=TARGET_JOIN)
    ws.initial_cycle()
    cli = Cli(ws)
    cli("export-deletion-threshold", "set", "10")
    stage_deletes(ws, keep=USERS - 12)
    message = ws.run("target", "e").message or ""
    assert "uid=u48,ou=People,dc=fabrikam,dc=com (no metaverse object left: deleted in the " \
        "source)" in message
    cli("exports", "discard", "target", "--confirm")
    # a rule disabled by mistake: every remaining user leaves the scope
    cli("rules", "disable", "Out to target - User Join", "--confirm")
    assert ws.run("source", "fs").ok
    message = ws.run("target", "e").message or ""
    assert "48 deletes of user" in message
    assert "uid=u0,ou=People,dc=fabrikam,dc=com (out of scope: its provisioning rule is " \
        "disabled or gone)" in message


def test_a_delete_out_of_scope_names_its_rule(tmp_path: Path) -> None:
    """A scoping change sends 12 people out of the target's scope: the message names the
    rule whose scope they left."""
    def people(temp: int) -> str:
        return ldif(*[user_entry(f"u{i}", extra={"department": ["Temp" if i < temp else "IT"]})
                      for i in range(USERS)])

    ws = make_workspace(tmp_path / "ws", people(0), builtin=False)
    rules = builtin_rule_set("directory-to-directory", source="source", target="target",
                             target_base=TARGET_BASE)
    for rule in rules:
        if rule.name == "Out to target - User Join":
            rule.scoping = [ScopingGroup([ScopingClause("department", ScopeOperator.NOTEQUAL,
                                                        "Temp")])]
    save_rules(ws.store, rules, installing_builtin=True)
    save_rules(ws.store, load_rules_text(TARGET_JOIN))
    ws.initial_cycle()
    Cli(ws)("export-deletion-threshold", "set", "10")
    ws.source_file.write_text(people(12))
    assert ws.run("source", "fi").ok and ws.run("source", "ds").ok
    message = ws.run("target", "e").message or ""
    assert "12 deletes of user" in message
    assert "uid=u0,ou=People,dc=fabrikam,dc=com (out of scope of rule 'Out to target - User " \
        "Join')" in message


def test_a_percentage_stops_what_the_global_count_lets_through(tmp_path: Path) -> None:
    ws, cli = synced(tmp_path)
    stage_deletes(ws, keep=USERS - 15)  # 15 deletes: far under the default count of 500
    cli("deletion-limit", "set", "target", "--object-type", "user", "--percent", "10")
    stopped = ws.run("target", "e")
    assert stopped.status == "stopped-deletion-threshold-exceeded"
    assert "15 deletes of user, 25% of 60" in (stopped.message or "")
    assert "10% of the objects" in (stopped.message or "")
    assert target_dn("u59") in ws.target_entries()
    # a count works the same way
    cli("deletion-limit", "set", "target", "--object-type", "user", "--count", "15")
    assert ws.run("target", "e").status == "stopped-deletion-threshold-exceeded"
    # the type's own limit above the deletes lets them through
    cli("deletion-limit", "set", "target", "--object-type", "user", "--count", "16")
    done = ws.run("target", "e")
    assert done.ok and done.counters["deletes"] == 15
    assert target_dn("u59") not in ws.target_entries()


def test_a_type_limit_lets_through_what_the_global_count_stops(tmp_path: Path) -> None:
    ws, cli = synced(tmp_path)
    cli("export-deletion-threshold", "set", "5")
    stage_deletes(ws, keep=USERS - 8)
    assert ws.run("target", "e").status == "stopped-deletion-threshold-exceeded"
    cli("deletion-limit", "set", "target", "--object-type", "user", "--count", "50")
    done = ws.run("target", "e")
    assert done.ok and done.counters["deletes"] == 8
    # reset: the default applies again
    cli("deletion-limit", "reset", "target", "--object-type", "user")
    shown = json.loads(cli("deletion-limit", "show", "target", "--json"))
    assert {r["object_type"]: r["limit"]["source"] for r in shown["limits"]} == {
        "user": "default"}


def test_the_default_percentage_protects_a_small_directory_but_not_a_test_one(
        tmp_path: Path) -> None:
    """60 users losing 55 (92%, over the floor of 50 deletes) stop at the default; the full
    import's shrink guard applies the same limits."""
    ws, _ = synced(tmp_path)
    ws.source_file.write_text(ldif(*users(USERS - 55)))
    stopped = ws.run("source", "fi")
    assert stopped.status == "stopped-deletion-threshold-exceeded"
    assert "55 deletes of user" in (stopped.message or "")
    assert "--accept-deletes" in (stopped.message or "")
    stage_deletes(ws, keep=USERS - 55)
    assert ws.run("target", "e").status == "stopped-deletion-threshold-exceeded"
    # a 10-object test directory deleting everything: under the floor, nothing stops
    small = make_workspace(tmp_path / "small", ldif(*users(10)))
    small.initial_cycle()
    small.source_file.write_text(ldif())
    assert small.run("source", "fi").ok and small.run("source", "ds").ok
    assert small.run("target", "e").counters["deletes"] == 10


def test_bad_limits_are_refused_when_set(tmp_path: Path) -> None:
    _, cli = synced(tmp_path)
    for args, words in (
            (["--percent", "150"], "at most 100"),
            (["--percent", "-1"], "above 0"),
            (["--count", "-3"], "at least 1"),
            ([], "give --count N or --percent P"),
            (["--object-type", "printer", "--count", "3"], "no object type 'printer'")):
        out = cli("deletion-limit", "set", "target", *args, code=2, raw=True)
        assert words in out and len(out.strip().splitlines()) == 1, out
    out = cli("deletion-limit", "set", "nope", "--count", "3", code=2)
    assert "no connector named 'nope'" in out
    assert json.loads(cli("deletion-limit", "show", "target", "--json"))["limits"][0][
        "limit"]["source"] == "default"


def test_limit_breaches_is_what_a_preview_can_ask(tmp_path: Path) -> None:
    ws, cli = synced(tmp_path)
    record = ws.store.connectors.get("target")
    assert limit_breaches(ws.store, record, {"user": 11}) == []
    cli("deletion-limit", "set", "target", "--object-type", "user", "--percent", "10")
    [breach] = limit_breaches(ws.store, record, {"user": 7})
    assert (breach.object_type, breach.deletes, breach.objects) == ("user", 7, 60)


def test_discard_lists_without_confirm_and_drops_with_it(tmp_path: Path) -> None:
    ws, cli = synced(tmp_path)
    cli("export-deletion-threshold", "set", "10")
    stage_deletes(ws, keep=USERS - 12)
    before = ws.pending_exports()
    listed = cli("exports", "discard", "target", "--kind", "delete", code=1)
    assert "12 pending exports of target would be discarded" in listed
    assert "nothing was changed" in listed and "u48" in listed
    assert ws.pending_exports() == before == 12
    out = cli("exports", "discard", "target", "--kind", "delete", "--object-type", "user",
              "--confirm")
    assert "12 pending exports of target discarded" in out
    assert "stages again each change whose cause remains" in out
    assert "a delete whose source object is still gone or out of scope comes back" in out
    assert ws.pending_exports() == 0
    discarded = json.loads(cli("exports", "discarded", "target", "--json"))
    assert len(discarded) == 12 and {d["kind"] for d in discarded} == {"delete"}
    assert json.loads(cli("events", "list", "--id", "131", "--json"))
    assert all(c.full_sync_required for c in ws.store.connectors.list())
    # the export runs and deletes nothing
    done = ws.run("target", "e")
    assert done.ok and "deletes" not in done.counters
    assert target_dn("u59") in ws.target_entries()
    # the cause remains (the users are still gone from the source): once every connector had
    # its full synchronization, the deletes are staged again and meet the limit again
    assert ws.run("source", "fs").ok
    assert ws.pending_exports() == 0
    assert ws.run("target", "fs").counters["discarded-deletes-staged-again"] == 12
    assert ws.pending_exports() == 12
    assert {d["outcome"] for d in json.loads(cli("exports", "discarded", "target", "--json"))
            } == {"staged again"}
    assert ws.run("target", "e").status == "stopped-deletion-threshold-exceeded"


def test_a_discarded_delete_whose_cause_is_gone_keeps_the_object(tmp_path: Path) -> None:
    """The scoping mistake of issue 14: the source loses users, the deletes are held and
    discarded, the source is fixed; the users join their existing target objects again."""
    ws, cli = synced(tmp_path)
    cli("export-deletion-threshold", "set", "10")
    before = ws.target_entries()[target_dn("u50")]
    stage_deletes(ws, keep=USERS - 12)
    cli("exports", "discard", "target", "--kind", "delete", "--confirm")
    ws.source_file.write_text(ldif(*users(USERS)))
    for connector, profile in (("source", "fi"), ("source", "fs"), ("target", "fs")):
        assert ws.run(connector, profile).ok
    assert ws.pending_exports() == 0
    assert ws.run("target", "e").ok
    assert ws.target_entries()[target_dn("u50")] == before
    assert {d["outcome"] for d in json.loads(cli("exports", "discarded", "target", "--json"))
            } == {"cause gone"}


def test_discard_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    _, cli = synced(tmp_path)
    out = cli("exports", "discard", "nope", code=2, raw=True)
    assert "no connector named 'nope'" in out and len(out.strip().splitlines()) == 1
    out = cli("exports", "discard", "target", "--kind", "erase", code=2, raw=True)
    assert "unknown export kind 'erase'" in out and len(out.strip().splitlines()) == 1
    assert "no pending export of target matches" in cli("exports", "discard", "target")


def test_a_configuration_change_is_held_by_a_type_limit(tmp_path: Path) -> None:
    """The configuration-change preview asks the same limits: with the default off, a type's
    own limit still holds a rule change that would delete every user."""
    ws, cli = synced(tmp_path)
    cli("export-deletion-threshold", "disable")
    cli("deletion-limit", "set", "target", "--object-type", "user", "--percent", "10")
    held = cli("rules", "disable", "Out to target - User Join", code=3)
    assert "over the deletion limit of user (10% of the objects" in held
    assert ws.store.rules.get("Out to target - User Join").disabled is False
    cli("deletion-limit", "reset", "target", "--object-type", "user")
    cli("rules", "disable", "Out to target - User Join")
