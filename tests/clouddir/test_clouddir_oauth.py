"""clouddir's OAuth 2.0 endpoints over HTTPS: the OpenID configuration, the client credentials
grant with a secret or a certificate through MSAL unchanged, Entra's refusals, and the access
tokens on the Graph face and the sync API."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import msal
import pytest
import requests
from tests.harness.clouddir_server import (
    CloudDirTenant,
    clouddir_tls,
    clouddir_tls_factory,
    clouddir_tls_shared,
    https_client,
    register_app,
)

from idsync.lab.clouddir import CLOUDDIR
from idsync.lab.tls import AppCertificate, make_app_certificate

__all__ = ["clouddir_tls", "clouddir_tls_factory", "clouddir_tls_shared"]

GRAPH = "https://graph.microsoft.com/.default"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def msal_app(tenant: CloudDirTenant, client_id: str, credential: Any
             ) -> msal.ConfidentialClientApplication:
    session = requests.Session()
    session.verify = str(tenant.server.ca_file)
    session.trust_env = False
    return msal.ConfidentialClientApplication(
        client_id, client_credential=credential, authority=f"{tenant.url}/{tenant.tenant_id}",
        instance_discovery=False, http_client=session)


def token_endpoint(tenant: CloudDirTenant) -> str:
    return f"{tenant.url}/{tenant.tenant_id}/oauth2/v2.0/token"


def post_token(tenant: CloudDirTenant, form: dict[str, str],
               tenant_id: str | None = None) -> httpx.Response:
    url = f"{tenant.url}/{tenant_id or tenant.tenant_id}/oauth2/v2.0/token"
    return httpx.post(url, data=form, verify=tenant.server.verify(), timeout=30)


def assertion(tenant: CloudDirTenant, client_id: str, cert: AppCertificate, *,
              key_pem: str | None = None, audience: str | None = None,
              lifetime: int = 600, not_before: int = 0, jti: str | None = None,
              issuer: str | None = None, x5t: str | None = None) -> str:
    now = int(time.time())
    claims = {"aud": audience or token_endpoint(tenant), "iss": issuer or client_id,
              "sub": client_id, "jti": jti or str(uuid.uuid4()), "nbf": now + not_before,
              "exp": now + lifetime}
    thumb = bytes.fromhex(cert.thumbprint)
    header = {"x5t": x5t or jwt.utils.base64url_encode(thumb).decode()}
    return jwt.encode(claims, key_pem or cert.key_pem, algorithm="RS256", headers=header)


def assertion_form(client_id: str, signed: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "scope": GRAPH,
            "client_assertion_type": JWT_BEARER, "client_assertion": signed}


def refused(response: httpx.Response, status: int, error: str, code: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert body["error_codes"] == [code], body
    assert body["error_description"].startswith(f"AADSTS{code}: "), body


@pytest.fixture
def cert(tmp_path: Path) -> AppCertificate:
    return make_app_certificate(tmp_path / "app")


def test_openid_configuration(clouddir_tls: CloudDirTenant) -> None:
    tenant = clouddir_tls
    with https_client(tenant) as http:
        doc = http.get(f"/{tenant.tenant_id}/v2.0/.well-known/openid-configuration").json()
        assert doc["token_endpoint"] == token_endpoint(tenant)
        assert doc["issuer"] == f"{tenant.url}/{tenant.tenant_id}/v2.0"
        assert doc["authorization_endpoint"].startswith(f"{tenant.url}/{tenant.tenant_id}/")
        assert http.get(doc["jwks_uri"]).json() == {"keys": []}
        unknown = http.get("/no-such-tenant/v2.0/.well-known/openid-configuration")
    refused(unknown, 400, "invalid_tenant", 90002)


def test_secret_grant_through_msal_works_on_graph_and_sync_api(
        clouddir_tls: CloudDirTenant) -> None:
    tenant = clouddir_tls
    app = register_app(tenant, "sync")
    assert app["tenant_id"] == tenant.tenant_id and app["secret"]
    result = msal_app(tenant, app["client_id"], app["secret"]).acquire_token_for_client(
        scopes=[GRAPH])
    assert result["token_type"] == "Bearer" and result["expires_in"] > 3000, result
    token = result["access_token"]
    with https_client(tenant, token) as http:
        created = http.post("/v1.0/users", json={
            "accountEnabled": True, "displayName": "Adele", "mailNickname": "adele",
            "userPrincipalName": "adele@contoso.test",
            "passwordProfile": {"password": "x1!Aaaaa"}})
        assert created.status_code == 201, created.text
        assert http.get("/v1.0/users").json()["value"][0]["displayName"] == "Adele"
        ping = http.get("/sync/ping")
        assert ping.status_code == 200 and ping.json()["tenant_id"] == tenant.tenant_id
    # The clouddir origin is a resource too.
    origin = post_token(tenant, {"grant_type": "client_credentials",
                                 "client_id": app["client_id"],
                                 "client_secret": app["secret"], "scope": f"{tenant.url}/.default"})
    assert origin.status_code == 200 and origin.headers["cache-control"].startswith("no-store")
    assert set(origin.json()) == {"token_type", "expires_in", "ext_expires_in", "access_token"}


def test_certificate_grant_through_msal(clouddir_tls: CloudDirTenant,
                                        cert: AppCertificate) -> None:
    tenant = clouddir_tls
    app = register_app(tenant, "cert", cert)
    assert app["thumbprint"] == cert.thumbprint and "secret" not in app
    # A SHA-1 thumbprint: MSAL signs RS256 and names the certificate by x5t.
    sha1 = msal_app(tenant, app["client_id"], {"private_key": cert.key_pem,
                                               "thumbprint": cert.thumbprint})
    result = sha1.acquire_token_for_client(scopes=[GRAPH])
    assert "access_token" in result, result
    # The public certificate: MSAL signs PS256 and names it by x5t#S256 (and sends x5c).
    sha256 = msal_app(tenant, app["client_id"], {
        "private_key": cert.key_pem, "public_certificate": cert.cert_file.read_text()})
    result = sha256.acquire_token_for_client(scopes=[GRAPH])
    assert "access_token" in result, result
    with https_client(tenant, result["access_token"]) as http:
        assert http.get("/v1.0/users").status_code == 200


def test_secret_refusals(clouddir_tls: CloudDirTenant, clouddir_tls_shared: Any) -> None:
    tenant = clouddir_tls
    app = register_app(tenant)
    other = register_app(clouddir_tls_shared.new_tenant("fabrikam"))
    form = {"grant_type": "client_credentials", "client_id": app["client_id"],
            "client_secret": app["secret"], "scope": GRAPH}
    refused(post_token(tenant, {**form, "client_secret": "wrong"}), 401, "invalid_client",
            7000215)
    refused(post_token(tenant, {**form, "client_id": str(uuid.uuid4())}), 400,
            "unauthorized_client", 700016)
    refused(post_token(tenant, {**form, "client_id": "not-a-guid"}), 400,
            "unauthorized_client", 700016)
    # Another tenant's app (with its right secret) is not found in this tenant.
    refused(post_token(tenant, {**form, "client_id": other["client_id"],
                                "client_secret": other["secret"]}),
            400, "unauthorized_client", 700016)
    refused(post_token(tenant, {**form, "grant_type": "password"}), 400,
            "unsupported_grant_type", 70003)
    refused(post_token(tenant, {k: v for k, v in form.items() if k != "grant_type"}), 400,
            "invalid_request", 900144)
    refused(post_token(tenant, {k: v for k, v in form.items() if k != "client_secret"}), 401,
            "invalid_client", 7000218)
    refused(post_token(tenant, {**form, "scope": "User.Read"}), 400, "invalid_scope", 1002012)
    refused(post_token(tenant, {**form, "scope": "https://example.test/.default"}), 400,
            "invalid_scope", 500011)
    refused(post_token(tenant, form, tenant_id="nope"), 400, "invalid_request", 90002)
    json_body = httpx.post(token_endpoint(tenant), json=form, verify=tenant.server.verify())
    refused(json_body, 400, "invalid_request", 900144)
    # MSAL reports the refusal as the error dict, unchanged.
    result = msal_app(tenant, app["client_id"], "wrong").acquire_token_for_client([GRAPH])
    assert result["error"] == "invalid_client" and 7000215 in result["error_codes"]


def test_assertion_refusals(clouddir_tls: CloudDirTenant, cert: AppCertificate,
                            tmp_path: Path) -> None:
    tenant = clouddir_tls
    client_id = register_app(tenant, "cert", cert)["client_id"]
    stranger = make_app_certificate(tmp_path / "stranger")

    def post(signed: str) -> httpx.Response:
        return post_token(tenant, assertion_form(client_id, signed))

    assert post(assertion(tenant, client_id, cert)).status_code == 200
    # Signed by another key, naming the registered certificate.
    refused(post(assertion(tenant, client_id, cert, key_pem=stranger.key_pem)), 401,
            "invalid_client", 700027)
    # A certificate the app does not have.
    refused(post(assertion(tenant, client_id, stranger)), 401, "invalid_client", 700027)
    refused(post(assertion(tenant, client_id, cert, lifetime=-600)), 401, "invalid_client",
            700024)
    refused(post(assertion(tenant, client_id, cert, not_before=900, lifetime=1200)), 401,
            "invalid_client", 700024)
    refused(post(assertion(tenant, client_id, cert, audience=f"{tenant.url}/other/token")),
            401, "invalid_client", 50013)
    refused(post(assertion(tenant, client_id, cert, issuer=str(uuid.uuid4()))), 401,
            "invalid_client", 700021)
    refused(post("not.a.jwt"), 401, "invalid_client", 50027)
    refused(post(jwt.encode({"sub": client_id}, "k" * 32, algorithm="HS256",
                            headers={"x5t": "abc"})), 401, "invalid_client", 50027)
    wrong_type = {**assertion_form(client_id, assertion(tenant, client_id, cert)),
                  "client_assertion_type": "password"}
    refused(post_token(tenant, wrong_type), 400, "invalid_request", 90014)
    # Entra takes an assertion again (MSAL reuses one for 9 minutes): so does clouddir.
    again = assertion(tenant, client_id, cert)
    assert post(again).status_code == 200 and post(again).status_code == 200


def test_replayed_assertion_refused_when_the_server_says_so(
        clouddir_tls_factory: Any, cert: AppCertificate) -> None:
    tenant = clouddir_tls_factory(refuse_assertion_replay=1)
    client_id = register_app(tenant, "cert", cert)["client_id"]
    signed = assertion(tenant, client_id, cert)
    assert post_token(tenant, assertion_form(client_id, signed)).status_code == 200
    refused(post_token(tenant, assertion_form(client_id, signed)), 401, "invalid_client", 50013)
    fresh = assertion(tenant, client_id, cert)
    assert post_token(tenant, assertion_form(client_id, fresh)).status_code == 200


def test_expired_access_token_is_refused(clouddir_tls_factory: Any) -> None:
    tenant = clouddir_tls_factory(token_lifetime=2)
    app = register_app(tenant)
    answer = post_token(tenant, {"grant_type": "client_credentials",
                                 "client_id": app["client_id"], "client_secret": app["secret"],
                                 "scope": GRAPH})
    assert answer.json()["expires_in"] == 2
    token = answer.json()["access_token"]
    with https_client(tenant, token) as http:
        assert http.get("/v1.0/users").status_code == 200  # now cached by the server
        time.sleep(2.5)
        expired = http.get("/v1.0/users")
        assert expired.status_code == 401
        error = expired.json()["error"]
        assert error["code"] == "InvalidAuthenticationToken"
        assert error["message"] == "Lifetime validation failed, the token is expired."
        sync = http.get("/sync/ping")
        assert sync.status_code == 401
        assert sync.json()["error"]["code"] == "InvalidAuthenticationToken"
    with https_client(tenant, "never-issued") as http:
        unknown = http.get("/v1.0/users").json()["error"]
        assert unknown["message"] == "Access token is empty or invalid."


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b"grant_type=a&grant_type=b",
                                  b"&".join([b"a%d=1" % i for i in range(60)]),
                                  b"client_assertion=%00&client_id=%ff"])
def test_hostile_token_requests_get_a_4xx(clouddir_tls: CloudDirTenant, body: bytes) -> None:
    response = httpx.post(token_endpoint(clouddir_tls), content=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                          verify=clouddir_tls.server.verify())
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]


@pytest.mark.parametrize("path", ["/%00/oauth2/v2.0/token", "/x%00y/v2.0/.well-known/"
                                  "openid-configuration", "/" + "a" * 5000 + "/oauth2/v2.0/token"])
def test_hostile_tenant_paths_get_a_4xx(clouddir_tls: CloudDirTenant, path: str) -> None:
    with https_client(clouddir_tls) as http:
        response = (http.get(path) if "openid" in path else
                    http.post(path, data={"grant_type": "client_credentials"}))
    assert response.status_code == 400, response.text
    assert response.json()["error"] in ("invalid_request", "invalid_tenant")


def test_replay_check_takes_no_hostile_jti(clouddir_tls_factory: Any,
                                           cert: AppCertificate) -> None:
    tenant = clouddir_tls_factory(refuse_assertion_replay=1)
    client_id = register_app(tenant, "cert", cert)["client_id"]
    for jti in ("a\x00b", "j" * 300):
        refused(post_token(tenant, assertion_form(client_id, assertion(
            tenant, client_id, cert, jti=jti))), 401, "invalid_client", 50027)


def test_serve_refuses_bad_tls_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    for files in (["--tls-cert", str(junk), "--tls-key", str(junk)],
                  ["--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(junk)],
                  ["--tls-cert", str(junk)]):
        proc = subprocess_run([*CLOUDDIR, "serve", "--port", "1", "--db",
                               f"sqlite:///{tmp_path / 'c.db'}", *files])
        assert proc.returncode != 0
        lines = [line for line in proc.stderr.splitlines() if line.startswith("Error")]
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr


def test_app_cli(clouddir_tls: CloudDirTenant, cert: AppCertificate, tmp_path: Path) -> None:
    server = clouddir_tls.server
    cmd = [*CLOUDDIR, "app"]
    secret_file = tmp_path / "app.secret"
    created = run([*cmd, "create", clouddir_tls.tenant_id, "--name", "sync", "--db",
                   server.database, "--secret-file", str(secret_file), "--json"])
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert "secret" not in created and created["secret_file"] == str(secret_file)
    again = subprocess_run([*cmd, "create", clouddir_tls.tenant_id, "--name", "x", "--db",
                            server.database, "--secret-file", str(secret_file)])
    assert again.returncode == 1 and "exists" in again.stderr
    bad = subprocess_run([*cmd, "create", clouddir_tls.tenant_id, "--name", "x", "--db",
                          server.database, "--certificate", str(secret_file)])
    assert bad.returncode == 1 and "not a PEM X.509 certificate" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    register_app(clouddir_tls, "cert", cert)
    listed = run([*cmd, "list", clouddir_tls.tenant_id, "--db", server.database, "--json"])
    assert {a["name"]: a["thumbprints"] for a in listed} == {"sync": [], "cert": [
        cert.thumbprint]}
    secret = secret_file.read_text().strip()
    ok = post_token(clouddir_tls, {"grant_type": "client_credentials", "scope": GRAPH,
                                   "client_id": created["client_id"], "client_secret": secret})
    assert ok.status_code == 200


def subprocess_run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def run(cmd: list[str]) -> Any:
    proc = subprocess_run(cmd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
