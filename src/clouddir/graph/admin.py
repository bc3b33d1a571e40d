"""Writes of the admin API on cloud-born objects: create, update, delete, membership.

Objects created here are cloud-born (``onPremisesSyncEnabled`` null). Synced objects are
mastered on premises: the admin API refuses to change them, as Graph does. Uniqueness is strict
here (a conflict is a 400), duplicate attribute resiliency being a sync feature.
"""

from __future__ import annotations

import re
from typing import Any

from clouddir.errors import ChangeRefused
from clouddir.graph.model import ON_PREMISES_MASTERED, GraphError, from_graph, not_found
from clouddir.quota import QUOTA_EXCEEDED, ObjectQuota, QuotaExceeded
from clouddir.service import Service
from clouddir.storage import OBJECT_CHANGED, OBJECT_CREATED, DirObject, Tenant
from clouddir.uniqueness import UNIQUE_ATTRIBUTES, holder_of, release_all
from clouddir.validation import check_source_anchor, check_upn

#: Graph: at most 20 members per request through members@odata.bind.
MAX_BIND = 20
_ID_AT_END = re.compile(r"([0-9A-Za-z-]+)/?$")
IMMUTABLE_ID = "onPremisesImmutableId"
_USAGE_LOCATION = re.compile(r"^[A-Za-z]{2}$")
#: Entra's password length bound (a longer one is refused, never stored).
MAX_PASSWORD = 256


def writing(service: Service, tenant: Tenant) -> None:
    wait = service.budget.try_spend(tenant.id, 1)
    if wait:
        raise GraphError(429, "TooManyRequests", "Too many requests.",
                         {"Retry-After": str(wait)})


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
    anchor = _immutable_id(object_type, body)
    attributes = from_graph(_without_immutable_id(body))
    if object_type == "user":
        _check_user_fields(body, creating=True)
    store = service.store
    with store.transaction(tenant.id):
        try:
            ObjectQuota.read(store, tenant.id, service.limits.max_objects).check()
        except QuotaExceeded as exc:
            raise GraphError(400, QUOTA_EXCEEDED, str(exc)) from exc
        writing(service, tenant)
        obj = store.insert(DirObject(tenant_id=tenant.id, id="", object_type=object_type,
                                     dn=None, source_anchor=None, sync_enabled=False))
        obj.dn = f"CN={object_type.capitalize()}_{obj.id}"
        _apply(obj, attributes)
        _claim(service, tenant, obj, attributes)
        if anchor:
            _take_anchor(service, tenant, obj, anchor)
        store.update(obj)
        store.log(tenant.id, obj.seq, OBJECT_CREATED)
        if binds:
            add_members(service, tenant, obj, binds)
    return obj


def owned(service: Service, tenant: Tenant, object_type: str, object_id: str) -> DirObject:
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
    anchor = _immutable_id(object_type, body)
    attributes = from_graph(_without_immutable_id(body))
    if object_type == "user":
        _check_user_fields(body, creating=False)
    store = service.store
    with store.transaction(tenant.id):
        obj = owned(service, tenant, object_type, object_id)
        writing(service, tenant)
        if attributes or IMMUTABLE_ID in body:
            _apply(obj, attributes)
            _claim(service, tenant, obj, attributes)
            if IMMUTABLE_ID in body:
                _take_anchor(service, tenant, obj, anchor)
            store.update(obj)
            store.log(tenant.id, obj.seq, OBJECT_CHANGED)
        if binds:
            add_members(service, tenant, obj, binds)


def delete(service: Service, tenant: Tenant, object_type: str, object_id: str) -> None:
    store = service.store
    with store.transaction(tenant.id):
        obj = owned(service, tenant, object_type, object_id)
        writing(service, tenant)
        release_all(service.context(tenant), obj)
        store.delete(obj)


def _immutable_id(object_type: str, body: dict[str, Any]) -> str | None:
    """A user's onPremisesImmutableId (None: not named, or null to clear it)."""
    if IMMUTABLE_ID not in body:
        return None
    if object_type != "user":
        raise GraphError(400, "Request_BadRequest", f"Property '{IMMUTABLE_ID}' does not exist "
                                                    f"on type or is read-only.")
    value = body[IMMUTABLE_ID]
    if value is None:
        return None
    if not isinstance(value, str):
        raise GraphError(400, "Request_BadRequest",
                         f"Invalid value specified for property '{IMMUTABLE_ID}': expected a "
                         f"string.")
    try:
        check_source_anchor(value)
    except ChangeRefused as exc:
        raise GraphError(400, "Request_BadRequest",
                         f"Invalid value specified for property '{IMMUTABLE_ID}': it is empty, "
                         f"too long or holds whitespace.") from exc
    return value


def _without_immutable_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != IMMUTABLE_ID}


def _take_anchor(service: Service, tenant: Tenant, obj: DirObject, anchor: str | None) -> None:
    """onPremisesImmutableId is the sync API's source anchor (the same column): unique in the
    tenant, as Entra keeps it."""
    if anchor is not None:
        holder = service.store.find_by_anchor(tenant.id, anchor)
        if holder is not None and holder.seq != obj.seq:
            raise GraphError(400, "Request_BadRequest",
                             f"Another object with the same value for property {IMMUTABLE_ID} "
                             f"already exists.")
    obj.source_anchor = anchor


def _check_user_fields(body: dict[str, Any], creating: bool) -> None:
    """passwordProfile (required on create, as Graph has it; checked and dropped, never kept)
    and usageLocation (an ISO 3166 two-letter code)."""
    location = body.get("usageLocation")
    if location is not None and (not isinstance(location, str)
                                 or not _USAGE_LOCATION.match(location)):
        raise GraphError(400, "Request_BadRequest", "Invalid value specified for property "
                                                    "'usageLocation' of resource 'User'.")
    profile = body.get("passwordProfile")
    if profile is None and not creating:
        return
    if not isinstance(profile, dict):
        raise GraphError(400, "Request_BadRequest",
                         "Invalid value specified for property 'passwordProfile' of resource "
                         "'User'." if profile is not None else
                         "A password is required: set passwordProfile.password.")
    password = profile.get("password")
    force = profile.get("forceChangePasswordNextSignIn")
    force_mfa = profile.get("forceChangePasswordNextSignInWithMfa")
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD or not all(
            v is None or isinstance(v, bool) for v in (force, force_mfa)) or any(
            k not in ("password", "forceChangePasswordNextSignIn",
                      "forceChangePasswordNextSignInWithMfa", "@odata.type") for k in profile):
        raise GraphError(400, "Request_BadRequest", "Invalid value specified for property "
                                                    "'passwordProfile' of resource 'User'.")


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
        group = owned(service, tenant, "group", group_id)
        writing(service, tenant)
        add_members(service, tenant, group, [member_id], strict=True)


def remove_member_ref(service: Service, tenant: Tenant, group_id: str, member_id: str) -> None:
    store = service.store
    with store.transaction(tenant.id):
        group = owned(service, tenant, "group", group_id)
        found = store.resolve_ids(tenant.id, [member_id])
        if member_id not in found or not store.present_members(group.seq, [found[member_id]]):
            raise not_found(member_id)
        writing(service, tenant)
        store.remove_members(tenant.id, group.seq, [found[member_id]])
