"""Reading a connector's import batches on a thread while the previous one is staged."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator

from idsync.connectors.base import ImportBatch

#: What the reading thread hands over: (a batch, None), (None, the connector's error), or
#: (None, None) at the end.
_Item = tuple[ImportBatch | None, BaseException | None]


def read_ahead(batches: Iterable[ImportBatch], depth: int = 2) -> Iterator[ImportBatch]:
    """The connector's batches, read by a thread up to ``depth`` batches ahead of the one being
    staged: reading waits on the directory (python-ldap, httpx and file reads release the GIL)
    and staging on the database (so does sqlite3 and psycopg), so the two overlap instead of
    adding up. Only this thread advances the connector's iterator; the store stays on the
    caller's thread, and each batch still commits with its own watermark, in order."""
    q: queue.Queue[_Item] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: _Item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        it = iter(batches)
        try:
            for batch in it:
                if not put((batch, None)):
                    break
        except BaseException as exc:  # handed to the caller, raised there
            put((None, exc))
            return
        finally:
            close = getattr(it, "close", None)
            if close is not None:  # the connector's own clean-up (paged search, files)
                close()
        put((None, None))

    reader = threading.Thread(target=produce, name="idsync-import-read", daemon=True)
    reader.start()
    try:
        while True:
            batch, error = q.get()
            if batch is not None:
                yield batch
            elif error is not None:
                raise error
            else:
                return
    finally:
        # The caller stopped (an error while staging, or the end): let the reader finish the
        # page it is reading and close the connector's iterator before the run goes on.
        stop.set()
        reader.join()
