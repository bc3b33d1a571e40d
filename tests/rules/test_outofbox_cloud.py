"""The out-of-box rules end to end: an AD-shaped file directory -> real clouddir."""

from __future__ import annotations

import base64

from tests.rules.conftest import ad_group, ad_user, guid, ldif


def anchor(name: str) -> str:
    return base64.b64encode(guid(name).bytes_le).decode()


def test_users_groups_and_exclusions_reach_the_cloud(hybrid_factory, clouddir) -> None:  # type: ignore[no-untyped-def]
    ws = hybrid_factory(ldif(
        ad_user("ann"), ad_user("bob", disabled=True), ad_user("AAD_sync"),
        ad_user("crit", extra={"isCriticalSystemObject": ["TRUE"]}),
        ad_group("staff", ["ann", "bob"])), clouddir)
    ws.cycle()
    cloud = ws.cloud_objects()
    assert set(cloud) == {anchor("ann"), anchor("bob"), anchor("group-staff")}
    ann = cloud[anchor("ann")]
    assert ann["attributes"]["userPrincipalName"] == ["ann@contoso.test"]
    assert ann["attributes"]["accountEnabled"] == ["true"]
    assert cloud[anchor("bob")]["attributes"]["accountEnabled"] == ["false"]
    assert ann["dn"] == "CN={" + anchor("ann").encode().hex().upper() + "}"
    staff = cloud[anchor("group-staff")]
    # The sync API names members by the DN the client gave them.
    assert staff["member_ids"] == {ann["dn"], cloud[anchor("bob")]["dn"]}
    assert staff["attributes"]["securityEnabled"] == ["true"]


def test_copying_a_join_rule_keeps_every_object_joined(hybrid_factory, clouddir) -> None:  # type: ignore[no-untyped-def]
    from idsync.administration.rule_editing import copy_rule, edit_rule
    from idsync.rules.edits import RuleEdit

    ws = hybrid_factory(ldif(ad_user("ann"), ad_user("bob"), ad_group("staff", ["ann"])),
                        clouddir)
    ws.cycle()
    before = ws.cloud_objects()
    mv_ids = {o.id for o in ws.store.mv.search()}
    copy = copy_rule(ws.store, "In from AD - User Join", 10)
    edit_rule(ws.store, copy.name, RuleEdit(constants={"sourceObjectType": "Person"}))
    results = ws.cycle()
    # The copy takes over the links of the rule it replaces: no disconnect, no delete.
    assert {o.id for o in ws.store.mv.search()} == mv_ids
    assert not any(k.startswith(("export-delete", "mv-delete", "disconnect", "projection"))
                   for r in results for k in r.counters), [r.counters for r in results]
    after = ws.cloud_objects()
    assert {a: o["id"] for a, o in after.items()} == {a: o["id"] for a, o in before.items()}
    assert all(o.attributes.get("sourceObjectType") == ["Person"]
               for o in ws.store.mv.search() if o.object_type == "person")
