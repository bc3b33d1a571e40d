"""Import pages of the sync API.

v1: whole objects with whole member lists, groups above the v1 member limit left out; a delta
lists each object changed since the watermark once, as it is now.
v2: entries with membership deltas; a full import lists members as adds, and the members of a
large group are paged, so one group repeats across entries and pages.

Cursors are opaque to clients (base64 of a small JSON). Every import pins the highest change
number at its start (``hi``): the token it ends with is that number, so changes made while it
pages are delivered by the next delta, perhaps twice, never lost.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from typing import Any

from clouddir.settings import Limits
from clouddir.storage import (
    MEMBER_ADDED,
    MEMBER_REMOVED,
    OBJECT_CREATED,
    OBJECT_DELETED,
    DirObject,
    Quarantined,
)
from clouddir.uniqueness import Context, provisioning_errors

Page = dict[str, Any]
Quarantines = dict[int, list[Quarantined]]
#: Names member seqs for the caller: DNs for the sync API, (id, type) for the Graph delta.
MemberNames = Callable[[Context, list[int]], dict[int, Any]]


def member_dns(ctx: Context, seqs: list[int]) -> dict[int, Any]:
    return ctx.store.dns_of(ctx.tenant_id, seqs)


def member_refs(ctx: Context, seqs: list[int]) -> dict[int, Any]:
    return ctx.store.refs_of(ctx.tenant_id, seqs)


class BadCursor(ValueError):
    pass


def encode_cursor(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadCursor("bad cursor: not one this service issued") from exc
    if not isinstance(state, dict) or "since" not in state or not all(
            _is_seq(state.get(k)) for k in ("hi", "pos", "grp", "mem")) or not (
            state.get("since") is None or _is_seq(state["since"])):
        raise BadCursor("bad cursor")
    return state


def _is_seq(value: object) -> bool:
    # Cursor fields are change and object numbers: store integers (64-bit in PostgreSQL).
    return type(value) is int and 0 <= value < 2**63


def _parse_token(token: str | None) -> int | None:
    if token in (None, ""):
        return None
    if not token.isascii() or not token.isdigit() or len(token) > 19 or int(token) >= 2**63:
        raise BadCursor(f"bad token {token[:40]!r}")
    return int(token)


def _object_entry(ctx: Context, obj: DirObject,
                  quarantined: Quarantines | None = None) -> dict[str, Any]:
    """``quarantined``: the page's quarantined values read in one query (else one per object)."""
    return {"op": "upsert", "id": obj.id, "object_type": obj.object_type, "dn": obj.dn,
            "source_anchor": obj.source_anchor, "sync_enabled": obj.sync_enabled,
            "cloud_managed": obj.cloud_managed,
            "attributes": obj.attributes,
            "provisioning_errors": provisioning_errors(
                ctx, obj, None if quarantined is None else quarantined.get(obj.seq, []))}


def _quarantines(ctx: Context, objects: Iterable[DirObject]) -> Quarantines:
    return ctx.store.quarantined_of_many([o.seq for o in objects])


def _delete_entry(object_id: str | None, object_type: str | None, dn: str | None,
                  reason: str = "deleted") -> dict[str, Any]:
    return {"op": "delete", "id": object_id, "object_type": object_type, "dn": dn,
            "reason": reason}


def _start(ctx: Context, token: str | None, cursor: str | None) -> dict[str, Any]:
    if cursor:
        return decode_cursor(cursor)
    since = _parse_token(token)
    return {"hi": ctx.store.max_usn(ctx.tenant_id), "since": since, "pos": since or 0,
            "grp": 0, "mem": 0}


def _finish(page: Page, state: dict[str, Any], more: bool, token_name: str) -> Page:
    page["more"] = more
    page["next"] = encode_cursor(state) if more else None
    page[token_name] = None if more else str(state["hi"])
    return page


# --- v1 ----------------------------------------------------------------------------------------


