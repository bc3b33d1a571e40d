"""``Store``: every repository of clouddir's storage over one backend's connections.

Callers hold one ``Store`` and call the repositories' methods on it (``store.get``,
``store.add_members``, ``store.log`` ...); the repositories are mixins over ``Database``
because a write touches several of them in one unit of work (deleting an object ends its
memberships, claims and quarantined values and logs the delete), and one object keeps that
unit's state (the thread's connection, the prefetched answers, the storage count).

Every method takes the tenant explicitly and every query filters on it (or on integer sequence
numbers, which are global and only reachable through a tenant-filtered lookup), so confinement
to a tenant is a property of the store, not of each caller.
"""

from __future__ import annotations

from clouddir.storage.apps import AppRepository
from clouddir.storage.authority import AuthorityRepository
from clouddir.storage.batches import BatchRepository
from clouddir.storage.managers import ManagerRepository
from clouddir.storage.tenants import TenantRepository


class Store(ManagerRepository, TenantRepository, BatchRepository, AppRepository,
            AuthorityRepository):
    """A backend (``SqliteStore``, ``PostgresStore``) implements ``Database``'s hooks."""
