"""clouddir's storage: tenants, directory objects, memberships, uniqueness claims, the change
log, export batches, quarantine and quotas, each a repository (a module of that name), all
reached through one ``Store`` on SQLite or PostgreSQL. No SQL lives outside this package.

``open_store(url)`` picks the backend by URL.
"""

from __future__ import annotations

from clouddir.storage.database import Database
from clouddir.storage.postgres import DEFAULT_POOL_SIZE, PostgresStore
from clouddir.storage.records import (
    MEMBER_ADDED,
    MEMBER_REMOVED,
    OBJECT_CHANGED,
    OBJECT_CREATED,
    OBJECT_DELETED,
    Change,
    ChangeKind,
    DirObject,
    Quarantined,
    StoreError,
    Tenant,
)
from clouddir.storage.schema import SCHEMA
from clouddir.storage.sqlite import SqliteStore
from clouddir.storage.store import Store

__all__ = [
    "MEMBER_ADDED", "MEMBER_REMOVED", "OBJECT_CHANGED", "OBJECT_CREATED", "OBJECT_DELETED",
    "POSTGRES_SCHEMES", "SCHEMA", "Change", "ChangeKind", "Database", "DirObject", "Quarantined",
    "SqliteStore", "Store", "StoreError", "Tenant", "open_store",
]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(url: str, pool_size: int | None = None) -> Store:
    """The store a database URL names: ``sqlite:///PATH`` (or a bare path) or
    ``postgresql://USER@HOST:PORT/DB`` (``pool_size`` connections at most, PostgreSQL only).
    Raises ``StoreError`` with a message for people."""
    if url.startswith(POSTGRES_SCHEMES):
        return PostgresStore(url, pool_size or DEFAULT_POOL_SIZE)
    return SqliteStore.from_url(url)
