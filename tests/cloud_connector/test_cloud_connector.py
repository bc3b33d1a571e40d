"""The cloud connector against a real clouddir server: export and import under v1 and v2,
member deltas split across requests, results mapped to ExportResult, 429 handling."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.harness.clouddir_server import CloudDirTenant

from idsync.connectors.base import (
    ConnectionTester,
    DeltaImporter,
    ExportChange,
    Exporter,
    ExportRef,
    ExportResult,
    FullImporter,
    ImportContext,
    ImportKind,
    ImportRecord,
    MemberDeltaExporter,
)
from idsync.connectors.cloud import CloudConnector, create_connector
from idsync.errors import ConfigurationError, ConnectivityError
from idsync.model import ExportKind


@pytest.fixture
def connect(clouddir: CloudDirTenant) -> Iterator[Any]:
    made: list[CloudConnector] = []

    def make(tenant: CloudDirTenant = clouddir, **settings: Any) -> CloudConnector:
        connector = create_connector("aad", tenant.connector_settings(**settings),
                                     tenant.secrets(), "/nonexistent")
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def add_user(cs_id: int, name: str, **attrs: list[Any]) -> ExportChange:
    return ExportChange(cs_id, ExportKind.ADD, f"CN={name}", "user", attributes={
        "sourceAnchor": [name], "userPrincipalName": [f"{name}@contoso.test"],
        "displayName": [name], **attrs})


def export_users(connector: CloudConnector, count: int) -> list[ExportResult]:
    results = sorted(connector.export(add_user(i, f"u{i}") for i in range(count)),
                     key=lambda r: r.cs_id)
    assert all(r.ok and r.anchor for r in results)
    return results


def refs(results: list[ExportResult]) -> list[ExportRef]:
    return [ExportRef(f"CN=u{r.cs_id}", r.anchor) for r in results]


def full_import(connector: CloudConnector) -> tuple[list[ImportRecord], dict[str, Any]]:
    batches = list(connector.full_import(ImportContext(watermark=None)))
    assert all(b.watermark is None for b in batches[:-1]) and batches[-1].watermark
    return [r for b in batches for r in b.records], batches[-1].watermark


def test_capabilities_and_settings(connect: Any) -> None:
    v2 = connect()
    for capability in (FullImporter, DeltaImporter, Exporter, MemberDeltaExporter,
                       ConnectionTester):
        assert isinstance(v2, capability)
    assert v2.supports_value_deltas() is True
    assert connect(export_api_version=1).supports_value_deltas() is False
    with pytest.raises(ConfigurationError):
        connect(export_api_version=3)
    with pytest.raises(ConfigurationError):
        create_connector("aad", {"url": "http://127.0.0.1:1", "tenant_id": "t"}, {}, "/")


def test_token_is_never_shown(connect: Any, clouddir: CloudDirTenant,
                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    connector = connect()
    connector.test_connection()
    list(connector.export([add_user(1, "a")]))
    assert clouddir.token not in repr(connector)
    assert clouddir.token not in caplog.text


def test_connection_test_fails_on_bad_token_or_tenant(connect: Any,
                                                      clouddir: CloudDirTenant) -> None:
    connect().test_connection()
    with pytest.raises(ConnectivityError):
        connect(tenant_id="someone-else").test_connection()
    bad = create_connector("aad", clouddir.connector_settings(), {"token": "nope"}, "/")
    with pytest.raises(ConnectivityError):
        bad.test_connection()


@pytest.mark.parametrize("version", [1, 2])
def test_export_then_full_import_round_trip(connect: Any, version: int) -> None:
    connector = connect(export_api_version=version, import_api_version=version)
    users = export_users(connector, 3)
    [group] = connector.export([ExportChange(
        10, ExportKind.ADD, "CN=g", "group",
        attributes={"sourceAnchor": ["g"], "displayName": ["G"], "member": refs(users)})])
    assert group.ok and group.anchor
    records, watermark = full_import(connector)
    assert watermark["api_version"] == version
    by_dn = {r.dn: r for r in records}
    assert by_dn["CN=g"].kind == ImportKind.FULL and by_dn["CN=g"].anchor == group.anchor
    assert sorted(by_dn["CN=g"].attributes["member"]) == ["CN=u0", "CN=u1", "CN=u2"]
    assert by_dn["CN=u1"].attributes["sourceAnchor"] == ["u1"]
    assert by_dn["CN=u1"].attributes["onPremisesSyncEnabled"] == ["true"]


def test_v1_sends_whole_member_list(connect: Any) -> None:
    connector = connect(export_api_version=1, import_api_version=1)
    users = export_users(connector, 4)
    [g] = connector.export([ExportChange(10, ExportKind.ADD, "CN=g", "group", attributes={
        "sourceAnchor": ["g"], "displayName": ["G"], "member": refs(users[:2])})])
    _, watermark = full_import(connector)
    [r] = connector.export([ExportChange(10, ExportKind.MODIFY, "CN=g", "group", anchor=g.anchor,
                                         attributes={"member": refs(users[1:])})])
    assert r.ok
    batches = list(connector.delta_import(ImportContext(watermark=watermark)))
    [record] = [r for b in batches for r in b.records]
    assert record.kind == ImportKind.FULL
    assert sorted(record.attributes["member"]) == ["CN=u1", "CN=u2", "CN=u3"]


def test_v2_member_deltas_split_across_requests(clouddir_factory: Any, connect: Any) -> None:
    tenant = clouddir_factory(v2_max_links=4, v2_batch_size=50)
    connector = connect(tenant)
    users = export_users(connector, 11)
    sent_before = connector.client.traffic.requests
    [g] = connector.export([ExportChange(20, ExportKind.ADD, "CN=g", "group", attributes={
        "sourceAnchor": ["g"], "displayName": ["G"], "member": refs(users[:10])})])
    assert g.ok and connector.client.traffic.requests - sent_before == 3  # 4 + 4 + 2 links
    _, watermark = full_import(connector)
    [r] = connector.export([ExportChange(
        20, ExportKind.MODIFY, "CN=g", "group", anchor=g.anchor,
        value_adds={"member": refs(users[10:])}, value_removes={"member": refs(users[:1])})])
    assert r.ok
    records = [r for b in connector.delta_import(ImportContext(watermark=watermark))
               for r in b.records]
    [record] = records
    assert record.kind == ImportKind.MODIFY and record.anchor == g.anchor
    assert record.value_adds == {"member": ["CN=u10"]}
    assert record.value_removes == {"member": ["CN=u0"]}


def test_v2_full_import_merges_paged_group(clouddir_factory: Any, connect: Any) -> None:
    tenant = clouddir_factory(member_page_size=3)
    connector = connect(tenant)
    users = export_users(connector, 7)
    [g] = connector.export([ExportChange(20, ExportKind.ADD, "CN=g", "group", attributes={
        "sourceAnchor": ["g"], "displayName": ["G"], "member": refs(users)})])
    records, _ = full_import(connector)
    # Three pages of members, one record (staged page by page, the first page's three
    # members read as "four removed": issue 15).
    [whole] = [r for r in records if r.anchor == g.anchor]
    assert whole.kind == ImportKind.FULL
    assert sorted(whole.attributes["member"]) == sorted(f"CN=u{i}" for i in range(7))


def test_per_object_errors_map_to_export_results(connect: Any) -> None:
    connector = connect()
    [a] = connector.export([add_user(1, "a", proxyAddresses=["SMTP:a@contoso.test"])])
    results = {r.cs_id: r for r in connector.export([
        add_user(2, "b", proxyAddresses=["SMTP:b@contoso.test", "smtp:A@contoso.test"]),
        ExportChange(3, ExportKind.ADD, "CN=bad", "user",
                     attributes={"sourceAnchor": ["bad"], "userPrincipalName": ["no at"]}),
        ExportChange(4, ExportKind.ADD, "CN=g", "group", attributes={
            "sourceAnchor": ["g"], "displayName": ["G"],
            "member": [ExportRef("CN=a", a.anchor), ExportRef("CN=not-synced")]}),
        ExportChange(5, ExportKind.DELETE, "CN=a", "user", anchor=a.anchor),
    ])}
    assert results[2].ok and results[2].error_code == "AttributeValueMustBeUnique"
    assert not results[2].retryable
    assert not results[3].ok and results[3].error_code == "IdentityDataValidationFailed"
    assert not results[3].retryable
    assert not results[4].ok and results[4].error_code == "dn-attributes-failure"
    assert results[4].retryable and results[4].anchor
    assert results[5].ok


def test_connector_honours_retry_after(clouddir_factory: Any, connect: Any) -> None:
    tenant = clouddir_factory(write_budget=4, write_window=2)
    connector = connect(tenant, batch_size=4)
    started = time.monotonic()
    results = list(connector.export(add_user(i, f"u{i}") for i in range(12)))
    assert all(r.ok for r in results) and len(results) == 12
    assert connector.client.traffic.throttled >= 1
    assert time.monotonic() - started >= 1.0  # it waited as told
    records, _ = full_import(connector)
    assert len(records) == 12  # every batch applied exactly once


def test_unreachable_directory_raises_connectivity_error(connect: Any,
                                                         clouddir: CloudDirTenant) -> None:
    connector = create_connector("aad", {"url": "http://127.0.0.1:9", "tenant_id": "t",
                                         "max_retries": 1}, {"token": "x"}, "/")
    connector.client.retry.backoff_base = 0.01
    with pytest.raises(ConnectivityError):
        connector.test_connection()
    connector.close()


def test_v2_delta_starts_new_groups_with_a_full_record(connect: Any) -> None:
    connector = connect()
    users = export_users(connector, 3)
    _, watermark = full_import(connector)
    [g] = connector.export([ExportChange(30, ExportKind.ADD, "CN=new", "group", attributes={
        "sourceAnchor": ["new"], "displayName": ["New"], "member": refs(users[:2])})])
    records = [r for b in connector.delta_import(ImportContext(watermark=watermark))
               for r in b.records]
    [record] = records
    # The engine has no copy of a group created since the watermark: a FULL record, members
    # included, not a MODIFY of an object it does not know.
    assert record.kind == ImportKind.FULL and record.anchor == g.anchor
    assert sorted(record.attributes["member"]) == ["CN=u0", "CN=u1"]


def test_v2_whole_list_modify_and_rename(clouddir_factory: Any, connect: Any) -> None:
    tenant = clouddir_factory(v2_max_links=3)
    connector = connect(tenant)
    users = export_users(connector, 6)
    [g] = connector.export([ExportChange(40, ExportKind.ADD, "CN=g", "group", attributes={
        "sourceAnchor": ["g"], "displayName": ["G"], "member": refs(users[:2])})])
    # A MODIFY with the whole list (no delta) longer than one request's links still applies,
    # and a rename moves the object's DN.
    results = list(connector.export([
        ExportChange(40, ExportKind.RENAME, "CN=g", "group", anchor=g.anchor, new_dn="CN=g2",
                     attributes={"member": refs(users[1:])}),
        ExportChange(1, ExportKind.MODIFY, "CN=u1", "user", anchor=users[1].anchor,
                     attributes={"displayName": ["Renamed"]}),
    ]))
    assert all(r.ok for r in results), results
    records, _ = full_import(connector)
    by_anchor = {r.anchor: r for r in records}
    assert by_anchor[g.anchor].dn == "CN=g2"
    assert sorted(by_anchor[g.anchor].attributes["member"]) == [f"CN=u{i}" for i in range(1, 6)]
    assert by_anchor[users[1].anchor].attributes["displayName"] == ["Renamed"]


def test_v1_packs_whole_member_lists_within_the_member_limit(clouddir_factory: Any,
                                                              connect: Any) -> None:
    tenant = clouddir_factory(v1_member_limit=4)
    connector = connect(tenant, export_api_version=1)
    users = export_users(connector, 4)
    before = connector.client.traffic.requests
    groups = [ExportChange(50 + i, ExportKind.ADD, f"CN=g{i}", "group", attributes={
        "sourceAnchor": [f"g{i}"], "displayName": ["G"], "member": refs(users[:3])})
        for i in range(3)]
    assert all(r.ok for r in connector.export(groups))
    # 3 + 3 + 3 references with at most 4 per request: three requests, not one.
    assert connector.client.traffic.requests - before == 3
