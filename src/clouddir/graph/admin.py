"""Writes of the admin API on cloud-born objects: create, update, delete, membership.

Objects created here are cloud-born (``onPremisesSyncEnabled`` null). Synced objects are
mastered on premises: the admin API refuses to change them, as Graph does. Uniqueness is strict
here (a conflict is a 400), duplicate attribute resiliency being a sync feature.
"""

from __future__ import annotations

import re
from typing import Any

from clouddir.graph.model import ON_PREMISES_MASTERED, GraphError, from_graph, not_found
from clouddir.quota import QUOTA_EXCEEDED, ObjectQuota, QuotaExceeded
from clouddir.service import Service
from clouddir.storage import OBJECT_CHANGED, OBJECT_CREATED, DirObject, Tenant
from clouddir.uniqueness import UNIQUE_ATTRIBUTES, holder_of, release_all
from clouddir.validation import check_upn

#: Graph: at most 20 members per request through members@odata.bind.
MAX_BIND = 20
_ID_AT_END = re.compile(r"([0-9A-Za-z-]+)/?$")


def _writing(service: Service, tenant: Tenant) -> None:
    wait = service.budget.try_spend(tenant.id, 1)
    if wait:
        raise GraphError(429, "TooManyRequests", "Too many requests.",
                         {"Retry-After": str(wait)})


#: The write budget's check, for the Graph writes of other modules (graph.authority).
spend_write = _writing


def id_from_odata(value: object) -> str:
    match = _ID_AT_END.search(value) if isinstance(value, str) and len(value) <= 2048 else None
    if not match or len(match.group(1)) > 64:
        raise GraphError(400, "Request_BadRequest",
                         f"Invalid object identifier '{str(value)[:64]}'.")
    return match.group(1)


def _claim(service: Service, tenant: Tenant, obj: DirObject,
           attributes: dict[str, list[str] | None]) -> None:
    ctx = service.context(tenant)
    store = service.store
    for name, kind in UNIQUE_ATTRIBUTES.items():
        if name not in attributes:
            continue
        new = {v.lower() for v in attributes[name] or []}
        for value in new:
            holder = holder_of(ctx, name, value)
            if holder is not None and holder != obj.seq:
                raise GraphError(400, "Request_BadRequest",
                                 f"Another object with the same value for property {name} "
                                 f"already exists.")
        for k, value in store.unique_values_of(obj.seq):
            if k == kind and value not in new:
                store.release_unique(tenant.id, kind, value)
        for value in new:
            if holder_of(ctx, name, value) is None:
                store.claim_unique(tenant.id, kind, value, obj.seq)


def _apply(obj: DirObject, attributes: dict[str, list[str] | None]) -> None:
    for name, values in attributes.items():
        if values is None:
            obj.attributes.pop(name, None)
        else:
            obj.attributes[name] = values
    upn = obj.attributes.get("userPrincipalName")
    if obj.object_type == "user":
        if not upn:
            raise GraphError(400, "Request_BadRequest", "userPrincipalName is required.")
        try:
            check_upn(upn[0])
        except Exception as exc:
            raise GraphError(400, "Request_BadRequest",
                             "Property userPrincipalName is invalid.") from exc


def create(service: Service, tenant: Tenant, object_type: str, body: dict[str, Any]) -> DirObject:
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.")
    if not body.get("displayName"):
        raise GraphError(400, "Request_BadRequest", "Property displayName is required.")
    binds = _binds(body) if object_type == "group" else []
    attributes = from_graph(body)
    store = service.store
    with store.transaction(tenant.id):
        try:
            ObjectQuota.read(store, tenant.id, service.limits.max_objects).check()
        except QuotaExceeded as exc:
            raise GraphError(400, QUOTA_EXCEEDED, str(exc)) from exc
        _writing(service, tenant)
        obj = store.insert(DirObject(tenant_id=tenant.id, id="", object_type=object_type,
                                     dn=None, source_anchor=None, sync_enabled=False))
        obj.dn = f"CN={object_type.capitalize()}_{obj.id}"
        _apply(obj, attributes)
        _claim(service, tenant, obj, attributes)
        store.update(obj)
        store.log(tenant.id, obj.seq, OBJECT_CREATED)
        if binds:
            add_members(service, tenant, obj, binds)
    return obj


