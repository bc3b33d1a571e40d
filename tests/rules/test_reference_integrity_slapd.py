"""Issue 14, observations 6 and 7, on a real OpenLDAP (memberof overlay with refint, as the
demo's) synchronized to a real clouddir through the out-of-box rules:

* a deleted user's DN reused by a new, different user: after delta cycles the new user is a
  member of nothing in the cloud, and an initial cycle after them stages nothing;
* a renamed manager whose reports' ``manager`` values still name the old DN (no referential
  integrity for ``manager``): after delta cycles nobody's manager in the cloud, and an initial
  cycle stages nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.harness.slapd import slapd, slapd_factory  # noqa: F401

from idsync.administration.outofbox import install_outofbox
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.model import RunProfile
from idsync.store import Store

pytestmark = pytest.mark.slapd

INITIAL = (("corp", "fi"), ("cloud", "fi"), ("corp", "fs"), ("cloud", "fs"), ("cloud", "e"),
           ("cloud", "di"), ("cloud", "ds"))
DELTA = (("corp", "di"), ("corp", "ds"), ("cloud", "e"), ("cloud", "di"), ("cloud", "ds"))


def person(uid: str, manager: str | None = None) -> dict[str, list[str]]:
    attrs = {"objectClass": ["inetOrgPerson"], "uid": [uid], "cn": [uid.title()],
             "sn": ["Tester"], "givenName": [uid.title()], "mail": [f"{uid}@example.com"]}
    if manager:
        attrs["manager"] = [manager]
    return attrs


@pytest.fixture
def hybrid(slapd, clouddir, tmp_path: Path) -> Iterator[Callable[..., list[RunResult]]]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Runs cycles of slapd -> clouddir; returns each cycle's results."""
    store = Store.open(tmp_path)
    store.connectors.add("corp", "ldap", slapd.connector_settings(directory_type="openldap"),
                         {"password": slapd.password})
    store.connectors.add("cloud", "cloud", clouddir.connector_settings(), clouddir.secrets())
    install_outofbox(store, "corp", "cloud")

    def cycle(steps: tuple[tuple[str, str], ...]) -> list[RunResult]:
        results = []
        for connector, profile in steps:
            engine = RunContext(store, str(tmp_path))
            try:
                result = run_profile(engine, connector, RunProfile.parse(profile))
            finally:
                engine.close()
            assert result.ok, (connector, profile, result.status, result.message)
            results.append(result)
        return results

    yield cycle
    store.close()


def staged(results: list[RunResult]) -> dict[str, Any]:
    """What an initial cycle's on-premises import and its synchronizations staged."""
    out: dict[str, Any] = {}
    for r in results:
        for name, value in r.counters.items():
            if r.connector == "corp" and r.profile == "Full Import" and name in (
                    "adds", "updates", "deletes", "renames"):
                out[f"corp import {name}"] = value
            if name.endswith("-staged"):
                out[f"{r.connector} {r.profile} {name}"] = value
    return out


def cloud(clouddir: Any) -> dict[str, dict[str, Any]]:
    """The cloud's synchronized objects by display name (v1 full import: members whole)."""
    entries, _token, _pages = clouddir.import_all(1)
    return {e["attributes"]["displayName"][0]: e for e in entries if e.get("source_anchor")}


def test_a_new_user_at_a_deleted_users_dn_inherits_none_of_its_groups(  # type: ignore[no-untyped-def]
        slapd, clouddir, hybrid) -> None:  # noqa: F811
    base = slapd.base_dn
    ann, bob = f"uid=ann,ou=People,{base}", f"uid=bob,ou=People,{base}"
    slapd.add(ann, person("ann"))
    slapd.add(bob, person("bob"))
    groups = [f"team{i}" for i in range(10)]
    for cn in groups:
        slapd.add(f"cn={cn},ou=Groups,{base}", {"objectClass": ["groupOfNames"], "cn": [cn],
                                                "member": [ann, bob]})
    hybrid(INITIAL)
    first = cloud(clouddir)
    assert first["Ann"]["dn"] in first["team0"]["members"]
    # The overlay removes Ann from her ten groups, unseen by the delta import.
    slapd.delete(ann)
    hybrid(DELTA)
    # A different person at Ann's DN.
    slapd.add(ann, {**person("ann"), "cn": ["Another Ann"], "givenName": ["Another"],
                    "mail": ["another.ann@example.com"]})
    hybrid(DELTA)
    hybrid(DELTA)
    now = cloud(clouddir)
    new_ann = next(e for e in now.values() if e["attributes"].get("mail") ==
                   ["another.ann@example.com"])
    assert new_ann["source_anchor"] != first["Ann"]["source_anchor"]
    for cn in groups:
        group = now[cn]
        assert set(group["members"]) == {now["Bob"]["dn"]}, cn
    assert staged(hybrid(INITIAL)) == {}


