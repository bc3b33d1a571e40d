"""Pending exports a page at a time, for an administrator's export preview: the connector
space ids of a connector's pending exports in a set of states, in id order after a given id."""

from __future__ import annotations

from collections.abc import Sequence

from idsync.model import ExportState
from idsync.store.database import BaseDatabase


def pending_export_page(db: BaseDatabase, connector_id: int, after: int,
                        states: Sequence[ExportState], limit: int) -> list[int]:
    return [int(r[0]) for r in db.query(
        "SELECT cs_id FROM pending_exports WHERE connector_id = ? AND cs_id > ? "
        f"AND state IN ({','.join('?' * len(states))}) ORDER BY cs_id LIMIT ?",
        (connector_id, after, *[s.value for s in states], limit))]
