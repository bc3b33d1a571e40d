"""Tenants' bearer tokens: random, shown once, stored as SHA-256.

A token has 256 bits of entropy, so a fast unsalted hash is enough to make a stolen database
useless for authentication (a slow password hash would only slow every request)."""

from __future__ import annotations

import hashlib
import secrets

from clouddir.storage import Store, Tenant


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_tenant(store: Store, name: str) -> tuple[Tenant, str]:
    token = new_token()
    return store.create_tenant(name, hash_token(token)), token


def authenticate(store: Store, authorization: str | None) -> Tenant | None:
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    token = authorization[7:].strip()
    return store.tenant_by_token_hash(hash_token(token)) if token else None
