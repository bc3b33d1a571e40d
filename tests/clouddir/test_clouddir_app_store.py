"""App registrations, issued access tokens and assertion ids in the store, on SQLite and on
PostgreSQL: the token cache respects expiry, expired rows are told apart and then pruned."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.harness.postgres import postgres_schema, postgres_url

from clouddir import access_tokens
from clouddir.access_tokens import AccessTokens
from clouddir.apps import create_app, secret_matches
from clouddir.auth import create_tenant
from clouddir.storage import SqliteStore, Store, open_store
from idsync.lab.tls import make_app_certificate

__all__ = ["postgres_schema", "postgres_url"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        made: Store = SqliteStore(tmp_path / "c.db")
    else:
        made = open_store(request.getfixturevalue("postgres_schema"))
    yield made
    made.close()


def test_apps_are_kept_per_tenant(store: Store, tmp_path: Path) -> None:
    contoso, _ = create_tenant(store, "contoso")
    fabrikam, _ = create_tenant(store, "fabrikam")
    cert = make_app_certificate(tmp_path / "app")
    with_secret, secret = create_app(store, contoso.id, "sync", True, None)
    with_cert, none = create_app(store, contoso.id, "cert", False, cert.cert_file.read_bytes())
    create_app(store, fabrikam.id, "other", True, None)
    assert secret and none is None
    assert [a.name for a in store.apps_of(contoso.id)] == ["cert", "sync"]
    found = store.app(with_secret.client_id)
    assert found is not None and found.tenant_id == contoso.id
    assert secret_matches(found, secret) and not secret_matches(found, secret + "x")
    assert secret not in found.secret_hashes  # stored hashed
    certified = store.app(with_cert.client_id)
    assert certified is not None and certified.secret_hashes == []
    assert certified.certificates[0].thumbprint == cert.thumbprint
    assert store.app("00000000-0000-4000-8000-000000000000") is None


def test_access_tokens_expire_in_the_cache_and_are_pruned(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant, _ = create_tenant(store, "contoso")
    app, _ = create_app(store, tenant.id, "sync", True, None)
    tokens = AccessTokens(store, lifetime=1)
    token, lifetime = tokens.issue(tenant.id, app.client_id)
    assert lifetime == 1
    header = f"Bearer {token}"
    found = tokens.tenant_of(header)
    assert found is not None and found.id == tenant.id
    assert tokens.tenant_of(header) == found and not tokens.expired(header)
    assert tokens.tenant_of("Bearer unknown") is None and not tokens.expired("Bearer unknown")
    time.sleep(1.2)
    assert tokens.tenant_of(header) is None  # the cached entry expired too
    assert tokens.expired(header)
    # Pruned once expired for longer than KEEP_EXPIRED: then only unknown.
    monkeypatch.setattr(access_tokens, "KEEP_EXPIRED", 0)
    monkeypatch.setattr(access_tokens, "PRUNE_EVERY", 0)
    time.sleep(1.1)
    tokens.issue(tenant.id, app.client_id)
    assert not tokens.expired(header) and tokens.tenant_of(header) is None


def test_assertion_ids_are_refused_again_until_pruned(store: Store) -> None:
    tenant, _ = create_tenant(store, "contoso")
    app, _ = create_app(store, tenant.id, "sync", True, None)
    now = int(time.time())
    assert store.use_assertion_id(app.client_id, "jti-1", now + 600)
    assert not store.use_assertion_id(app.client_id, "jti-1", now + 600)
    assert store.use_assertion_id(app.client_id, "jti-2", now - 10)
    store.prune_tokens(now, now)
    assert not store.use_assertion_id(app.client_id, "jti-1", now + 600)
    assert store.use_assertion_id(app.client_id, "jti-2", now + 600)
