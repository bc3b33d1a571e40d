"""Hard match, soft match, cloud-born objects, and duplicate attribute resiliency."""

from __future__ import annotations

from tests.harness.clouddir_server import CloudDirTenant, group, user


def test_hard_match_turns_add_into_update(clouddir: CloudDirTenant) -> None:
    [first] = clouddir.export_ok(1, [user("1", "A1", "a@contoso.test", displayName=["A"])])
    [again] = clouddir.export_ok(1, [user("1", "A1", "a@contoso.test", displayName=["B"])])
    assert again["id"] == first["id"]
    entries, _, _ = clouddir.import_all(1)
    assert len(entries) == 1 and entries[0]["attributes"]["displayName"] == ["B"]


def test_soft_match_by_upn_takes_over_cloud_born_user(clouddir: CloudDirTenant) -> None:
    cloud = clouddir.graph_create("users", {"displayName": "Joe",
                                            "userPrincipalName": "joe@contoso.test"})
    assert cloud.status_code == 201 and cloud.json()["onPremisesSyncEnabled"] is None
    [r] = clouddir.export_ok(2, [user("1", "JOE", "joe@contoso.test")])
    assert r["status"] == "ok" and r["id"] == cloud.json()["id"]
    with clouddir.client() as http:
        now = http.get(f"/v1.0/users/{r['id']}").json()
    assert now["onPremisesImmutableId"] == "JOE" and now["onPremisesSyncEnabled"] is True


def test_soft_match_by_primary_smtp(clouddir: CloudDirTenant) -> None:
    cloud = clouddir.graph_create("users", {"displayName": "Ann",
                                            "userPrincipalName": "ann@cloud.test",
                                            "proxyAddresses": ["SMTP:ann@contoso.test"]})
    [r] = clouddir.export_ok(2, [user("1", "ANN", "ann@contoso.test",
                                      proxyAddresses=["SMTP:ann@contoso.test"])])
    assert r["id"] == cloud.json()["id"]


def test_invalid_soft_match_onto_object_with_other_immutable_id(
        clouddir: CloudDirTenant) -> None:
    clouddir.export_ok(2, [user("1", "A1", "a@contoso.test")])
    [r] = clouddir.export_ok(2, [user("2", "A2", "a@contoso.test")])
    assert r["status"] == "error" and r["errors"][0]["code"] == "InvalidSoftMatch"


def test_cloud_born_objects_cannot_be_overwritten(clouddir: CloudDirTenant) -> None:
    unified = clouddir.graph_create("groups", {
        "displayName": "Team", "mailNickname": "team", "groupTypes": ["Unified"],
        "mailEnabled": True, "securityEnabled": False,
        "proxyAddresses": ["SMTP:team@contoso.test"]}).json()
    [update] = clouddir.export_ok(2, [{"ref": "1", "op": "update", "object_type": "group",
                                       "id": unified["id"], "attributes": {"displayName": ["x"]}}])
    [delete] = clouddir.export_ok(2, [{"ref": "2", "op": "delete", "id": unified["id"]}])
    assert update["errors"][0]["code"] == "CloudObjectNotSyncManaged"
    assert delete["errors"][0]["code"] == "CloudObjectNotSyncManaged"
    # A synced group with the same primary SMTP is not soft-matched onto the Unified group: it
    # is created, with the conflicting address quarantined.
    [synced] = clouddir.export_ok(2, [group("3", "G1", {"add": []},
                                            proxyAddresses=["SMTP:team@contoso.test"])])
    assert synced["status"] == "ok" and synced["id"] != unified["id"]
    assert synced["warnings"][0]["code"] == "AttributeValueMustBeUnique"
    with clouddir.client() as http:
        still = http.get(f"/v1.0/groups/{unified['id']}").json()
    assert still["displayName"] == "Team" and still["onPremisesSyncEnabled"] is None


