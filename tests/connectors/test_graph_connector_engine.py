"""The graph connector through the engine and the command line: `connector add --type graph`
with its settings and a secret file, the refusals (secrets as settings, neither or both
credentials, attributes outside the schema), then a full import and a delta import run
profile against a real clouddir, on either store.

MSAL's token source (helper "auth" of issue 18) is replaced by the tenant's own bearer token
(``msal_tokens`` is the one seam): clouddir's Graph face takes either."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.connectors.graph_helpers import (
    StaticTokens,
    add_members,
    group_dn,
    new_group,
    new_user,
    user_dn,
)
from tests.harness.clouddir_server import CloudDirTenant

import idsync.connectors.graph as graph_package
from idsync.cli.main import build
from idsync.connectors.graph import GraphConnector
from idsync.connectors.settings import SCHEMAS, SettingError
from idsync.store import Store


def cli(ws: Path, *args: str) -> Result:
    return CliRunner().invoke(build(), ["--workspace", str(ws), *args], catch_exceptions=True)


def ok(ws: Path, *args: str) -> Result:
    result = cli(ws, *args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def static_tokens(clouddir: CloudDirTenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_package, "msal_tokens",
                        lambda settings, secrets: StaticTokens(clouddir.token))


def add_graph(ws: Path, tenant: CloudDirTenant, tmp_path: Path, *extra: str) -> Result:
    secret = tmp_path / "client.secret"
    secret.write_text("s3cret-value\n")
    return cli(ws, "connector", "add", "entra", "--type", "graph",
               "--set", f"tenant_id={tenant.tenant_id}", "--set", "client_id=idsync",
               "--set", f"graph_url={tenant.url}/v1.0", "--set", "page_size=2",
               "--secret-file", f"client_secret={secret}", *extra)


def last_run(ws: Path) -> dict[str, Any]:
    return dict(json.loads(ok(ws, "runs", "list", "--json").output)[0])


def cs_dns(ws: Path) -> dict[str, dict[str, list[str]]]:
    store = Store.open(ws)
    try:
        record = store.connectors.get("entra")
        return {o.dn: dict(o.attributes) for o in store.cs.search(record.id, limit=0)}
    finally:
        store.close()


def test_full_and_delta_import_run_profiles(clouddir: CloudDirTenant, tmp_path: Path,
                                            static_tokens: None) -> None:
    with clouddir.client() as http:
        users = [new_user(http, f"u{i}") for i in range(3)]
        team = new_group(http, "team", users[:2])
    ws = tmp_path / "ws"
    ok(ws, "init")
    ok(ws, "connector", "add", "entra", "--type", "graph",
       "--set", f"tenant_id={clouddir.tenant_id}", "--set", "client_id=idsync",
       "--set", f"graph_url={clouddir.url}/v1.0", "--set", "page_size=2",
       "--secret-file", f"client_secret={_secret(tmp_path)}")
    shown = ok(ws, "connector", "show", "entra").output
    assert "s3cret-value" not in shown
    ok(ws, "run", "entra", "full-import")
    run = last_run(ws)
    assert run["status"] == "success", run
    objects = cs_dns(ws)
    assert {user_dn(u) for u in users} | {group_dn(team)} <= set(objects)
    with clouddir.client() as http:
        add_members(http, team, [users[2]])
        assert http.delete(f"/v1.0/users/{users[0]}").status_code == 204
        eve = new_user(http, "eve")
    ok(ws, "run", "entra", "delta-import")
    run = last_run(ws)
    assert run["status"] == "success", run
    objects = cs_dns(ws)
    assert user_dn(eve) in objects
    assert run["counters"].get("deletes") == 1, run


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "client.secret"
    secret.write_text("s3cret-value\n")
    return secret


def test_an_expired_delta_token_ends_the_run_asking_for_a_full_import(
        clouddir: CloudDirTenant, tmp_path: Path, static_tokens: None) -> None:
    ws = tmp_path / "ws"
    ok(ws, "init")
    assert add_graph(ws, clouddir, tmp_path).exit_code == 0
    ok(ws, "run", "entra", "full-import")
    store = Store.open(ws)
    try:
        record = store.connectors.get("entra")
        assert record.watermark is not None
        links = {t: link.split("$deltatoken=")[0] + "$deltatoken=gone"
                 for t, link in record.watermark["delta_links"].items()}
        with store.transaction():
            store.connectors.set_watermark(record.id, {**record.watermark,
                                                       "delta_links": links})
    finally:
        store.close()
    cli(ws, "run", "entra", "delta-import")
    run = last_run(ws)
    assert run["status"] == "stopped-configuration-error", run
    assert "run a full import" in run["message"]


def test_secrets_as_settings_and_bad_credentials_are_refused(
        clouddir: CloudDirTenant, tmp_path: Path, static_tokens: None) -> None:
    ws = tmp_path / "ws"
    ok(ws, "init")
    base = ["connector", "add", "entra", "--type", "graph", "--set",
            f"tenant_id={clouddir.tenant_id}", "--set", "client_id=idsync"]
    given = cli(ws, *base, "--set", "client_secret=hunter2")
    assert given.exit_code != 0 and "is a secret, not a setting" in given.output
    assert "hunter2" not in given.output
    neither = cli(ws, *base)
    assert neither.exit_code != 0 and "no credential" in neither.output
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n...\n")
    both = cli(ws, *base, "--secret-file", f"client_secret={_secret(tmp_path)}",
               "--secret-file", f"certificate_key={key}")
    assert both.exit_code != 0 and "not both" in both.output
    half = cli(ws, *base, "--secret-file", f"certificate_key={key}")
    assert half.exit_code != 0 and "certificate_thumbprint" in half.output
    assert "Traceback" not in given.output + neither.output + both.output + half.output
    assert ok(ws, "connector", "list", "--json").output.strip() == "[]"


@pytest.mark.parametrize(("key", "value", "says"), [
    ("user_attributes", ["userPrincipalName", "shoeSize"], "not a Graph attribute"),
    ("object_types", ["user", "contact"], "not an object type"),
    ("page_size", 1000, "out of range"),
    ("password_length", 7, "out of range"),
    ("certificate_key", "PEM", "is a secret"),
    ("authority", "http://login.example", "scheme"),
])
def test_settings_refusals(key: str, value: Any, says: str) -> None:
    with pytest.raises(SettingError, match=says):
        SCHEMAS["graph"].validate({"tenant_id": "t", "client_id": "c", key: value})


def test_defaults_scope_and_repr(clouddir: CloudDirTenant) -> None:
    values = SCHEMAS["graph"].validate({"tenant_id": "t", "client_id": "c"})
    assert values["graph_url"] == "https://graph.microsoft.com/v1.0"
    assert values["authority"] == "https://login.microsoftonline.com"
    assert values["page_size"] == 999 and values["concurrency"] == 4
    assert values["password_length"] == 24
    parsed = graph_package.GraphSettings.parse({"tenant_id": "t", "client_id": "c"})
    assert parsed.scope == "https://graph.microsoft.com/.default"
    local = graph_package.GraphSettings.parse({"tenant_id": "t", "client_id": "c",
                                               "graph_url": "https://127.0.0.1:8443/v1.0"})
    assert local.scope == "https://127.0.0.1:8443/.default"
    conn = GraphConnector("entra", local, StaticTokens("very-secret-token"))
    assert "very-secret-token" not in repr(conn)
    conn.close()
