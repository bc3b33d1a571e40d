"""Informational errors (``dn-attributes-failure``, event 6949) are counted and shown apart
from real errors: a cycle whose only errors are these ends ``completed-with-warnings``, the
run counts them as ``<stage>-informational``, ``/health`` and ``/metrics`` (a real
``idsync serve``) put them in their own counters, doctor says so, and the real error gauge
alerts watch stays 0."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.harness.commands import idsync, wait_for
from tests.harness.workspace import group_entry, ldif, make_workspace, user_entry

from idsync.administration.rule_changes import save_rules
from idsync.rules.model import ScopeOperator, ScopingClause, ScopingGroup


def _workspace(tmp_path: Path):
    # bob is out of the target's scope, but a member of staff: staff's export leaves him out
    # with an informational dn-attributes-failure.
    ws = make_workspace(tmp_path / "ws", ldif(
        user_entry("ann"), user_entry("bob", extra={"title": ["x"]}),
        group_entry("staff", ["ann", "bob"])))
    rule = ws.store.rules.get("Out to target - User Join")
    rule.scoping = [ScopingGroup([ScopingClause("title", ScopeOperator.ISNULL)])]
    save_rules(ws.store, [rule], installing_builtin=True)
    return ws


def _metric(text: str, name: str, connector: str) -> float:
    match = re.search(rf'^{name}{{connector="{connector}"}} (\S+)$', text, re.M)
    assert match, text
    return float(match.group(1))


def test_a_cycle_with_only_informational_errors_says_so(tmp_path: Path, serve_factory):
    ws = _workspace(tmp_path)
    ws.store.close()
    result = json.loads(idsync(ws.path, "cycle", "start", "--policy", "initial",
                               "--json").stdout)
    assert result["status"] == "completed-with-warnings", result
    assert {r["status"] for r in result["runs"]} <= {"success", "completed-warnings"}
    # Each run of the cycle says what it read and wrote (the source's full import: its file).
    [source_import] = [r for r in result["runs"]
                       if (r["connector"], r["profile"]) == ("source", "Full Import")]
    assert source_import["traffic"]["bytes_received"] == ws.source_file.stat().st_size
    counters = [r["counters"] for r in result["runs"] if r["status"] == "completed-warnings"]
    assert counters and all(c.get("export-informational") for c in counters), counters
    assert not any(k.endswith("-errors") for c in counters for k in c), counters
    shown = json.loads(idsync(ws.path, "scheduler", "show", "--json").stdout)
    assert "completed-with-warnings" in json.dumps(shown)
    errors = json.loads(idsync(ws.path, "errors", "list", "--json").stdout)
    assert [e["informational"] for e in errors] == [True]
    doctor = json.loads(idsync(ws.path, "doctor", "--json", "--offline", check=False).stdout)
    by_name = {c["name"]: c for c in doctor["checks"]}
    assert by_name["last sync cycle"]["status"] == "OK"
    assert by_name["errors target"]["status"] == "OK"
    assert "0 object error(s), 1 informational" in by_name["errors target"]["detail"]

    served = serve_factory(ws.path)
    health = wait_for(served.health, what="health")
    assert health["last_cycle_status"] == "completed-with-warnings"
    assert health["object_errors"]["target"] == 0
    assert health["informational_errors"]["target"] == 1
    metrics = served.metrics()
    assert _metric(metrics, "idsync_object_errors", "target") == 0
    assert _metric(metrics, "idsync_object_informational_errors", "target") == 1
