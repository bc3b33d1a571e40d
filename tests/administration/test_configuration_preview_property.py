"""The preview predicts what the synchronization then stages, for random rule changes: scoping
of the inbound and outbound user rules, rules disabled. Each example applies its change and
runs the real synchronization inside a discarded transaction, so one synchronized workspace (the
file connector, real engine) serves every example."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.harness.workspace import group_entry, ldif, make_workspace, user_entry

from idsync.administration import rule_changes
from idsync.administration.rule_editing import edit_rule
from idsync.administration.simulation import Change, plan, simulate
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import run_profile
from idsync.rules.edits import RuleEdit, parse_scope_group
from idsync.store.simulation import SimulationDiff

DEPARTMENTS = ["Sales", "Eng", "Ops"]
RULES = ["In from source - User Join", "In from source - Group Join",
         "Out to target - User Join", "Out to target - Group Join"]
KIND = {"add": Change.ADD, "modify": Change.UPDATE, "rename": Change.RENAME,
        "delete": Change.DELETE}

scopes = st.one_of(
    st.just(None),  # unchanged
    st.just([]),  # every object
    st.builds(lambda op, d: [parse_scope_group(f"department {op} {d}")],
              st.sampled_from(["EQUAL", "NOTEQUAL"]), st.sampled_from(DEPARTMENTS)))


def test_the_preview_predicts_what_the_synchronization_stages(tmp_path: Path) -> None:
    users = [user_entry(f"u{i:02d}", mail=f"u{i}@contoso.com",
                        extra={"department": [DEPARTMENTS[i % 3]]}) for i in range(18)]
    groups = [group_entry(f"g{d}", [f"u{i:02d}" for i in range(18) if i % 3 == n])
              for n, d in enumerate(DEPARTMENTS)]
    ws = make_workspace(tmp_path / "ws", ldif(*users, *groups))
    ws.initial_cycle()
    store = ws.store

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(inbound=scopes, outbound=scopes,
           disabled=st.sets(st.sampled_from(RULES), max_size=2))
    def check(inbound, outbound, disabled) -> None:  # type: ignore[no-untyped-def]
        with store.db.discarded():
            for name, scoping in ((RULES[0], inbound), (RULES[2], outbound)):
                if scoping is not None:
                    edit_rule(store, name, RuleEdit(scoping=scoping))
            for name in disabled:
                rule_changes.set_disabled(store, name, True)
            diff = SimulationDiff(store.db)
            before = sorted(diff.pending_counts())
            preview = simulate(store, str(ws.path), required_only=True)
            assert sorted(diff.pending_counts()) == before  # the simulation kept nothing
            predicted = Counter({(name, t, change): n
                                 for name, e in preview.connectors.items()
                                 for t, te in e.types.items()
                                 for change, n in te.counts.items()
                                 if change in KIND.values()})
            engine = RunContext(store, str(ws.path))
            try:
                for record, profile in plan(store, engine, None, True):
                    assert run_profile(engine, record.name, profile).ok
            finally:
                engine.close()
            names = {c.id: c.name for c in store.connectors.list()}
            staged = Counter({(names[cid], t, KIND[kind]): n
                              for cid, t, kind, n in diff.pending_counts()})
            assert predicted == staged

    check()