def import_v1(ctx: Context, limits: Limits, watermark: str | None, cursor: str | None,
              page_size: int) -> Page:
    with ctx.store.reading():
        state = _start(ctx, watermark, cursor)
        if state["since"] is None:
            return _v1_full(ctx, limits, state, page_size)
        return _v1_delta(ctx, limits, state, page_size)


def _v1_object(ctx: Context, limits: Limits, obj: DirObject,
               quarantined: Quarantines | None = None) -> dict[str, Any] | None:
    entry = _object_entry(ctx, obj, quarantined)
    if obj.object_type == "group":
        if obj.member_count > limits.v1_member_limit:
            return None
        entry["members"] = ctx.store.member_dns(obj.seq)
    return entry


def _v1_full(ctx: Context, limits: Limits, state: dict[str, Any], page_size: int) -> Page:
    objects = ctx.store.page_objects(ctx.tenant_id, state["pos"], page_size)
    quarantined = _quarantines(ctx, objects)
    entries = [e for e in (_v1_object(ctx, limits, o, quarantined) for o in objects)
               if e is not None]
    if objects:
        state["pos"] = objects[-1].seq
    return _finish({"objects": entries}, state, len(objects) == page_size, "watermark")


def _v1_delta(ctx: Context, limits: Limits, state: dict[str, Any], page_size: int) -> Page:
    rows = ctx.store.changes_between(ctx.tenant_id, state["pos"], state["hi"],
                                     limit=page_size * 20)
    seen: dict[int, Any] = {}
    consumed = 0
    for row in rows:
        if row.object_seq not in seen and len(seen) >= page_size:
            break
        if row.kind == OBJECT_DELETED:
            seen[row.object_seq] = row
        else:
            seen.setdefault(row.object_seq, None)
        consumed += 1
        state["pos"] = row.usn
    live = ctx.store.get_many_by_seq(ctx.tenant_id, list(seen))
    quarantined = _quarantines(ctx, live.values())
    entries = []
    for seq, deleted in seen.items():
        obj = live.get(seq)
        if obj is not None:
            entry = _v1_object(ctx, limits, obj, quarantined)
            entries.append(entry if entry is not None else _delete_entry(
                obj.id, obj.object_type, obj.dn, reason="LargeObject"))
        elif deleted is not None:
            entries.append(_delete_entry(deleted.object_id, deleted.object_type, deleted.dn))
    more = consumed < len(rows) or len(rows) == page_size * 20
    return _finish({"objects": entries}, state, more, "watermark")


# --- v2 ----------------------------------------------------------------------------------------


def import_v2(ctx: Context, limits: Limits, delta_token: str | None, cursor: str | None,
              page_size: int, names: MemberNames = member_dns) -> Page:
    with ctx.store.reading():
        state = _start(ctx, delta_token, cursor)
        if state["since"] is None:
            return _v2_full(ctx, limits, state, page_size, names)
        return _v2_delta(ctx, limits, state, page_size, names)


def _v2_full(ctx: Context, limits: Limits, state: dict[str, Any], page_size: int,
             names: MemberNames) -> Page:
    entries: list[dict[str, Any]] = []
    links = 0
    if state["grp"]:
        # A group in progress from the last page: its next slice of members first.
        done, links = _group_slice(ctx, state, entries, limits.member_page_size, names)
        if not done:
            return _finish({"changes": entries}, state, True, "delta_token")
    while len(entries) < page_size and links < limits.member_page_size:
        # Small reads: a page can end early on its member budget, and rows read past that
        # point are read again by the next page.
        objects = ctx.store.page_objects(ctx.tenant_id, state["pos"],
                                         min(page_size - len(entries), 100))
        if not objects:
            return _finish({"changes": entries}, state, False, "delta_token")
        quarantined = _quarantines(ctx, objects)
        for obj in objects:
            if obj.object_type == "group" and obj.member_count:
                state["grp"], state["mem"] = obj.seq, 0
                done, used = _group_slice(ctx, state, entries, limits.member_page_size - links,
                                          names, obj, quarantined)
                links += used
                if not done:
                    return _finish({"changes": entries}, state, True, "delta_token")
            else:
                entry = _object_entry(ctx, obj, quarantined)
                if obj.object_type == "group":
                    entry["members"] = {"add": [], "remove": []}
                entries.append(entry)
                state["pos"] = obj.seq
            if links >= limits.member_page_size:
                break
    return _finish({"changes": entries}, state, True, "delta_token")


