"""MsalTokens (the graph connector's tokens, from MSAL) against clouddir's token endpoint over
HTTPS: a secret and a certificate, MSAL's cache, renewal before expiry and after a 401, and
one clear line for each failure."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.harness.clouddir_server import (
    CloudDirTenant,
    clouddir_tls,
    clouddir_tls_factory,
    clouddir_tls_shared,
    https_client,
    register_app,
)

from idsync.connectors.graph.tokens import MsalTokens
from idsync.errors import ConfigurationError, ConnectivityError
from idsync.lab.clouddir import free_port
from idsync.lab.tls import make_app_certificate

__all__ = ["clouddir_tls", "clouddir_tls_factory", "clouddir_tls_shared"]

GRAPH = "https://graph.microsoft.com/.default"


def secret_tokens(tenant: CloudDirTenant, app: dict[str, Any], **overrides: Any) -> MsalTokens:
    settings: dict[str, Any] = {"client_secret": app["secret"],
                                "ca_file": tenant.server.ca_file}
    settings.update(overrides)
    return MsalTokens(tenant.tenant_id, app["client_id"], tenant.url, GRAPH, **settings)


def works_on_graph(tenant: CloudDirTenant, token: str) -> int:
    with https_client(tenant, token) as http:
        return http.get("/v1.0/users").status_code


def test_secret_token_is_cached(clouddir_tls: CloudDirTenant) -> None:
    app = register_app(clouddir_tls)
    tokens = secret_tokens(clouddir_tls, app)
    first = tokens.token()
    assert all(tokens.token() == first for _ in range(5))
    assert tokens.token_requests == 1
    assert works_on_graph(clouddir_tls, first) == 200
    assert app["secret"] not in repr(tokens)


def test_certificate_token(clouddir_tls: CloudDirTenant, tmp_path: Path) -> None:
    cert = make_app_certificate(tmp_path / "app")
    app = register_app(clouddir_tls, "cert", cert)
    tokens = MsalTokens(clouddir_tls.tenant_id, app["client_id"], clouddir_tls.url,
                        f"{clouddir_tls.url}/.default", certificate_key=cert.key_pem,
                        certificate_thumbprint=cert.thumbprint,
                        ca_file=clouddir_tls.server.ca_file)
    token = tokens.token()
    assert tokens.token() == token and tokens.token_requests == 1
    assert works_on_graph(clouddir_tls, token) == 200
    renewed = tokens.renew()
    assert renewed != token and works_on_graph(clouddir_tls, renewed) == 200
    # Several requests refused together (401) renew once.
    assert tokens.renew() == renewed and tokens.token_requests == 2
    assert "PRIVATE KEY" not in repr(tokens)


def test_renewed_before_expiry(clouddir_tls_factory: Any) -> None:
    # MSAL renews a token with less than 5 minutes left: 303 seconds leave 3 before that.
    tenant = clouddir_tls_factory(token_lifetime=303)
    tokens = secret_tokens(tenant, register_app(tenant))
    first = tokens.token()
    assert tokens.token() == first and tokens.token_requests == 1
    time.sleep(3.5)
    second = tokens.token()
    assert second != first and tokens.token_requests == 2
    # Renewed before it expired: the old token still works.
    assert works_on_graph(tenant, first) == 200
    assert works_on_graph(tenant, second) == 200


def test_renew_after_a_401(clouddir_tls_factory: Any) -> None:
    tenant = clouddir_tls_factory(token_lifetime=2)
    tokens = secret_tokens(tenant, register_app(tenant))
    first = tokens.token()
    time.sleep(2.5)
    with https_client(tenant, first) as http:
        refused = http.get("/v1.0/users")
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == \
        "Lifetime validation failed, the token is expired."
    requests_before = tokens.token_requests
    renewed = tokens.renew()
    assert renewed != first and tokens.token_requests == requests_before + 1
    assert works_on_graph(tenant, renewed) == 200


def test_clear_errors(clouddir_tls: CloudDirTenant, tmp_path: Path) -> None:
    tenant = clouddir_tls
    app = register_app(tenant)
    secret = app["secret"]

    def failure(tokens: MsalTokens) -> str:
        with pytest.raises((ConfigurationError, ConnectivityError)) as caught:
            tokens.token()
        message = str(caught.value)
        assert "\n" not in message and secret not in message
        return f"{type(caught.value).__name__}: {message}"

    wrong = failure(secret_tokens(tenant, app, client_secret="not-the-secret"))
    assert wrong.startswith("ConfigurationError") and "AADSTS7000215" in wrong
    assert "client_id and the client secret" in wrong and "Trace ID" not in wrong
    unknown = failure(MsalTokens(tenant.tenant_id, "6c3f0c1e-0000-4000-8000-000000000000",
                                 tenant.url, GRAPH, client_secret=secret,
                                 ca_file=tenant.server.ca_file))
    assert unknown.startswith("ConfigurationError") and "AADSTS700016" in unknown
    untrusted = failure(secret_tokens(tenant, app, ca_file=None))
    assert untrusted.startswith("ConnectivityError") and "ca_file" in untrusted
    down = failure(MsalTokens(tenant.tenant_id, app["client_id"],
                              f"https://127.0.0.1:{free_port()}", GRAPH, client_secret=secret))
    assert down.startswith("ConnectivityError") and "cannot reach" in down
    no_tenant = failure(MsalTokens("no-such-tenant", app["client_id"], tenant.url, GRAPH,
                                   client_secret=secret, ca_file=tenant.server.ca_file))
    assert no_tenant.startswith("ConfigurationError") and "tenant_id" in no_tenant
    bad_scope = failure(MsalTokens(tenant.tenant_id, app["client_id"], tenant.url,
                                   "User.Read", client_secret=secret,
                                   ca_file=tenant.server.ca_file))
    assert bad_scope.startswith("ConfigurationError") and "connector's scope" in bad_scope

    with pytest.raises(ConfigurationError, match="https://"):
        MsalTokens(tenant.tenant_id, app["client_id"], "http://127.0.0.1:1", GRAPH,
                   client_secret=secret)
    with pytest.raises(ConfigurationError, match="client secret, or a certificate"):
        MsalTokens(tenant.tenant_id, app["client_id"], tenant.url, GRAPH)
    cert = make_app_certificate(tmp_path / "app")
    with pytest.raises(ConfigurationError, match="not both"):
        MsalTokens(tenant.tenant_id, app["client_id"], tenant.url, GRAPH,
                   client_secret=secret, certificate_key=cert.key_pem,
                   certificate_thumbprint=cert.thumbprint)
    with pytest.raises(ConfigurationError, match="PEM private key"):
        MsalTokens(tenant.tenant_id, app["client_id"], tenant.url, GRAPH,
                   certificate_key="-----BEGIN PRIVATE KEY-----\nnope\n",
                   certificate_thumbprint=cert.thumbprint)
    with pytest.raises(ConfigurationError, match="40 hex digits"):
        MsalTokens(tenant.tenant_id, app["client_id"], tenant.url, GRAPH,
                   certificate_key=cert.key_pem, certificate_thumbprint="abc")
