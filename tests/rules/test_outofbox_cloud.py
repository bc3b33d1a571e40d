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