def _owned(service: Service, tenant: Tenant, object_type: str, object_id: str) -> DirObject:
    obj = service.store.get(tenant.id, object_id)
    if obj is None or obj.object_type != object_type:
        raise not_found(object_id)
    if obj.sync_enabled and not obj.cloud_managed:  # a cloud-managed one is the cloud's
        raise GraphError(400, "Request_BadRequest", ON_PREMISES_MASTERED)
    return obj


def update(service: Service, tenant: Tenant, object_type: str, object_id: str,
           body: dict[str, Any]) -> None:
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.")
    binds = _binds(body) if object_type == "group" else []
    attributes = from_graph(body)
    store = service.store
    with store.transaction(tenant.id):
        obj = _owned(service, tenant, object_type, object_id)
        _writing(service, tenant)
        if attributes:
            _apply(obj, attributes)
            _claim(service, tenant, obj, attributes)
            store.update(obj)
            store.log(tenant.id, obj.seq, OBJECT_CHANGED)
        if binds:
            add_members(service, tenant, obj, binds)


def delete(service: Service, tenant: Tenant, object_type: str, object_id: str) -> None:
    store = service.store
    with store.transaction(tenant.id):
        obj = _owned(service, tenant, object_type, object_id)
        _writing(service, tenant)
        release_all(service.context(tenant), obj)
        store.delete(obj)


def _binds(body: dict[str, Any]) -> list[str]:
    values = body.get("members@odata.bind") or []
    if not isinstance(values, list):
        raise GraphError(400, "BadRequest", "members@odata.bind must be a list.")
    if len(values) > MAX_BIND:
        raise GraphError(400, "Request_BadRequest",
                         f"The request adds {len(values)} members; at most {MAX_BIND} members "
                         f"can be added in one request.")
    return [id_from_odata(v) for v in values]


def add_members(service: Service, tenant: Tenant, group: DirObject, member_ids: list[str],
                strict: bool = False) -> None:
    store = service.store
    found = store.resolve_ids(tenant.id, member_ids)
    missing = [m for m in member_ids if m not in found]
    if missing:
        raise not_found(missing[0])
    seqs = [found[m] for m in dict.fromkeys(member_ids)]
    present = store.present_members(group.seq, seqs)
    if present and strict:
        raise GraphError(400, "Request_BadRequest",
                         "One or more added object references already exist for the following "
                         "modified properties: 'members'.")
    store.add_members(tenant.id, group.seq, [s for s in seqs if s not in present])


def add_member_ref(service: Service, tenant: Tenant, group_id: str, body: Any) -> None:
    if not isinstance(body, dict) or "@odata.id" not in body:
        raise GraphError(400, "BadRequest", "Expected @odata.id in the request body.")
    member_id = id_from_odata(body["@odata.id"])  # a malformed body is a 400 before any 404
    store = service.store
    with store.transaction(tenant.id):
        group = _owned(service, tenant, "group", group_id)
        _writing(service, tenant)
        add_members(service, tenant, group, [member_id], strict=True)


def remove_member_ref(service: Service, tenant: Tenant, group_id: str, member_id: str) -> None:
    store = service.store
    with store.transaction(tenant.id):
        group = _owned(service, tenant, "group", group_id)
        found = store.resolve_ids(tenant.id, [member_id])
        if member_id not in found or not store.present_members(group.seq, [found[member_id]]):
            raise not_found(member_id)
        _writing(service, tenant)
        store.remove_members(tenant.id, group.seq, [found[member_id]])