def test_a_renamed_manager_is_nobodys_manager_without_referential_integrity(  # type: ignore[no-untyped-def]
        slapd, clouddir, hybrid) -> None:  # noqa: F811
    base = slapd.base_dn
    boss = f"uid=boss,ou=People,{base}"
    slapd.add(boss, person("boss"))
    reports = [f"r{i}" for i in range(5)]
    for uid in reports:
        slapd.add(f"uid={uid},ou=People,{base}", person(uid, manager=boss))
    hybrid(INITIAL)
    first = cloud(clouddir)
    assert first["R0"]["attributes"].get("manager") == [first["Boss"]["dn"]]
    # modrdn: slapd has no referential integrity for manager; the reports name the old DN.
    slapd.rename(boss, "uid=chief")
    for _ in range(2):
        hybrid(DELTA)
    now = cloud(clouddir)
    for uid in reports:
        assert not now[uid.title()]["attributes"].get("manager"), uid
    assert staged(hybrid(INITIAL)) == {}


def test_rounds_of_churn_leave_nothing_for_an_initial_cycle(  # type: ignore[no-untyped-def]
        slapd, clouddir, hybrid) -> None:  # noqa: F811
    """Observation 7's setting: rounds of ordinary churn (renames and moves of managers and
    members, deletes, a new person at a deleted person's DN, member adds that the memberof
    overlay mirrors in the members' memberOf), delta cycles, then an initial cycle: it stages
    nothing, import included (landed main staged 36-60 import updates and 20-40 cloud
    modifies on 300 users)."""
    import random

    base = slapd.base_dn
    rng = random.Random(14)

    def dn(i: int | str) -> str:
        return f"uid=u{i},ou=People,{base}"

    for i in range(30):
        slapd.add(dn(i), person(f"u{i}", manager=dn(i // 5) if i >= 5 else None))
    for g in range(6):
        slapd.add(f"cn=grp{g},ou=Groups,{base}", {
            "objectClass": ["groupOfNames"], "cn": [f"grp{g}"],
            "member": [dn(i) for i in rng.sample(range(30), 8)]})
    hybrid(INITIAL)
    deleted: list[str] = []
    for round_ in range(3):
        people = sorted(d for d, _ in slapd.search(base, "(objectClass=inetOrgPerson)",
                                                    attrs=["uid"]))
        for old in rng.sample(people, 3):  # managers among them
            slapd.rename(old, old.split(",", 1)[0] + f"r{round_}")
        people = sorted(d for d, _ in slapd.search(base, "(objectClass=inetOrgPerson)",
                                                    attrs=["uid"]))
        for gone in rng.sample(people, 2):
            slapd.delete(gone)
            deleted.append(gone)
        for reused in deleted[:-2][-1:]:  # deleted a round before
            uid = reused.split(",", 1)[0].split("=", 1)[1]
            slapd.add(reused, {**person(uid), "cn": [f"New {uid}"],
                               "mail": [f"new.{uid}.{round_}@example.com"]})
        for g in rng.sample(range(6), 2):
            group = f"cn=grp{g},ou=Groups,{base}"
            members = set(slapd.search(group, "(objectClass=*)", scope="base",
                                       attrs=["member"])[0][1].get("member", []))
            fresh = [p for p in people if p.encode() not in members and p not in deleted]
            slapd.modify(group, [("add", "member", [rng.choice(fresh)])])
        hybrid(DELTA)
        hybrid(DELTA)
    assert staged(hybrid(INITIAL)) == {}
