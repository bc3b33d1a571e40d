"""Memberships: one row per edge (group, member), keyed by the objects' sequence numbers; each
added or removed edge is logged, and the group's ``member_count`` follows."""

from __future__ import annotations

from collections.abc import Sequence

from clouddir.storage.changes import ChangeLog
from clouddir.storage.quotas import QuotaRepository
from clouddir.storage.records import MEMBER_ADDED, MEMBER_REMOVED, ChangeKind, DirObject


class MembershipRepository(ChangeLog, QuotaRepository):
    def present_members(self, group_seq: int, member_seqs: Sequence[int]) -> set[int]:
        """Which of ``member_seqs`` are members now; reads only the rows asked about."""
        return {r[0] for r in self._rows_in(
            "SELECT member_seq FROM members WHERE group_seq = ? AND member_seq IN ({ids})",
            member_seqs, (group_seq,))}

    def member_seqs(self, group_seq: int) -> set[int]:
        return {r[0] for r in self._rows("SELECT member_seq FROM members WHERE group_seq = ?",
                                         (group_seq,))}

    def page_members(self, group_seq: int, after_seq: int, limit: int) -> list[int]:
        return [r[0] for r in self._rows(
            "SELECT member_seq FROM members WHERE group_seq = ? AND member_seq > ? "
            "ORDER BY member_seq LIMIT ?", (group_seq, after_seq, limit))]

    def page_member_rows(self, group_seq: int, after_seq: int,
                         limit: int) -> list[tuple[int, str, str, str]]:
        """(member seq, id, object type, DN) of a group's next members, in one join."""
        return [(r[0], r[1], r[2], r[3]) for r in self._rows(
            "SELECT m.member_seq, o.id, o.object_type, o.dn FROM members m JOIN objects o "
            "ON o.seq = m.member_seq WHERE m.group_seq = ? AND m.member_seq > ? "
            "ORDER BY m.member_seq LIMIT ?", (group_seq, after_seq, limit))]

    def member_dns(self, group_seq: int) -> list[str]:
        return [r[0] for r in self._rows(
            "SELECT o.dn FROM members m JOIN objects o ON o.seq = m.member_seq "
            "WHERE m.group_seq = ? ORDER BY m.member_seq", (group_seq,))]

    def add_members(self, tenant_id: str, group_seq: int, member_seqs: Sequence[int]) -> None:
        """Add edges that are not there yet (the caller filtered with ``present_members``)."""
        self._change_members(tenant_id, group_seq, member_seqs, MEMBER_ADDED)

    def remove_members(self, tenant_id: str, group_seq: int, member_seqs: Sequence[int]) -> None:
        self._change_members(tenant_id, group_seq, member_seqs, MEMBER_REMOVED)

    def _change_members(self, tenant_id: str, group_seq: int, member_seqs: Sequence[int],
                        kind: ChangeKind) -> None:
        if not member_seqs:
            return
        self._writing(tenant_id)
        # One statement per table, not one per edge: a v2 change may name 15,000 members.
        members = list(member_seqs)
        delta = len(member_seqs) if kind == MEMBER_ADDED else -len(member_seqs)
        self._members_changed(tenant_id, delta)
        if kind == MEMBER_ADDED:
            self._run_ints("INSERT INTO members (group_seq, member_seq) SELECT ?, value "
                           "FROM {ints}", (group_seq,), members)
        else:
            self._run_ints("DELETE FROM members WHERE group_seq = ? AND member_seq IN "
                           "(SELECT value FROM {ints})", (group_seq,), members)
        self._log_members(tenant_id, group_seq, kind, members)
        self._run("UPDATE objects SET member_count = member_count + ? WHERE seq = ?",
                  (delta, group_seq))

    def _drop_edges_of(self, obj: DirObject) -> None:
        """A deleted object leaves its groups (logged as removals from each) and, if it is a
        group, loses its members."""
        groups = [r[0] for r in self._rows("SELECT group_seq FROM members WHERE member_seq = ?",
                                           (obj.seq,))]
        for group_seq in groups:
            self._run("UPDATE objects SET member_count = member_count - 1 WHERE seq = ?",
                      (group_seq,))
            self.log(obj.tenant_id, group_seq, MEMBER_REMOVED, member_seq=obj.seq)
        self._run("DELETE FROM members WHERE member_seq = ? OR group_seq = ?",
                  (obj.seq, obj.seq))
