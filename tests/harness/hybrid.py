"""A hybrid workspace for the writeback and large-group tests: an OpenLDAP slapd (LDAP
connector ``corp``) and a clouddir tenant (cloud connector ``cloud``) with the out-of-box rules.
Shared by tests/writeback and tests/largegroups."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from idsync.administration.outofbox import install_outofbox
from idsync.administration.rule_changes import save_rules
from idsync.cli.main import build
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.model import RunProfile
from idsync.rules.model import SyncRule
from idsync.rules.outofbox import GROUP_JOIN_RULE, outofbox_rules
from idsync.store import Store

#: Informational (a member exported in the same batch as its group); clears on the next export.
INFORMATIONAL = {"dn-attributes-failure"}


def person(uid: str) -> dict[str, list[str]]:
    return {"objectClass": ["inetOrgPerson"], "uid": [uid], "cn": [uid.title()],
            "sn": ["Tester"], "mail": [f"{uid}@example.com"]}


@dataclass
class Hybrid:
    workspace: Path
    store: Store
    slapd: Any
    tenant: Any

    @property
    def base(self) -> str:
        return str(self.slapd.base_dn)

    def run(self, connector: str, profile: str, *, allow: set[str] | None = None) -> RunResult:
        engine = RunContext(self.store, str(self.workspace))
        try:
            result = run_profile(engine, connector, RunProfile.parse(profile))
        finally:
            engine.close()
        errors = {e.code for e in self.store.errors.list()} - INFORMATIONAL - (allow or set())
        assert not errors, (connector, profile, [(e.code, e.detail)
                                                 for e in self.store.errors.list()])
        return result

    def steps(self, *steps: str, allow: set[str] | None = None) -> list[RunResult]:
        """``"corp:fi", "cloud:e", ...``; every run must succeed."""
        results = []
        for step in steps:
            connector, profile = step.split(":")
            result = self.run(connector, profile, allow=allow)
            assert result.ok, (step, result.status, result.message)
            results.append(result)
        return results

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(build(), ["--workspace", str(self.workspace), *args])

    def graph(self, method: str, path: str, body: Any = None) -> Any:
        with self.tenant.client() as http:
            response = http.request(method, f"/v1.0/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def cloud_ids(self) -> dict[str, str]:
        """displayName -> cloud id of every cloud object."""
        entries, _token, _pages = self.tenant.import_all(2)
        return {e["attributes"].get("displayName", [""])[0]: e["id"] for e in entries}

    def unified_group(self, name: str, member_ids: list[str]) -> str:
        group = self.graph("POST", "groups", {
            "displayName": name, "mailNickname": name.lower(), "groupTypes": ["Unified"],
            "mailEnabled": True, "securityEnabled": False})
        self.add_members(group["id"], member_ids)
        return str(group["id"])

    def add_members(self, group_id: str, member_ids: list[str]) -> None:
        for i in range(0, len(member_ids), 20):  # Graph: 20 per request
            self.graph("PATCH", f"groups/{group_id}", {"members@odata.bind": [
                f"{self.tenant.url}/v1.0/directoryObjects/{m}" for m in member_ids[i:i + 20]]})

    def ldap_group(self, dn: str) -> dict[str, list[str]] | None:
        import ldap

        try:
            found = self.slapd.search(dn, "(objectClass=*)", scope="base")
        except ldap.NO_SUCH_OBJECT:
            return None
        attrs = found[0][1]
        return {k: [v.decode() if isinstance(v, bytes) else v for v in vs]
                for k, vs in attrs.items()}


def install_rules(store: Store, group_limit: int | None) -> None:
    """The out-of-box rules; ``group_limit`` replaces the 50,000 of Out to AAD - Group Join
    (a scaled-down directory: the limits lowered by configuration)."""
    if group_limit is None:
        install_outofbox(store, "corp", "cloud")
        return
    rules = []
    for rule in outofbox_rules("corp", "cloud", "openldap"):
        if rule.name == GROUP_JOIN_RULE:
            text = json.dumps(rule.to_dict()).replace("50000", str(group_limit))
            rule = SyncRule.from_dict(json.loads(text))
        rules.append(rule)
    save_rules(store, rules, installing_builtin=True)


def make_hybrid(workspace: Path, slapd: Any, tenant: Any, users: list[str], *,
                group_limit: int | None = None) -> Hybrid:
    base = slapd.base_dn
    slapd.add(f"ou=Writeback,{base}", {"objectClass": ["organizationalUnit"],
                                       "ou": ["Writeback"]})
    for uid in users:
        slapd.add(f"uid={uid},ou=People,{base}", person(uid))
    store = Store.open(workspace)
    store.connectors.add("corp", "ldap", slapd.connector_settings(
        directory_type="openldap", change_detection="accesslog"), {"password": slapd.password})
    store.connectors.add("cloud", "cloud", tenant.connector_settings(), tenant.secrets())
    install_rules(store, group_limit)
    return Hybrid(workspace, store, slapd, tenant)


# --- the large-group scenarios' shared steps (tests/largegroups, tests/web) ----------------

#: The out-of-box member limit's error (an Error() in the Group Join rule's transformation).
LIMIT_ERROR = "sync-rule-error-function-triggered"
FULL = ("corp:fi", "corp:fs", "cloud:fi", "cloud:fs", "cloud:e", "corp:e",
        "cloud:di", "cloud:ds", "corp:di", "corp:ds")
DELTA = ("corp:di", "corp:ds", "cloud:di", "cloud:ds", "cloud:e", "corp:e",
         "cloud:di", "cloud:ds", "corp:di", "corp:ds")


def limit_expression(n: int) -> str:
    return (f'member=IIF(ValueCount("member")> {n},'
            'Error("Maximum Group member count exceeded"),IgnoreThisFlow)')


def cloud_groups(h: Hybrid) -> dict[str, int]:
    """Synced (from on-premises) groups in the cloud: displayName -> member count."""
    entries, _token, _pages = h.tenant.import_all(2)
    names: dict[str, str] = {}
    counts: dict[str, int] = defaultdict(int)
    for e in entries:
        if e["object_type"] == "group" and e.get("source_anchor"):
            names.setdefault(e["id"], e["attributes"]["displayName"][0])
            counts[e["id"]] += len(e["members"]["add"])
    return {names[i]: counts[i] for i in names}


def limit_errors(h: Hybrid) -> list[str]:
    return [e.detail for e in h.store.errors.list() if e.code == LIMIT_ERROR]


def onprem_group(h: Hybrid, name: str, members: list[str]) -> None:
    h.slapd.add(f"cn={name},ou=Groups,{h.base}", {
        "objectClass": ["groupOfNames"], "cn": [name],
        "member": [f"uid={m},ou=People,{h.base}" for m in members]})


def ok(h: Hybrid, *args: str, code: int = 0) -> str:
    result = h.cli(*args)
    assert result.exit_code == code, (args, result.output)
    return result.output


def small_and_large_group_on_v2(h: Hybrid, users: list[str]) -> None:
    """Groups ``small`` (3 members) and ``g8`` (8, above the scaled-down v1 limit of 5) in the
    cloud through API v2 and an editable copy of the Group Join rule allowing 25: where a
    rollback to v1 starts."""
    onprem_group(h, "small", users[:3])
    onprem_group(h, "g8", users[:8])
    ok(h, "rules", "copy", "Out to AAD - Group Join", "--precedence", "50")
    ok(h, "rules", "edit", "Out to AAD - Group Join (copy)", "--transformation",
       limit_expression(25), "--scope-value", "memberCount=25")
    h.steps("corp:fi", "corp:fs", "cloud:fi", "cloud:fs", "cloud:e", "cloud:fi", "cloud:fs")
    assert cloud_groups(h) == {"small": 3, "g8": 8}
