"""A user's manager: one row per user that has one (user seq -> manager seq), indexed both
ways, so a user's manager and a manager's direct reports are look-ups, never a tenant scan.

The row is the index of the fact; the user's ``manager`` attribute (the manager's DN, as the
sync API carries references) is its face on the sync API. Graph's writes
(clouddir.graph.manager) set both; a sync API write links its DN (``link_manager_by_dn``);
deleting a manager clears its reports' managers (each logged as a change of the report, so a
delta shows it)."""

from __future__ import annotations

from collections.abc import Iterable

from clouddir.storage.objects import ObjectRepository
from clouddir.storage.records import OBJECT_CHANGED, DirObject


class ManagerRepository(ObjectRepository):
    """Objects with their manager links (a delete here also ends the deleted object's links)."""

    def manager_seq_of(self, user_seq: int) -> int | None:
        row = self._one("SELECT manager_seq FROM managers WHERE user_seq = ?", (user_seq,))
        return row[0] if row else None

    def managers_of(self, user_seqs: Iterable[int]) -> dict[int, int]:
        """user seq -> manager seq, for those of ``user_seqs`` that have one."""
        return dict(self._rows_in("SELECT user_seq, manager_seq FROM managers WHERE user_seq "
                                  "IN ({ids})", dict.fromkeys(user_seqs)))

    def page_reports(self, manager_seq: int, after_seq: int, limit: int) -> list[int]:
        return [r[0] for r in self._rows(
            "SELECT user_seq FROM managers WHERE manager_seq = ? AND user_seq > ? "
            "ORDER BY user_seq LIMIT ?", (manager_seq, after_seq, limit))]

    def set_manager_link(self, tenant_id: str, user_seq: int, manager_seq: int | None) -> None:
        """The index row alone (the caller writes the user's attribute and logs the change)."""
        self._writing(tenant_id)
        self._run("DELETE FROM managers WHERE user_seq = ?", (user_seq,))
        if manager_seq is not None:
            self._run("INSERT INTO managers (user_seq, manager_seq) VALUES (?, ?)",
                      (user_seq, manager_seq))

    def delete(self, obj: DirObject) -> None:
        """``obj`` has no manager any more, and its reports lose theirs (before the object
        goes, so each report's change is logged after nothing that names it)."""
        if obj.object_type != "user":  # only users have or are managers here
            super().delete(obj)
            return
        self._writing(obj.tenant_id)
        self._run("DELETE FROM managers WHERE user_seq = ?", (obj.seq,))
        reports = [r[0] for r in self._rows("SELECT user_seq FROM managers WHERE "
                                            "manager_seq = ?", (obj.seq,))]
        self._run("DELETE FROM managers WHERE manager_seq = ?", (obj.seq,))
        for user in self.get_many_by_seq(obj.tenant_id, reports).values():
            user.attributes.pop("manager", None)
            self.update(user)
            self.log(obj.tenant_id, user.seq, OBJECT_CHANGED)
        super().delete(obj)

    def link_manager_by_dn(self, tenant_id: str, user: DirObject) -> None:
        """The sync API wrote ``user``'s ``manager`` attribute (a DN): index it. A DN no
        object has yet leaves the user without a link (GET manager still resolves it). Two
        statements that need no answer: a backend that sends statements ahead keeps going."""
        if user.object_type != "user":
            return
        self._writing(tenant_id)
        self._run("DELETE FROM managers WHERE user_seq = ?", (user.seq,))
        values = user.attributes.get("manager") or []
        if values:
            self._run("INSERT INTO managers (user_seq, manager_seq) SELECT ?, seq FROM objects "
                      "WHERE tenant_id = ? AND lower(dn) = ? AND object_type = 'user' "
                      "ORDER BY seq LIMIT 1", (user.seq, tenant_id, values[0].lower()))
