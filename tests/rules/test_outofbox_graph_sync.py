"""The Graph out-of-box rules in a real synchronization: an on-premises directory (file
connector, AD-shaped) imported and synchronized stages exports into a graph connector's space
with Graph's attribute names, the manager and the members as references, the placeholder DN,
mail-enabled groups as security groups, and groups above the member limit left out. Nothing
is exported: the graph connector is never contacted (a synchronization only asks which of its
attributes are references, and its MSAL setup is lazy)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.rules.conftest import BASE, ad_group, ad_user, guid, ldif

from idsync.administration.outofbox import install_outofbox
from idsync.administration.rule_editing import copy_rule, edit_rule
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import run_profile
from idsync.model import ExportKind, RunProfile
from idsync.rules.edits import RuleEdit
from idsync.rules.outofbox import GRAPH_GROUP_JOIN_RULE, Target
from idsync.store import Store


@dataclass
class Synced:
    store: Store
    entra: int

    def pending(self) -> dict[str, dict[str, Any]]:
        """Staged adds of the graph connector space by DN: attributes and reference DNs."""
        objects = self.store.cs.search(self.entra, pending_export=True)
        exports = self.store.exports.get_many([o.id for o in objects])
        dn_of = {o.id: o.dn for o in self.store.cs.search(self.entra, placeholders=True)}
        out: dict[str, dict[str, Any]] = {}
        for obj in objects:
            pe = exports[obj.id]
            assert pe.kind is ExportKind.ADD, (obj.dn, pe.kind)
            out[obj.dn] = {**pe.attributes,
                           **{k: sorted(dn_of[t] for t in v) for k, v in pe.ref_adds.items()},
                           "object_type": obj.object_type}
        return out


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[Synced]:
    (tmp_path / "directory.ldif").write_text(ldif(
        ad_user("boss"),
        ad_user("ann", extra={"manager": [f"CN=boss,OU=Users,{BASE}"],
                              "title": ["Engineer"], "c": ["FR"]}),
        ad_user("MSOL_1a2b"),
        ad_group("Staff", ["ann", "boss"]),
        ad_group("News", ["ann"], mail=True),
        ad_group("Everyone", ["ann", "boss", "MSOL_1a2b"])))
    store = Store.open(tmp_path)
    store.connectors.add("AD", "file", {"path": "directory.ldif",
                                        "anchor_attribute": "objectGUID"})
    entra = store.connectors.add("entra", "graph", {"tenant_id": "t", "client_id": "c"},
                                 {"client_secret": "never used"})
    install_outofbox(store, "AD", "entra", "ad", target=Target.GRAPH)
    # The member limit, lowered to 3 on an editable copy: Everyone (3 members) is left out.
    copy = copy_rule(store, GRAPH_GROUP_JOIN_RULE, 40)
    edit_rule(store, copy.name, RuleEdit(
        expressions={"members": 'IIF(ValueCount("member")> 3,Error("Maximum Group member '
                                'count exceeded"),IgnoreThisFlow)'},
        scope_values={"memberCount": "3"}))
    engine = RunContext(store, str(tmp_path))
    try:
        for profile in ("fi", "fs"):
            result = run_profile(engine, "AD", RunProfile.parse(profile))
            assert result.status == "success", (profile, result.status, result.message)
    finally:
        engine.close()
    yield Synced(store, entra.id)
    store.close()


def _placeholder(name: str, ou: str) -> str:
    anchor = base64.b64encode(guid(name).bytes_le).decode()
    return "CN={" + anchor.encode().hex().upper() + "}," + ou


def test_sync_stages_graphs_attributes_references_and_leaves_out(synced: Synced) -> None:
    pending = synced.pending()
    ann, boss = _placeholder("ann", "OU=Users"), _placeholder("boss", "OU=Users")
    staff = _placeholder("group-Staff", "OU=Groups")
    news = _placeholder("group-News", "OU=Groups")
    assert set(pending) == {ann, boss, staff, news}  # not MSOL_, nor Everyone (the limit)
    assert pending[ann] == {
        "object_type": "user",
        "onPremisesImmutableId": [base64.b64encode(guid("ann").bytes_le).decode()],
        "userPrincipalName": ["ann@contoso.test"], "displayName": ["ann"],
        "givenName": ["Ann"], "surname": ["Tester"], "accountEnabled": ["true"],
        "mail": ["ann@contoso.test"], "mailNickname": ["ann"], "jobTitle": ["Engineer"],
        "usageLocation": ["FR"], "manager": [boss]}
    assert pending[staff] == {
        "object_type": "group", "displayName": ["Staff"], "mailNickname": ["Staff"],
        "securityEnabled": ["true"], "mailEnabled": ["false"], "members": sorted([ann, boss])}
    # Mail-enabled on premises: a security group all the same (Graph cannot mail-enable one).
    assert pending[news] == {
        "object_type": "group", "displayName": ["News"], "mailNickname": ["News"],
        "securityEnabled": ["true"], "mailEnabled": ["false"], "members": [ann]}

    # Left out of scope, as the sync API's set does: no object, no error.
    everyone = _placeholder("group-Everyone", "OU=Groups")
    assert synced.store.cs.find_dn(synced.entra, everyone) is None
