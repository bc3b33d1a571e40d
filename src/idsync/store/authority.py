"""The source of authority of connector space objects (``cs_objects.authority`` and
``held_since``, migration 0016): written by imports, read by the export run, which holds the
pending exports of objects the cloud manages (idsync.engine.authority)."""

from __future__ import annotations

from collections.abc import Sequence

from idsync.model import Authority, ExportState
from idsync.store.database import BaseDatabase, utcnow


def not_held(pending: str = "pending_exports") -> str:
    """A condition on ``pending_exports`` (named ``pending`` in the query): its object is not
    cloud-managed. The export run's pages (idsync.store.exports) add it, so held changes are
    never listed to be sent (one primary-key probe per row)."""
    return (f"NOT EXISTS (SELECT 1 FROM cs_objects held WHERE held.id = {pending}.cs_id "
            f"AND held.authority = '{Authority.CLOUD}')")


class AuthorityRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def set_many(self, cloud: Sequence[int], sync: Sequence[int]) -> None:
        """Objects the directory says the cloud manages (``cloud``) or no longer does
        (``sync``: their held changes go out with the next export)."""
        if cloud:
            self.db.execute_in(
                "UPDATE cs_objects SET authority = ? WHERE authority <> ? AND id IN ({ids})",
                list(cloud), (Authority.CLOUD, Authority.CLOUD))
        if sync:
            self.db.execute_in(
                "UPDATE cs_objects SET authority = ?, held_since = NULL WHERE authority <> ? "
                "AND id IN ({ids})", list(sync), (Authority.SYNC, Authority.SYNC))

    def of(self, cs_ids: Sequence[int]) -> dict[int, Authority]:
        return {int(r[0]): Authority(r[1]) for r in self.db.query_in(
            "SELECT id, authority FROM cs_objects WHERE id IN ({ids})", list(cs_ids))}

    def held(self, connector_id: int) -> list[tuple[int, str, str | None]]:
        """(cs id, DN, held since) of the connector's cloud-managed objects with a pending
        export not sent, in id order."""
        return [(int(r[0]), r[1], r[2]) for r in self.db.query(
            "SELECT o.id, o.dn, o.held_since FROM cs_objects o JOIN pending_exports p "
            f"ON p.cs_id = o.id WHERE o.connector_id = ? AND o.authority = '{Authority.CLOUD}' "
            "AND p.state = ? ORDER BY o.id", (connector_id, ExportState.PENDING))]

    def hold(self, cs_ids: Sequence[int]) -> None:
        """The export run starts holding these objects' changes: cloud-managed from now on
        (a refusal may say so before any import does), held since now."""
        if cs_ids:
            self.db.execute_in(
                "UPDATE cs_objects SET authority = ?, held_since = ? WHERE id IN ({ids})",
                list(cs_ids), (Authority.CLOUD, utcnow()))
