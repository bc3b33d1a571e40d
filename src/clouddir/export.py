"""Applying export batches of the sync API, version 1 (whole objects, whole member lists) and
version 2 (attribute-level changes, membership deltas).

Each change is applied in its own savepoint: a refused change leaves nothing behind and never
fails the batch. Membership work costs in proportion to the delta: v2 reads and writes only the
members named in the change; v1, which receives the whole list, reads the current list once
and writes only the difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clouddir import errors as codes
from clouddir.errors import ChangeRefused
from clouddir.membership import plan_members
from clouddir.messages import ChangeResult, ExportChange, RefusedChangeResult
from clouddir.quota import QUOTA_EXCEEDED, ObjectQuota, QuotaExceeded
from clouddir.settings import Limits
from clouddir.storage import OBJECT_CHANGED, OBJECT_CREATED, DirObject
from clouddir.uniqueness import (
    UNIQUE_ATTRIBUTES,
    Context,
    apply_unique,
    holder_of,
    prefetch_batch,
    primary_smtp,
    release_all,
)
from clouddir.validation import (
    check_attributes,
    check_change_shape,
    check_object_type,
    check_source_anchor,
)
from clouddir.value_limits import object_size_problem

Change = ExportChange


@dataclass(slots=True)
class AppliedChange:
    """What applying one change did: the object written (None: a delete of an object already
    gone), the errors that make it ``partial`` (members not found), uniqueness warnings, and
    whether it created the object (it counts against the object quota)."""

    obj: DirObject | None = None
    errors: list[dict[str, object]] = field(default_factory=list)
    warnings: list[dict[str, object]] = field(default_factory=list)
    created: bool = False


def apply_batch(ctx: Context, limits: Limits, version: int, changes: list[Change],
                quota: ObjectQuota | None = None
                ) -> list[ChangeResult | RefusedChangeResult]:
    """Apply a batch inside the caller's transaction; one result per change, in order.
    ``quota``: the tenant's room for new objects (an add past it fails alone)."""
    prefetch_batch(ctx, changes)
    results: list[ChangeResult | RefusedChangeResult] = []
    for change in changes:
        ref = change.get("ref")
        try:
            with ctx.store.savepoint():
                applied = _apply_one(ctx, limits, version, change, quota)
        except ChangeRefused as refused:
            # The id is echoed only when it is one (a refused change may name anything).
            echoed = change.get("id") if isinstance(change.get("id"), str) else None
            results.append({"ref": ref, "status": "error", "id": echoed,
                            "errors": [refused.as_dict()], "warnings": []})
            continue
        obj = applied.obj
        if applied.created and quota is not None:
            quota.created()
        results.append({
            "ref": ref, "status": "partial" if applied.errors else "ok",
            "id": obj.id if obj else change.get("id"), "dn": obj.dn if obj else None,
            "errors": applied.errors, "warnings": applied.warnings,
        })
    return results


