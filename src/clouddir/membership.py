"""Membership changes of an export: member references resolved within the tenant, checked
against the API version's limit before any write, then applied as edge inserts and deletes.

v2 reads only the edges a change names, so its cost follows the delta; v1, which receives the
whole list, reads the current list once and writes only the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from clouddir import errors as codes
from clouddir.errors import ChangeRefused
from clouddir.settings import Limits
from clouddir.storage import DirObject
from clouddir.uniqueness import Context

Change = dict[str, Any]


@dataclass(slots=True)
class MemberPlan:
    """Resolved membership work for one group, checked against the limits before any write."""

    adds: list[int]
    removes: list[int]
    #: v1 only: the whole desired list replaces the current one.
    replace: set[int] | None
    unresolved: list[object]

    def apply(self, ctx: Context, group: DirObject) -> list[dict[str, object]]:
        store = ctx.store
        if self.replace is not None:
            current = store.member_seqs(group.seq)
            self.adds = sorted(self.replace - current)
            self.removes = sorted(current - self.replace)
        else:
            present = store.present_members(group.seq, self.adds + self.removes)
            self.adds = [m for m in dict.fromkeys(self.adds) if m not in present]
            self.removes = [m for m in dict.fromkeys(self.removes) if m in present]
        # Removals first: they make the room the adds take (the storage quota checks adds).
        store.remove_members(ctx.tenant_id, group.seq, self.removes)
        store.add_members(ctx.tenant_id, group.seq, self.adds)
        if not self.unresolved:
            return []
        return [{"code": codes.DN_ATTRIBUTES_FAILURE, "retryable": True,
                 "detail": f"{len(self.unresolved)} member reference(s) name objects this "
                           "tenant does not have",
                 "values": self.unresolved[:100]}]


def plan_members(ctx: Context, limits: Limits, version: int, change: Change,
                  object_type: str, existing: DirObject | None) -> MemberPlan | None:
    members = change.get("members")
    if members is None:
        return None
    if object_type != "group":
        raise ChangeRefused(codes.IDENTITY_DATA_VALIDATION_FAILED, "only groups have members")
    if version == 1:
        if not isinstance(members, list):
            raise ChangeRefused(codes.IDENTITY_DATA_VALIDATION_FAILED, "v1 members is a list")
        if len(members) > limits.v1_member_limit:
            raise ChangeRefused(codes.LARGE_OBJECT,
                                f"{len(members)} members; API v1 allows "
                                f"{limits.v1_member_limit}")
        resolved, unresolved = _resolve(ctx, members)
        return MemberPlan([], [], set(resolved), unresolved)
    if not isinstance(members, dict):
        raise ChangeRefused(codes.IDENTITY_DATA_VALIDATION_FAILED,
                            "v2 members is {add: [...], remove: [...]}")
    for part in ("add", "remove", "replace"):
        if members.get(part) is not None and not isinstance(members[part], list):
            raise ChangeRefused(codes.IDENTITY_DATA_VALIDATION_FAILED,
                                f"v2 members.{part} is a list")
    if "replace" in members:
        # The whole list, when the client has no delta (at most v2_max_links per request).
        replace, unresolved = _resolve(ctx, members.get("replace") or [])
        if len(set(replace)) > limits.v2_member_limit:
            raise ChangeRefused(codes.LARGE_OBJECT, f"{len(replace)} members; API v2 allows "
                                                    f"{limits.v2_member_limit}")
        return MemberPlan([], [], set(replace), unresolved)
    adds, unresolved = _resolve(ctx, members.get("add") or [])
    removes, _gone = _resolve(ctx, members.get("remove") or [])
    plan = MemberPlan(adds, removes, None, unresolved)
    if existing is None:
        count = len(set(adds))
    else:
        present = ctx.store.present_members(existing.seq, adds + removes)
        count = (existing.member_count + len(set(adds) - present)
                 - len(set(removes) & present))
    if count > limits.v2_member_limit:
        raise ChangeRefused(codes.LARGE_OBJECT, f"the group would hold {count} members; API v2 "
                                                f"allows {limits.v2_member_limit}")
    return plan


def _resolve(ctx: Context, refs: list[object]) -> tuple[list[int], list[object]]:
    """Member references (ids or {"dn": ...}) -> seqs of the tenant's objects, and the rest."""
    ids = [r for r in refs if _usable(r)]
    dns = [r["dn"] for r in refs if isinstance(r, dict) and _usable(r.get("dn"))]
    by_id = ctx.store.resolve_ids(ctx.tenant_id, ids)
    by_dn = ctx.store.resolve_dns(ctx.tenant_id, dns) if dns else {}
    resolved: list[int] = []
    unresolved: list[object] = []
    for ref in refs:
        seq = None
        if _usable(ref):
            seq = by_id.get(ref)
        elif isinstance(ref, dict) and _usable(ref.get("dn")):
            seq = by_dn.get(ref["dn"].lower())
        if seq is None:
            unresolved.append(ref)
        else:
            resolved.append(seq)
    return resolved, unresolved


def _usable(ref: object) -> TypeGuard[str]:
    """A reference worth a look-up: a string no object could have is unresolved at once."""
    return isinstance(ref, str) and len(ref) <= 2048 and "\x00" not in ref


def count_links(version: int, changes: list[Change]) -> int:
    """Member references in a v2 batch's deltas, for the per-request bound. A ``replace`` list
    is bounded by the member limit instead: it cannot be split without a delta."""
    total = 0
    for change in changes:
        members = change.get("members")
        if version == 2 and isinstance(members, dict):
            for part in ("add", "remove"):
                if isinstance(members.get(part), list):
                    total += len(members[part])
    return total
