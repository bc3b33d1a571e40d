"""Counts of connector space objects by state, per connector, for the overview's charts:
each one a COUNT over an index (never a read of the objects), so the overview costs the same
at 250,000 objects as at 250."""

from __future__ import annotations

from dataclasses import dataclass, field

from idsync.model import ExportKind
from idsync.store.database import BaseDatabase


@dataclass(slots=True)
class SpaceCounts:
    """One connector's objects by state. The states overlap (an object pending export may
    also hold an error), so they are counts side by side, not parts of ``objects``."""

    connector: str
    objects: int = 0
    pending_import: int = 0
    pending_export: int = 0
    placeholders: int = 0
    in_error: int = 0
    #: pending exports by kind (every kind present, zero when none)
    exports_by_kind: dict[ExportKind, int] = field(
        default_factory=lambda: dict.fromkeys(ExportKind, 0))


class SpaceStatistics:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def by_connector(self) -> list[SpaceCounts]:
        """Every connector's counts, by connector name."""
        connectors = self.db.query("SELECT id, name FROM connectors ORDER BY name")
        counts = {cid: SpaceCounts(name) for cid, name in connectors}
        # cs_objects_connector_id (connector_id, id): a count over the index alone
        for cid, n in self.db.query(
                "SELECT connector_id, count(*) FROM cs_objects GROUP BY connector_id"):
            if cid in counts:
                counts[cid].objects = n
        # cs_objects_pending_import, a partial index of the pending objects only
        for cid, n in self.db.query(
                "SELECT connector_id, count(*) FROM cs_objects WHERE pending_import IS NOT NULL "
                "GROUP BY connector_id"):
            if cid in counts:
                counts[cid].pending_import = n
        # pending_exports_page (connector_id, state, kind, cs_id), grouped in its own order
        # (no sort); one row per object, states added up here
        for cid, _state, kind, n in self.db.query(
                "SELECT connector_id, state, kind, count(*) FROM pending_exports "
                "GROUP BY connector_id, state, kind"):
            if cid in counts:
                counts[cid].exports_by_kind[ExportKind(kind)] += n
                counts[cid].pending_export += n
        # object_errors_connector (connector_id, stage); an object may hold several errors
        for cid, n in self.db.query(
                "SELECT connector_id, count(DISTINCT cs_id) FROM object_errors "
                "GROUP BY connector_id"):
            if cid in counts:
                counts[cid].in_error = n
        # A placeholder has no anchor: the (connector_id, anchor) index finds the few rows
        # without one, per connector, instead of scanning the space for the flag.
        for cid in counts:
            counts[cid].placeholders = self.db.scalar(
                "SELECT count(*) FROM cs_objects WHERE connector_id = ? AND anchor IS NULL "
                "AND placeholder = 1", (cid,))
        return list(counts.values())
