"""A DN freed and taken again in one cycle (issue 14), with a real OpenLDAP (slapd) as the
target: there the DN is the identity. A person deleted and a different person created at her
DN before the next delta cycle: the old entry is deleted (its entryUUID gone), the new person
is added in the same export run as a new entry with only her own attributes and groups, and
an initial cycle afterwards stages nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_reference_integrity import staged
from tests.harness.slapd import slapd, slapd_factory  # noqa: F401
from tests.harness.workspace import SOURCE_BASE, group_entry, ldif, make_workspace, user_entry

from idsync.administration.rule_changes import save_rules
from idsync.rules.files import builtin_rule_set


def user(uid: str) -> str:
    return f"uid={uid},ou=Users,{SOURCE_BASE}"


def entry(server: Any, dn: str) -> dict[str, list[str]] | None:
    import ldap

    try:
        found = server.search(dn, scope="base", attrs=["*", "entryUUID"])
    except ldap.NO_SUCH_OBJECT:
        return None
    return {k.lower(): [v.decode() for v in vs] for k, vs in found[0][1].items()}


def test_delete_and_add_at_the_same_dn_on_openldap(slapd, tmp_path: Path  # noqa: F811
                                                   ) -> None:
    base = slapd.base_dn
    ws = make_workspace(tmp_path / "ws", ldif(
        user_entry("ann", anchor="ann-1", sn="Old", mail="ann.old@contoso.com"),
        user_entry("bob", anchor="bob-1"), group_entry("g0", ["ann", "bob"]),
        group_entry("g1", ["ann", "bob"])), builtin=False)
    ws.store.connectors.add("ldap", "ldap", slapd.connector_settings(
        directory_type="openldap"), {"password": slapd.password})
    save_rules(ws.store, builtin_rule_set("directory-to-directory", source="source",
                                          target="ldap", target_base=base),
               installing_builtin=True)

    def cycle(*runs: tuple[str, str]) -> list[Any]:
        results = [ws.run(c, p) for c, p in runs]
        assert all(r.ok for r in results), [(r.profile, r.status, r.message) for r in results]
        return results

    initial = (("source", "fi"), ("ldap", "fi"), ("source", "fs"), ("ldap", "fs"),
               ("ldap", "e"), ("ldap", "fi"), ("ldap", "ds"))
    cycle(*initial)
    ann_dn, g0, g1 = (f"uid=ann,ou=People,{base}", f"cn=g0,ou=Groups,{base}",
                      f"cn=g1,ou=Groups,{base}")
    old = entry(slapd, ann_dn)
    assert old is not None and old["mail"] == ["ann.old@contoso.com"]
    ws.change_source(f"dn: {user('ann')}\nchangetype: delete\n")
    for cn in ("g0", "g1"):
        ws.change_source(f"dn: cn={cn},ou=Groups,{SOURCE_BASE}\nchangetype: modify\n"
                         f"delete: member\nmember: {user('ann')}\n-\n")
    ws.change_source(f"dn: {user('ann')}\nchangetype: add\n" + "\n".join(
        user_entry("ann", anchor="ann-2", sn="New").splitlines()[1:]) + "\n")
    export = cycle(("source", "di"), ("source", "ds"), ("ldap", "e"), ("ldap", "fi"),
                   ("ldap", "ds"))[2]
    assert export.counters.get("deletes") == 1 and export.counters.get("adds") == 1
    assert not export.counters.get("export-errors"), ws.store.db.query(
        "SELECT dn, code, detail FROM run_errors")
    new = entry(slapd, ann_dn)
    assert new is not None and new["entryuuid"] != old["entryuuid"]
    assert new["sn"] == ["New"] and "mail" not in new
    for dn in (g0, g1):
        members = {m.lower() for m in (entry(slapd, dn) or {}).get("member", [])}
        assert ann_dn.lower() not in members, dn
    assert staged(cycle(*initial)) == {}
    ws.store.close()
