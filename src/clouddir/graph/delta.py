"""``/users/delta()`` and ``/groups/delta()``: Graph's delta query over the change log.

Pages follow ``@odata.nextLink`` to an ``@odata.deltaLink`` whose ``$deltatoken`` gives the
changes since. Groups carry ``members@delta``; a large group's members are paged, so the same
group repeats across pages, as Graph does. Removed objects and members carry ``@removed``.
Users carry ``manager@delta`` (the manager's id; an empty list: no manager now) when
``$select`` names ``manager`` or ``$expand=manager`` asks for it.

A ``$deltatoken`` this service never issued (or cannot serve) is Graph's answer to an expired
one: ``410 Gone``, code ``syncStateNotFound``, with a ``Location`` naming a fresh delta query,
so a client tells "start over with a full sync" apart from a malformed request (400).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from clouddir.graph.handlers import object_type_of
from clouddir.graph.manager import managers_for, parse_expand
from clouddir.graph.model import ODATA_TYPES, GraphError, select, to_graph
from clouddir.graph.query import parse_select, parse_top
from clouddir.imports import BadCursor, import_v2, member_refs
from clouddir.responses import json_response
from clouddir.service import Service
from clouddir.storage import DirObject, Tenant


def _member(ref: tuple[str, str], removed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"@odata.type": ODATA_TYPES[ref[1]], "id": ref[0]}
    if removed:
        out["@removed"] = {"reason": "deleted"}
    return out


SYNC_STATE_NOT_FOUND = ("The sync state generation is not found. The delta token is expired "
                        "and data must be synchronized again.")


def _graph_entry(entry: dict[str, Any], fields: list[str] | None,
                 managers: dict[str, str | None] | None = None) -> dict[str, Any]:
    if entry["op"] == "delete":
        return {"@odata.type": ODATA_TYPES.get(entry["object_type"] or "user"),
                "id": entry["id"], "@removed": {"reason": "deleted"}}
    obj = DirObject(tenant_id="", id=entry["id"], object_type=entry["object_type"],
                    dn=entry["dn"], source_anchor=entry["source_anchor"],
                    sync_enabled=entry["sync_enabled"], attributes=entry["attributes"])
    obj.cloud_managed = bool(entry.get("cloud_managed"))
    out = select(to_graph(obj), [f for f in fields if f != "manager"] if fields else fields)
    if managers is not None and obj.object_type == "user":
        manager = managers.get(obj.id)
        out["manager@delta"] = [_member((manager, "user"), False)] if manager else []
    members = entry.get("members")
    if members is not None and (fields is None or "members" in fields):
        out["members@delta"] = ([_member(m, False) for m in members["add"]]
                                + [_member(m, True) for m in members["remove"]])
    return out


async def delta(request: Request, service: Service, tenant: Tenant) -> Response:
    object_type = object_type_of(request)
    params = request.query_params
    fields = parse_select(params.get("$select"))
    top = parse_top(params.get("$top"), default=100, most=999)
    with_manager = object_type == "user" and (
        parse_expand(params.get("$expand"), object_type) is not None
        or "manager" in (fields or []))
    base = request.url.remove_query_params(["$skiptoken", "$deltatoken"])
    token = params.get("$deltatoken")
    ctx = service.context(tenant)
    if token is not None and not params.get("$skiptoken") and not await run_in_threadpool(
            _known_token, service, tenant, token):
        raise GraphError(410, "syncStateNotFound", SYNC_STATE_NOT_FOUND,
                         {"Location": str(base)})
    try:
        page = await run_in_threadpool(import_v2, ctx, service.limits, token,
                                       params.get("$skiptoken"), top, member_refs)
    except BadCursor as exc:
        raise GraphError(400, "BadRequest", f"Invalid delta or skip token: {exc}") from exc
    entries = [e for e in page["changes"] if e["object_type"] == object_type]
    managers = await run_in_threadpool(_manager_ids, service, tenant, entries) \
        if with_manager else None
    value = [_graph_entry(e, fields, managers) for e in entries]
    body: dict[str, Any] = {"@odata.context": f"{request.base_url}v1.0/$metadata#"
                                              f"{request.path_params['collection']}",
                            "value": value}
    if page["more"]:
        body["@odata.nextLink"] = str(base.include_query_params(**{"$skiptoken": page["next"]}))
    else:
        body["@odata.deltaLink"] = str(base.include_query_params(
            **{"$deltatoken": page["delta_token"]}))
    return json_response(body)


def _known_token(service: Service, tenant: Tenant, token: str) -> bool:
    """A change number this service handed out for the tenant (none is ever above the
    tenant's last change; the change log is never pruned, so none expires)."""
    if not token.isascii() or not token.isdigit() or len(token) > 19:
        return False
    with service.store.reading():
        return int(token) <= service.store.max_usn(tenant.id)


def _manager_ids(service: Service, tenant: Tenant,
                 entries: list[dict[str, Any]]) -> dict[str, str | None]:
    """user id -> its manager's id, for a page's live user entries (a few queries)."""
    store = service.store
    live = [e for e in entries if e["op"] != "delete"]
    with store.reading():
        seqs = store.resolve_ids(tenant.id, [e["id"] for e in live])
        users = [DirObject(tenant_id=tenant.id, id=e["id"], object_type="user", dn=e["dn"],
                           source_anchor=None, sync_enabled=False,
                           attributes=e["attributes"], seq=seqs[e["id"]])
                 for e in live if e["id"] in seqs]
        managers = managers_for(store, tenant.id, users)
    return {u.id: (managers[u.seq].id if u.seq in managers else None) for u in users}