def _group_slice(ctx: Context, state: dict[str, Any], entries: list[dict[str, Any]],
                 budget: int, names: MemberNames, group: DirObject | None = None,
                 quarantined: Quarantines | None = None) -> tuple[bool, int]:
    """Append the next slice (at most ``budget``) of the members of the group in ``state``;
    (whether the group is finished, member references used)."""
    group = group or ctx.store.get_by_seq(ctx.tenant_id, state["grp"])
    rows = ctx.store.page_member_rows(state["grp"], state["mem"], budget) \
        if group is not None and budget > 0 else []
    if group is not None and rows:
        entry = _object_entry(ctx, group, quarantined)
        # One join gives both namings: DNs for the sync API, (id, type) for Graph.
        add = [r[3] for r in rows] if names is member_dns else [(r[1], r[2]) for r in rows]
        entry["members"] = {"add": add, "remove": []}
        entries.append(entry)
    if group is None or len(rows) < budget:
        state["pos"], state["grp"], state["mem"] = state["grp"], 0, 0
        return True, len(rows)
    state["mem"] = rows[-1][0]
    return False, len(rows)


def _v2_delta(ctx: Context, limits: Limits, state: dict[str, Any], page_size: int,
              names: MemberNames) -> Page:
    row_limit = limits.member_page_size + page_size
    rows = ctx.store.changes_between(ctx.tenant_id, state["pos"], state["hi"], limit=row_limit)
    per_object: dict[int, dict[str, Any]] = {}
    consumed = 0
    for row in rows:
        if row.object_seq not in per_object and len(per_object) >= page_size:
            break
        slot = per_object.setdefault(row.object_seq, {"deleted": None, "members": {},
                                                      "created": False})
        if row.kind == OBJECT_DELETED:
            slot["deleted"] = row
        elif row.kind == OBJECT_CREATED:
            slot["created"] = True
        elif row.kind in (MEMBER_ADDED, MEMBER_REMOVED):
            # The last change of an edge in the window wins.
            slot["members"][row.member_seq] = row.kind
        consumed += 1
        state["pos"] = row.usn
    live = ctx.store.get_many_by_seq(ctx.tenant_id, list(per_object))
    quarantined = _quarantines(ctx, live.values())
    member_seqs = {m for slot in per_object.values() for m in slot["members"]}
    dns = names(ctx, list(member_seqs)) if member_seqs else {}
    entries = []
    for seq, slot in per_object.items():
        obj = live.get(seq)
        if obj is None:
            if slot["deleted"] is not None:
                d = slot["deleted"]
                entries.append(_delete_entry(d.object_id, d.object_type, d.dn))
            continue
        entry = _object_entry(ctx, obj, quarantined)
        if slot["created"]:
            # New since the token: the client has no copy yet (this entry starts it).
            entry["created"] = True
        if obj.object_type == "group":
            edges = slot["members"]
            entry["members"] = {
                "add": [dns[m] for m, k in edges.items() if k == MEMBER_ADDED and m in dns],
                "remove": [dns[m] for m, k in edges.items() if k == MEMBER_REMOVED and m in dns],
            }
        entries.append(entry)
    more = consumed < len(rows) or len(rows) == row_limit
    return _finish({"changes": entries}, state, more, "delta_token")
