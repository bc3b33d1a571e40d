"""Sync API export, v1 and v2, against a real clouddir server."""

from __future__ import annotations

from typing import Any

import pytest
from tests.harness.clouddir_server import CloudDirTenant, group, make_users, members_of, user


@pytest.mark.parametrize("version", [1, 2])
def test_add_users_and_group_then_import(clouddir: CloudDirTenant, version: int) -> None:
    ids = make_users(clouddir, 3)
    members = ids if version == 1 else {"add": ids}
    [result] = clouddir.export_ok(version, [group("g", "G1", members)])
    assert result["status"] == "ok" and result["id"]
    entries, token, _ = clouddir.import_all(version)
    groups = [e for e in entries if e["object_type"] == "group"]
    assert len(groups) == 1 and int(token) > 0
    listed = groups[0]["members"] if version == 1 else groups[0]["members"]["add"]
    assert sorted(listed) == ["CN=u0", "CN=u1", "CN=u2"]
    assert groups[0]["source_anchor"] == "G1" and groups[0]["sync_enabled"] is True


def test_v1_update_replaces_whole_member_list(clouddir: CloudDirTenant) -> None:
    ids = make_users(clouddir, 4)
    [g] = clouddir.export_ok(1, [group("g", "G1", ids[:3])])
    [r] = clouddir.export_ok(1, [{"ref": "g", "op": "update", "object_type": "group",
                                  "id": g["id"], "attributes": {}, "members": ids[1:]}])
    assert r["status"] == "ok"
    assert members_of(clouddir, g["id"]) == {"CN=u1", "CN=u2", "CN=u3"}


def test_v2_membership_deltas(clouddir: CloudDirTenant) -> None:
    ids = make_users(clouddir, 5)
    [g] = clouddir.export_ok(2, [group("g", "G1", {"add": ids[:3]})])
    _, token, _ = clouddir.import_all(2)
    [r] = clouddir.export_ok(2, [{"ref": "g", "op": "update", "object_type": "group",
                                  "id": g["id"], "members": {"add": [ids[4]],
                                                             "remove": [ids[0]]}}])
    assert r["status"] == "ok"
    assert members_of(clouddir, g["id"]) == {"CN=u1", "CN=u2", "CN=u4"}
    # The delta import carries only the membership change, as deltas.
    delta, _next, _ = clouddir.import_all(2, token)
    assert [e["id"] for e in delta] == [g["id"]]
    assert delta[0]["members"] == {"add": ["CN=u4"], "remove": ["CN=u0"]}


def test_v2_attribute_level_change_keeps_other_attributes(clouddir: CloudDirTenant) -> None:
    [u] = clouddir.export_ok(2, [user("1", "A1", "a@contoso.test", displayName=["A"],
                                      proxyAddresses=["SMTP:a@contoso.test"])])
    [r] = clouddir.export_ok(2, [{"ref": "1", "op": "update", "object_type": "user",
                                  "id": u["id"], "attributes": {"displayName": ["B"]},
                                  "value_adds": {"proxyAddresses": ["smtp:b@contoso.test"]}}])
    assert r["status"] == "ok"
    entries, _, _ = clouddir.import_all(2)
    attrs = entries[0]["attributes"]
    assert attrs["displayName"] == ["B"]
    assert attrs["userPrincipalName"] == ["a@contoso.test"]
    assert attrs["proxyAddresses"] == ["SMTP:a@contoso.test", "smtp:b@contoso.test"]


def test_dn_attributes_failure_for_unknown_member(clouddir: CloudDirTenant) -> None:
    ids = make_users(clouddir, 2)
    [r] = clouddir.export_ok(2, [group("g", "G1", {"add": [ids[0], "no-such-id",
                                                           {"dn": "CN=nobody"}]})])
    assert r["status"] == "partial" and r["id"]
    [error] = r["errors"]
    assert error["code"] == "dn-attributes-failure" and error["retryable"] is True
    assert error["values"] == ["no-such-id", {"dn": "CN=nobody"}]
    assert members_of(clouddir, r["id"]) == {"CN=u0"}
    # Member references by DN resolve once the member exists.
    [r2] = clouddir.export_ok(2, [{"ref": "g", "op": "update", "object_type": "group",
                                   "id": r["id"], "members": {"add": [{"dn": "cn=U1"}]}}])
    assert r2["status"] == "ok"
    assert members_of(clouddir, r["id"]) == {"CN=u0", "CN=u1"}


def test_one_bad_object_never_fails_the_batch(clouddir: CloudDirTenant) -> None:
    results = clouddir.export_ok(2, [
        user("1", "A1", "good@contoso.test"),
        user("2", "A2", "not a upn"),
        {"ref": "3", "op": "add", "object_type": "printer"},
        user("4", "A4", "cert@contoso.test", userCertificate=["x"] * 16),
        user("5", "A5", "fine@contoso.test"),
    ])
    assert [r["status"] for r in results] == ["ok", "error", "error", "error", "ok"]
    assert [r["errors"][0]["code"] for r in results[1:4]] == [
        "IdentityDataValidationFailed", "IdentityDataValidationFailed", "LargeObject"]
    entries, _, _ = clouddir.import_all(2)
    assert {e["dn"] for e in entries} == {"CN=A1", "CN=A5"}


def test_delete_and_object_type_mismatch(clouddir: CloudDirTenant) -> None:
    [u] = clouddir.export_ok(2, [user("1", "A1", "a@contoso.test")])
    [g] = clouddir.export_ok(2, [group("g", "G1", {"add": [u["id"]]})])
    [mismatch] = clouddir.export_ok(2, [group("x", "A1", {"add": []})])
    assert mismatch["errors"][0]["code"] == "ObjectTypeMismatch"
    [wrong_type] = clouddir.export_ok(2, [{"ref": "y", "op": "update", "object_type": "group",
                                           "id": u["id"], "attributes": {}}])
    assert wrong_type["errors"][0]["code"] == "ObjectTypeMismatch"
    _, token, _ = clouddir.import_all(2)
    [d] = clouddir.export_ok(2, [{"ref": "1", "op": "delete", "id": u["id"]}])
    assert d["status"] == "ok"
    [again] = clouddir.export_ok(2, [{"ref": "1", "op": "delete", "id": u["id"]}])
    assert again["status"] == "ok"  # deleting what is gone is not an error
    delta, _, _ = clouddir.import_all(2, token)
    by_id = {e["id"]: e for e in delta}
    assert by_id[u["id"]]["op"] == "delete"
    assert by_id[g["id"]]["members"] == {"add": [], "remove": ["CN=A1"]}


def test_batch_size_limits_refuse_whole_request(clouddir_factory: Any) -> None:
    tenant = clouddir_factory(v1_batch_size=2, v2_batch_size=3, v2_max_links=4)
    changes = [user(str(i), f"A{i}", f"a{i}@contoso.test") for i in range(3)]
    assert tenant.export(1, changes).status_code == 413
    assert tenant.export(2, changes).status_code == 200
    big = [group("g", "G", {"add": ["a", "b", "c", "d", "e"]})]
    response = tenant.export(2, big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "BatchTooLarge"
    assert tenant.export(2, [{"bad": 1}]).status_code == 200  # a bad change fails alone
    assert tenant.export(2, "nope").status_code == 400  # type: ignore[arg-type]
