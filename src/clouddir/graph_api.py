"""The Graph-shaped admin API (a first subset of Microsoft Graph v1.0): create and read
cloud-born users and groups, list group members. Objects created here are cloud-born
(``onPremisesSyncEnabled`` false): sync can soft-match users onto them but never overwrite them.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clouddir.service import Service, json_response
from clouddir.store import OBJECT_CHANGED, DirObject, Tenant
from clouddir.uniqueness import UNIQUE_ATTRIBUTES, holder_of

_GRAPH_TYPES = {"users": "user", "groups": "group", "contacts": "contact"}
_ODATA_TYPES = {"user": "#microsoft.graph.user", "group": "#microsoft.graph.group",
                "contact": "#microsoft.graph.orgContact"}
# Graph properties kept as attributes; scalar in Graph, lists in the store.
_SCALARS = ("displayName", "userPrincipalName", "mailNickname", "mail", "givenName",
            "surname", "description")
_BOOLEANS = ("securityEnabled", "mailEnabled", "accountEnabled")
_LISTS = ("proxyAddresses", "groupTypes")


def graph_error(status: int, code: str, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message,
                                    "innerError": {"request-id": ""}}}, status)


def to_graph(obj: DirObject) -> dict[str, Any]:
    out: dict[str, Any] = {"@odata.type": _ODATA_TYPES[obj.object_type], "id": obj.id,
                           "onPremisesImmutableId": obj.source_anchor,
                           "onPremisesSyncEnabled": True if obj.sync_enabled else None}
    for name in _SCALARS:
        values = obj.attributes.get(name)
        out[name] = values[0] if values else None
    for name in _BOOLEANS:
        values = obj.attributes.get(name)
        out[name] = (values[0].lower() == "true") if values else None
    for name in _LISTS:
        out[name] = obj.attributes.get(name, [])
    return out


def _from_graph(body: dict[str, Any]) -> dict[str, list[str]]:
    attributes: dict[str, list[str]] = {}
    for name in _SCALARS:
        if body.get(name) is not None:
            attributes[name] = [str(body[name])]
    for name in _BOOLEANS:
        if body.get(name) is not None:
            attributes[name] = ["true" if body[name] else "false"]
    for name in _LISTS:
        if body.get(name):
            attributes[name] = [str(v) for v in body[name]]
    return attributes


def _create(service: Service, tenant: Tenant, object_type: str,
            attributes: dict[str, list[str]]) -> DirObject | str:
    store = service.store
    ctx = service.context(tenant)
    with store.transaction():
        for name, kind in UNIQUE_ATTRIBUTES.items():
            for value in attributes.get(name, []):
                if holder_of(ctx, name, value) is not None:
                    return (f"Another object with the same value for property {name} already "
                            f"exists. ({kind})")
        obj = store.insert(DirObject(tenant_id=tenant.id, id="", object_type=object_type,
                                     dn=None, source_anchor=None, sync_enabled=False,
                                     attributes=attributes))
        obj.dn = f"CN={object_type.capitalize()}_{obj.id}"
        store.update(obj)
        for name, kind in UNIQUE_ATTRIBUTES.items():
            for value in attributes.get(name, []):
                store.claim_unique(tenant.id, kind, value.lower(), obj.seq)
        store.log(tenant.id, obj.seq, OBJECT_CHANGED)
    return obj


async def create_object(request: Request) -> Response:
    service: Service = request.app.state.service
    tenant = service.tenant_of(request)
    if tenant is None:
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
    object_type = _GRAPH_TYPES[request.path_params["collection"]]
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return graph_error(400, "BadRequest", "Unable to read JSON request payload.")
    if not isinstance(body, dict) or not body.get("displayName"):
        return graph_error(400, "Request_BadRequest", "displayName is required.")
    if object_type == "user" and not body.get("userPrincipalName"):
        return graph_error(400, "Request_BadRequest", "userPrincipalName is required.")
    result = await run_in_threadpool(_create, service, tenant, object_type, _from_graph(body))
    if isinstance(result, str):
        return graph_error(400, "Request_BadRequest", result)
    return json_response(to_graph(result), 201)


async def get_object(request: Request) -> Response:
    service: Service = request.app.state.service
    tenant = service.tenant_of(request)
    if tenant is None:
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
    object_type = _GRAPH_TYPES[request.path_params["collection"]]
    with service.store.reading():
        obj = service.store.get(tenant.id, request.path_params["id"])
    if obj is None or obj.object_type != object_type:
        return graph_error(404, "Request_ResourceNotFound",
                           f"Resource '{request.path_params['id']}' does not exist.")
    return json_response(to_graph(obj))


async def list_members(request: Request) -> Response:
    service: Service = request.app.state.service
    tenant = service.tenant_of(request)
    if tenant is None:
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
    store = service.store
    top = min(int(request.query_params.get("$top", 100)), 999)
    after = int(request.query_params.get("$skiptoken", 0))
    with store.reading():
        group = store.get(tenant.id, request.path_params["id"])
        if group is None or group.object_type != "group":
            return graph_error(404, "Request_ResourceNotFound",
                               f"Resource '{request.path_params['id']}' does not exist.")
        seqs = store.page_members(group.seq, after, top)
        objects = store.get_many_by_seq(tenant.id, seqs)
    body: dict[str, Any] = {"value": [to_graph(objects[s]) for s in seqs if s in objects]}
    if len(seqs) == top:
        body["@odata.nextLink"] = str(request.url.include_query_params(
            **{"$skiptoken": seqs[-1], "$top": top}))
    return json_response(body)


routes = [
    Route("/v1.0/{collection:str}", create_object, methods=["POST"]),
    Route("/v1.0/{collection:str}/{id:str}", get_object, methods=["GET"]),
    Route("/v1.0/groups/{id:str}/members", list_members, methods=["GET"]),
]