def test_duplicate_upn_is_quarantined_and_released(clouddir: CloudDirTenant) -> None:
    [a] = clouddir.export_ok(2, [user("1", "A1", "a@contoso.test")])
    [b] = clouddir.export_ok(2, [user("2", "B1", "b@contoso.test")])
    # B renames to A's UPN: B keeps existing, its UPN becomes a stand-in.
    [r] = clouddir.export_ok(2, [{"ref": "2", "op": "update", "object_type": "user",
                                  "id": b["id"],
                                  "attributes": {"userPrincipalName": ["a@contoso.test"]}}])
    assert r["status"] == "ok"
    [warning] = r["warnings"]
    assert warning["code"] == "AttributeValueMustBeUnique"
    assert warning["conflicting_object_id"] == a["id"]
    stand_in = warning["replacement"]
    assert stand_in.startswith("a+") and stand_in.endswith("@contoso.onmicrosoft.com")
    entries, token, _ = clouddir.import_all(2)
    b_now = next(e for e in entries if e["id"] == b["id"])
    assert b_now["attributes"]["userPrincipalName"] == [stand_in]
    assert b_now["provisioning_errors"][0]["value"] == "a@contoso.test"
    # A lets the value go: it is released to B at once.
    clouddir.export_ok(2, [{"ref": "1", "op": "delete", "id": a["id"]}])
    delta, _, _ = clouddir.import_all(2, token)
    b_after = next(e for e in delta if e["id"] == b["id"])
    assert b_after["attributes"]["userPrincipalName"] == ["a@contoso.test"]
    assert b_after["provisioning_errors"] == []


def test_duplicate_proxy_address_and_nickname(clouddir: CloudDirTenant) -> None:
    clouddir.export_ok(2, [user("1", "A1", "a@contoso.test", mailNickname=["shared"],
                                proxyAddresses=["SMTP:a@contoso.test", "smtp:x@contoso.test"])])
    [r] = clouddir.export_ok(2, [user("2", "B1", "b@contoso.test", mailNickname=["Shared"],
                                      proxyAddresses=["SMTP:b@contoso.test",
                                                      "SMTP:X@contoso.test"])])
    assert r["status"] == "ok"
    assert {(w["attribute"], w["value"]) for w in r["warnings"]} == {
        ("mailNickname", "Shared"), ("proxyAddresses", "SMTP:X@contoso.test")}
    entries, _, _ = clouddir.import_all(2)
    b = next(e for e in entries if e["id"] == r["id"])
    assert b["attributes"]["proxyAddresses"] == ["SMTP:b@contoso.test"]
    assert b["attributes"]["mailNickname"][0].startswith("Shared")
    assert b["attributes"]["mailNickname"][0] != "Shared"


def test_quarantined_value_released_when_holder_changes_it(clouddir: CloudDirTenant) -> None:
    [a] = clouddir.export_ok(2, [user("1", "A1", "a@contoso.test",
                                      proxyAddresses=["SMTP:shared@contoso.test"])])
    [b] = clouddir.export_ok(2, [user("2", "B1", "b@contoso.test",
                                      proxyAddresses=["SMTP:b@contoso.test",
                                                      "smtp:shared@contoso.test"])])
    assert b["warnings"][0]["value"] == "smtp:shared@contoso.test"
    # A drops the address: B gets it, and B's next change does not lose it.
    clouddir.export_ok(2, [{"ref": "1", "op": "update", "object_type": "user", "id": a["id"],
                            "attributes": {"proxyAddresses": ["SMTP:a@contoso.test"]}}])
    clouddir.export_ok(2, [{"ref": "2", "op": "update", "object_type": "user", "id": b["id"],
                            "attributes": {"displayName": ["B"]}}])
    entries, _, _ = clouddir.import_all(2)
    b_now = next(e for e in entries if e["id"] == b["id"])
    assert b_now["attributes"]["proxyAddresses"] == ["SMTP:b@contoso.test",
                                                     "smtp:shared@contoso.test"]
    assert b_now["provisioning_errors"] == []
