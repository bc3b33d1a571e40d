"""Property test: the streaming, in-place rewrite gives the same directory as applying the
changes one by one to a plain dict, however the changes are split into calls."""

from __future__ import annotations

import copy
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idsync.connectors.file import (
    AddRecord,
    ContentRecord,
    DeleteRecord,
    ModDnRecord,
    Modification,
    ModifyRecord,
    apply_changes,
    read_ldif,
)
from idsync.filedir.dn import normalize_dn

PARENTS = ["ou=A,dc=x", "ou=B,dc=x"]
NAMES = ["ann", "bob", "Cy"]
# The directory starts with half the possible DNs, so changes often meet existing entries
# (which sit in the file) as well as entries added earlier in the same call.
SEED = [("cn=ann,ou=A,dc=x", "seed-1"), ("cn=bob,ou=B,dc=x", "seed-2"),
        ("cn=Cy,ou=A,dc=x", "seed-3")]
dns = st.builds(lambda n, p: f"cn={n},{p}", st.sampled_from(NAMES), st.sampled_from(PARENTS))
values = st.lists(st.sampled_from(["v1", "v2", "v3"]), min_size=1, max_size=3, unique=True)
counter = iter(range(10**9))

adds = st.builds(lambda dn, v: AddRecord(dn, {"objectClass": ["person"], "title": v,
                                              "entryUUID": [f"id-{next(counter)}"]}), dns, values)
operations = st.one_of(
    adds,
    st.builds(DeleteRecord, dns),
    st.builds(lambda dn, op, v: ModifyRecord(dn, [Modification(op, "title", v)]), dns,
              st.sampled_from(["add", "delete", "replace"]), values),
    st.builds(lambda dn, n, p: ModDnRecord(dn, f"cn={n}", True, p), dns,
              st.sampled_from(NAMES), st.none() | st.sampled_from(PARENTS)),
)


def model_apply(model: dict[str, tuple[str, dict]], record) -> None:
    key = normalize_dn(record.dn)
    if isinstance(record, AddRecord):
        if key not in model:
            attributes = {k: list(v) for k, v in record.attributes.items()}
            attributes["cn"] = [record.dn.split(",")[0][3:]]
            model[key] = (record.dn, attributes)
        return
    if key not in model:
        return
    dn, attributes = model[key]
    if isinstance(record, DeleteRecord):
        del model[key]
    elif isinstance(record, ModifyRecord):
        [mod] = record.modifications
        current = attributes.get("title", [])
        if mod.op == "replace":
            current = list(mod.values)
        elif mod.op == "add":
            current = current + [v for v in mod.values if v not in current]
        else:
            current = [v for v in current if v not in mod.values]
        attributes.pop("title", None)
        if current:
            attributes["title"] = current
    else:
        parent = record.newsuperior or dn.split(",", 1)[1]
        new_dn = f"{record.newrdn},{parent}"
        new_key = normalize_dn(new_dn)
        if new_key != key and new_key in model:
            return
        del model[key]
        old_cn = dn.split(",")[0][3:]
        cns = [v for v in attributes.get("cn", []) if v.lower() != old_cn.lower()]
        new_cn = record.newrdn[3:]
        if new_cn.lower() not in (v.lower() for v in cns):
            cns.append(new_cn)
        attributes["cn"] = cns
        model[new_key] = (new_dn, attributes)


def file_state(path: Path) -> dict[str, tuple[str, dict]]:
    state = {}
    for record in read_ldif(path):
        assert isinstance(record, ContentRecord)
        assert normalize_dn(record.dn) not in state, "duplicate DN in the content file"
        state[normalize_dn(record.dn)] = (record.dn, record.attributes)
    return state


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(operations, min_size=1, max_size=8), min_size=1, max_size=4))
def test_rewrite_matches_a_dict_model(tmp_path_factory, calls: list[list]) -> None:
    folder = tmp_path_factory.mktemp("model")
    path = folder / "d.ldif"
    path.write_text("dn: dc=x\nobjectClass: domain\ndc: x\n\n")
    model: dict[str, tuple[str, dict]] = {}
    seed = [AddRecord(dn, {"objectClass": ["person"], "title": ["v1"], "entryUUID": [anchor]})
            for dn, anchor in SEED]
    apply_changes(path, seed, changes_path=folder / "seed.ldif")
    for record in seed:
        model_apply(model, record)
    for call in calls:
        outcomes = apply_changes(path, call, strict=False)
        for record, outcome in zip(call, outcomes, strict=True):
            before = copy.deepcopy(model)
            model_apply(model, record)
            if not outcome.ok:  # refused by the directory: the model did nothing either
                assert before == model, (record, outcome)
        state = file_state(path)
        state.pop("dc=x")
        assert {k: (dn, {a: v for a, v in attrs.items() if a != "objectClass"})
                for k, (dn, attrs) in state.items()} == {
            k: (dn, {a: v for a, v in attrs.items() if a != "objectClass"})
            for k, (dn, attrs) in model.items()}
    # The changelog replays to the same directory from an empty start.
    replay = folder / "replay.ldif"
    replay.write_text("dn: dc=x\nobjectClass: domain\ndc: x\n\n")
    apply_changes(replay, seed, changes_path=folder / "seed2.ldif")
    log = folder / "d.changes.ldif"
    logged = list(read_ldif(log)) if log.exists() else []
    apply_changes(replay, logged, changes_path=folder / "replay.changes.ldif")
    assert file_state(replay) == file_state(path)
