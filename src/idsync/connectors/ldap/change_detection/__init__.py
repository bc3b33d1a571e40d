"""Change detection: one strategy per way a directory can tell what changed.

Every strategy implements ``ChangeDetector``: ``initial_watermark()`` is taken just before a full
import reads the directory (so changes made during the read are seen again, never lost), and
``changes()`` yields the import batches since a watermark, the last one carrying the new
watermark. Watermarks are plain dicts with a ``strategy`` key.

* ``syncrepl``   OpenLDAP content synchronization (RFC 4533) refreshOnly with a stored cookie.
* ``accesslog``  OpenLDAP's accesslog database: value-level member adds and removes.
* ``dirsync``    Active Directory DirSync with incremental values.
* ``usn``        AD uSNChanged (and tombstones for deletes); ``modify_timestamp`` for the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from idsync.connectors.base import ImportBatch, ImportContext, ImportRecord, Watermark
from idsync.errors import ConfigurationError


class WatermarkExpired(ConfigurationError):
    """The directory can no longer answer "what changed since" this watermark (the cookie is
    older than its change log, or there is no watermark of this strategy): run a full import.
    A ConfigurationError so the engine stops the run with this message before staging."""


class ChangeDetector(Protocol):
    name: str

    def initial_watermark(self) -> Watermark: ...

    def changes(self, watermark: Watermark, context: ImportContext) -> Iterator[ImportBatch]: ...


def batched(records: Iterator[ImportRecord], size: int) -> Iterator[list[ImportRecord]]:
    batch: list[ImportRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
