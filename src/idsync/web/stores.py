"""One store connection per worker thread of the web UI.

Starlette runs the UI's handlers in a thread pool; a store connection (SQLite or PostgreSQL) is
used by one thread at a time, so each thread opens its own on first use and keeps it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from idsync.store import Store


class ThreadStores:
    def __init__(self, workspace: str | Path) -> None:
        self.workspace = str(workspace)
        self._local = threading.local()
        self._opened: list[Store] = []
        self._lock = threading.Lock()

    def get(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = Store.open(self.workspace, migrate=False)
            self._local.store = store
            with self._lock:
                self._opened.append(store)
        return store

    def close(self) -> None:
        with self._lock:
            for store in self._opened:
                store.close()
            self._opened.clear()