def _apply_one(ctx: Context, limits: Limits, version: int, change: Change,
               quota: ObjectQuota | None = None) -> AppliedChange:
    check_change_shape(change)
    op = change.get("op")
    if op == "delete":
        return _delete(ctx, change)
    if op not in ("add", "update"):
        raise ChangeRefused(codes.IDENTITY_DATA_VALIDATION_FAILED, f"unknown op {op!r}")
    object_type = check_object_type(change.get("object_type"))
    attributes = change.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ChangeRefused(codes.IDENTITY_DATA_VALIDATION_FAILED, "attributes must be a map")
    anchor = change.get("source_anchor")
    if anchor is not None:
        check_source_anchor(anchor)
    existing = _target(ctx, change, op, object_type, anchor, attributes)
    # A v1 add carries the whole object (a matched object is replaced whole); an update, in
    # both versions, replaces the attributes it names.
    replace_all = version == 1 and op == "add"
    if version == 2:
        attributes = _merge_value_changes(ctx, existing, attributes, change)
    check_attributes(object_type, attributes, limits.max_certificates,
                     whole=replace_all or existing is None)
    members = plan_members(ctx, limits, version, change, object_type, existing)

    if existing is None:
        _room_for_one(quota)
        obj = ctx.store.insert(DirObject(tenant_id=ctx.tenant_id, id="",
                                         object_type=object_type, dn=change.get("dn"),
                                         source_anchor=anchor, sync_enabled=True))
    else:
        obj = existing
        obj.sync_enabled = True
        if anchor is not None:
            obj.source_anchor = anchor
        if change.get("dn"):
            obj.dn = change["dn"]
    applied = AppliedChange(obj=obj, created=existing is None)
    new_attributes = {} if replace_all else dict(obj.attributes)
    for name, values in attributes.items():
        if name in UNIQUE_ATTRIBUTES:
            continue
        if values:
            new_attributes[name] = list(values)
        else:
            new_attributes.pop(name, None)
    size = object_size_problem({**new_attributes, **{
        k: v for k, v in attributes.items() if k in UNIQUE_ATTRIBUTES}}, limits.max_object_bytes)
    if size:
        raise ChangeRefused(codes.LARGE_OBJECT, size)
    unique_now = {k: v for k, v in obj.attributes.items() if k in UNIQUE_ATTRIBUTES}
    obj.attributes = {**new_attributes, **unique_now}
    for name in UNIQUE_ATTRIBUTES:
        if name in attributes or (replace_all and name in unique_now):
            applied.warnings += apply_unique(ctx, obj, name, list(attributes.get(name, [])),
                                             new=existing is None)
    ctx.store.update(obj)
    if "manager" in attributes or (replace_all and existing is not None):
        # The manager DN is also indexed as a link (what Graph's manager and directReports read).
        ctx.store.link_manager_by_dn(ctx.tenant_id, obj)
    ctx.store.log(ctx.tenant_id, obj.seq, OBJECT_CREATED if existing is None else OBJECT_CHANGED)
    if members is not None:
        applied.errors += members.apply(ctx, obj)
    return applied


def _room_for_one(quota: ObjectQuota | None) -> None:
    if quota is None:
        return
    try:
        quota.check()
    except QuotaExceeded as exc:
        raise ChangeRefused(QUOTA_EXCEEDED, str(exc)) from exc


def _merge_value_changes(ctx: Context, existing: DirObject | None,
                         attributes: dict[str, list[str]], change: Change
                         ) -> dict[str, list[str]]:
    """v2: fold value-level adds and removes of multi-valued attributes (``value_adds`` /
    ``value_removes``, e.g. one proxyAddress) into whole-attribute replacements."""
    adds = change.get("value_adds") or {}
    removes = change.get("value_removes") or {}
    if not adds and not removes:
        return attributes
    merged = dict(attributes)
    for name in {*adds, *removes}:
        current = merged.get(name)
        if current is None:
            current = _wanted_values(ctx, existing, name) if existing else []
        drop = {v.lower() for v in removes.get(name, [])}
        values = [v for v in current if v.lower() not in drop]
        have = {v.lower() for v in values}
        values += [v for v in adds.get(name, []) if v.lower() not in have]
        merged[name] = values
    return merged


def _wanted_values(ctx: Context, obj: DirObject, name: str) -> list[str]:
    """The values the sync client wants, quarantined ones included (a stand-in UPN or
    nickname is swapped back for the value it stands in for)."""
    values = list(obj.attributes.get(name, []))
    for q in ctx.store.quarantined_of(obj.seq):
        if q.attribute != name:
            continue
        if q.replacement is not None and q.replacement in values:
            values[values.index(q.replacement)] = q.value
        else:
            values.append(q.value)
    return values


