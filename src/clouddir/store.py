"""The name ``clouddir.store.open_store`` for ``idsync.testing.clouddir`` and the benchmarks,
until they create tenants through clouddir's CLI (issue 16); clouddir's storage is the
``clouddir.storage`` package."""

from clouddir.storage import open_store

__all__ = ["open_store"]
