"""Property: a random directory and a random sequence of changes (adds, renames, attribute
edits, membership changes, deletes, scope changes), synchronized cycle by cycle, always leaves
the target equal to what the rules say; a further cycle with no change stages nothing."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.harness.workspace import (
    SOURCE_BASE,
    TARGET_BASE,
    group_entry,
    ldif,
    make_workspace,
    user_entry,
)

from idsync.administration.rule_changes import save_rules
from idsync.dn import normalize_dn
from idsync.filedir.ldif import read_ldif
from idsync.rules.files import builtin_rule_set
from idsync.rules.model import ScopeOperator, ScopingClause, ScopingGroup


def scoped_rules() -> list:
    """The built-in rules, with people of department Temp out of the target's scope."""
    rules = builtin_rule_set("directory-to-directory", source="source", target="target",
                             target_base=TARGET_BASE)
    for rule in rules:
        if rule.name == "Out to target - User Join":
            rule.scoping = [ScopingGroup([ScopingClause("department", ScopeOperator.NOTEQUAL,
                                                        "Temp")])]
    return rules


TITLES = ["Engineer", "Manager", "Clerk"]
DEPARTMENTS = ["Sales", "Temp", "IT"]


@st.composite
def directories(draw: st.DrawFn) -> dict:
    n = draw(st.integers(1, 8))
    users = {}
    for i in range(n):
        users[f"u{i}"] = {
            "title": draw(st.sampled_from([None, *TITLES])),
            "department": draw(st.sampled_from(DEPARTMENTS)),
            "manager": None,
        }
    for name in users:
        users[name]["manager"] = draw(st.sampled_from([None, *users]))
    groups = {f"g{j}": sorted(draw(st.sets(st.sampled_from(sorted(users)))))
              for j in range(draw(st.integers(0, 3)))}
    return {"users": users, "groups": groups}


operation = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(DEPARTMENTS)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("title"), st.integers(0, 50), st.sampled_from([None, *TITLES])),
    st.tuples(st.just("department"), st.integers(0, 50), st.sampled_from(DEPARTMENTS)),
    st.tuples(st.just("rename"), st.integers(0, 50)),
    st.tuples(st.just("member"), st.integers(0, 50), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("manager"), st.integers(0, 50), st.integers(0, 50)),
)


def render(state: dict) -> str:
    entries = []
    for uid, u in sorted(state["users"].items()):
        extra = {"department": [u["department"]]}
        if u["title"]:
            extra["title"] = [u["title"]]
        entries.append(user_entry(uid, anchor=u["anchor"], manager=u["manager"], extra=extra))
    for cn, members in sorted(state["groups"].items()):
        entries.append(group_entry(cn, sorted(members)))
    return ldif(*entries)


def apply(state: dict, op: tuple, counter: itertools.count) -> None:
    users, groups = state["users"], state["groups"]
    names = sorted(users)
    kind = op[0]
    if kind == "add":
        uid = f"n{next(counter)}"
        users[uid] = {"title": None, "department": op[1], "manager": None,
                      "anchor": f"anchor-{uid}"}
        return
    if not names:
        return
    pick = names[op[1] % len(names)]
    if kind == "delete":
        del users[pick]
        for members in groups.values():
            if pick in members:
                members.remove(pick)
        for u in users.values():
            if u["manager"] == pick:
                u["manager"] = None
    elif kind == "title":
        users[pick]["title"] = op[2]
    elif kind == "department":
        users[pick]["department"] = op[2]
    elif kind == "rename":
        # a new uid keeps the anchor: the target sees a rename
        new = f"r{next(counter)}"
        users[new] = users.pop(pick)
        for cn, members in groups.items():
            groups[cn] = [new if m == pick else m for m in members]
        for u in users.values():
            if u["manager"] == pick:
                u["manager"] = new
    elif kind == "member" and groups:
        cn = sorted(groups)[op[2] % len(groups)]
        if op[3] and pick not in groups[cn]:
            groups[cn].append(pick)
        elif not op[3] and pick in groups[cn]:
            groups[cn].remove(pick)
    elif kind == "manager":
        users[pick]["manager"] = names[op[2] % len(names)]


def expected_target(state: dict) -> dict[str, dict]:
    in_scope = {uid for uid, u in state["users"].items() if u["department"] != "Temp"}

    def tdn(uid: str) -> str:
        return normalize_dn(f"uid={uid},ou=People,{TARGET_BASE}")

    out: dict[str, dict] = {}
    for uid in in_scope:
        u = state["users"][uid]
        out[tdn(uid)] = {
            "title": [u["title"]] if u["title"] else [],
            "departmentnumber": [u["department"]],
            "manager": [tdn(u["manager"])] if u["manager"] in in_scope else [],
        }
    for cn, members in state["groups"].items():
        out[normalize_dn(f"cn={cn},ou=Groups,{TARGET_BASE}")] = {
            "member": sorted(tdn(m) for m in members if m in in_scope)}
    return out


def actual_target(path: Path) -> dict[str, dict]:
    out = {}
    with open(path, "rb") as f:
        for rec in read_ldif(f):
            dn = normalize_dn(rec.dn)
            if not (dn.endswith(",ou=people," + TARGET_BASE) or
                    dn.endswith(",ou=groups," + TARGET_BASE)):
                continue
            attrs = {k.lower(): v for k, v in rec.attributes.items()}
            if dn.endswith(",ou=people," + TARGET_BASE):
                out[dn] = {
                    "title": list(attrs.get("title", [])),
                    "departmentnumber": list(attrs.get("departmentnumber", [])),
                    "manager": [normalize_dn(m) for m in attrs.get("manager", [])],
                }
            else:
                out[dn] = {"member": sorted(normalize_dn(m) for m in attrs.get("member", []))}
    return out


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(directories(), st.lists(st.lists(operation, min_size=1, max_size=5), min_size=1,
                               max_size=3),
       # None: lists compared in memory; 1: every list compared in the store (large groups)
       st.sampled_from([None, 1]))
def test_cycles_converge_to_what_the_rules_say(directory: dict, steps: list,
                                               threshold: int | None) -> None:
    for uid, u in directory["users"].items():
        u["anchor"] = f"anchor-{uid}"
    counter = itertools.count()
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp) / "ws", render(directory), builtin=False,
                            reference_delta_threshold=threshold)
        save_rules(ws.store, scoped_rules(), installing_builtin=True)
        try:
            ws.initial_cycle()
            ws.run("target", "fi")
            assert actual_target(ws.target_file) == expected_target(directory)
            for step in steps:
                for op in step:
                    apply(directory, op, counter)
                # the source directory becomes the new state; a full import finds the changes
                ws.source_file.write_text(render(directory))
                ws.delta_cycle(source_import="fi")
                # a second pass settles references to objects renamed in the target
                ws.delta_cycle(source_import="fi")
                assert actual_target(ws.target_file) == expected_target(directory), step
            # idempotence: a cycle with no change stages nothing
            quiet = ws.delta_cycle(source_import="fi")
            assert quiet[1].counters.get("export-modifys-staged", 0) == 0
            assert quiet[2].counters == {}
        finally:
            ws.store.close()


def test_source_base_is_the_tests_base() -> None:
    assert SOURCE_BASE == "dc=contoso,dc=com"