def _target(ctx: Context, change: Change, op: str, object_type: str, anchor: str | None,
            attributes: dict[str, list[str]]) -> DirObject | None:
    """The object the change applies to: by id (update), else hard match, else soft match;
    None for a new object."""
    if op == "update":
        object_id = change.get("id")
        obj = ctx.store.get(ctx.tenant_id, object_id) if object_id else None
        if obj is None and anchor:
            obj = ctx.store.find_by_anchor(ctx.tenant_id, anchor)
        if obj is None:
            raise ChangeRefused(codes.OBJECT_NOT_FOUND, f"no object {object_id!r}")
        _check_owned(obj, object_type)
        if anchor is not None and obj.source_anchor not in (None, anchor):
            raise ChangeRefused(codes.IDENTITY_DATA_VALIDATION_FAILED,
                                "SourceAnchor attribute has changed.")
        return obj
    if anchor:
        hit = ctx.store.find_by_anchor(ctx.tenant_id, anchor)
        if hit is not None:
            if hit.object_type != object_type:
                raise ChangeRefused(codes.OBJECT_TYPE_MISMATCH,
                                    f"sourceAnchor matches a {hit.object_type} ({hit.id})")
            if not hit.sync_enabled:
                raise ChangeRefused(codes.INVALID_HARD_MATCH,
                                    f"sourceAnchor matches cloud-managed object {hit.id}")
            _check_authority(hit)
            return hit
    return _soft_match(ctx, object_type, anchor, attributes)


def _soft_match(ctx: Context, object_type: str, anchor: str | None,
                attributes: dict[str, list[str]]) -> DirObject | None:
    candidates: list[int] = []
    upn = attributes.get("userPrincipalName")
    if object_type == "user" and upn:
        seq = holder_of(ctx, "userPrincipalName", upn[0])
        if seq is not None:
            candidates.append(seq)
    smtp = primary_smtp(attributes)
    if smtp:
        seq = holder_of(ctx, "proxyAddresses", smtp)
        if seq is not None:
            candidates.append(seq)
    for seq in candidates:
        hit = ctx.store.get_by_seq(ctx.tenant_id, seq)
        # Only the same kind of object; a Unified group is cloud-born and never taken over.
        # Anything else that collides is a uniqueness conflict, handled by quarantine.
        if hit is None or hit.object_type != object_type or "Unified" in hit.attributes.get(
                "groupTypes", []):
            continue
        if hit.source_anchor is None:
            _check_authority(hit)
            return hit  # takeover: the caller sets the anchor and sync_enabled
        if hit.source_anchor != anchor:
            raise ChangeRefused(codes.INVALID_SOFT_MATCH,
                                f"matches {hit.id}, which has another immutableId")
    return None


def _check_owned(obj: DirObject, object_type: str) -> None:
    if obj.object_type != object_type:
        raise ChangeRefused(codes.OBJECT_TYPE_MISMATCH, f"{obj.id} is a {obj.object_type}")
    _check_authority(obj)
    if not obj.sync_enabled:
        raise ChangeRefused(codes.CLOUD_OBJECT_NOT_SYNC_MANAGED,
                            f"{obj.id} is cloud-born and not managed by sync")


def _delete(ctx: Context, change: Change) -> AppliedChange:
    object_id = change.get("id")
    obj = ctx.store.get(ctx.tenant_id, object_id) if object_id else None
    if obj is None and change.get("source_anchor"):
        obj = ctx.store.find_by_anchor(ctx.tenant_id, change["source_anchor"])
    if obj is None:
        return AppliedChange()  # already gone: a delete is idempotent
    _check_authority(obj)
    if not obj.sync_enabled:
        raise ChangeRefused(codes.CLOUD_OBJECT_NOT_SYNC_MANAGED,
                            f"{obj.id} is cloud-born and not managed by sync")
    release_all(ctx, obj)
    ctx.store.delete(obj)
    return AppliedChange(obj=obj)


def _check_authority(obj: DirObject) -> None:
    """A cloud-managed object takes no sync write (update, delete, member changes, a hard or
    soft match taking it over) until its authority is back on premises."""
    if obj.cloud_managed:
        raise ChangeRefused(codes.OBJECT_CLOUD_MANAGED,
                            f"{obj.id} is managed in the cloud "
                            "(onPremisesSyncBehavior.isCloudManaged is true)")
