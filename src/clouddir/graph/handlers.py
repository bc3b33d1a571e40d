"""HTTP handlers of the admin API: collections, objects, members, $ref."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from clouddir.graph import admin
from clouddir.graph.manager import expanded, managers_for, parse_expand
from clouddir.graph.model import (
    COLLECTIONS,
    GraphError,
    check_id,
    not_found,
    select,
    to_graph,
)
from clouddir.graph.query import parse_filter, parse_select, parse_skiptoken, parse_top
from clouddir.responses import json_response
from clouddir.service import Service
from clouddir.storage import DirObject, Tenant
from clouddir.storage.quotas import StorageQuotaExceeded

Handler = Callable[[Request, Service, Tenant], Awaitable[Response]]
_SCAN = 1000


def graph_handler(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, and turn GraphErrors into Graph-shaped error responses."""

    async def endpoint(request: Request) -> Response:
        service: Service = request.app.state.service
        authorization = request.headers.get("authorization")
        tenant = await run_in_threadpool(service.tenant_of, authorization)
        try:
            if tenant is None:
                expired = await run_in_threadpool(service.access_tokens.expired, authorization)
                raise GraphError(401, "InvalidAuthenticationToken",
                                 "Lifetime validation failed, the token is expired."
                                 if expired else "Access token is empty or invalid.")
            return await handler(request, service, tenant)
        except GraphError as error:
            return json_response(error.body(client_request_id(request)), error.status,
                                 error.headers)
        except StorageQuotaExceeded as refused:  # raised by the store's write, any handler
            return json_response(GraphError(400, refused.code, refused.detail).body(
                client_request_id(request)), 400)

    return endpoint


def client_request_id(request: Request) -> str | None:
    """The client's own request id, echoed in an error's innerError as Graph does (bounded:
    it is only ever a GUID)."""
    value = request.headers.get("client-request-id")
    return value[:64] if value and value.isascii() and value.isprintable() else None


def object_type_of(request: Request) -> str:
    collection = request.path_params["collection"]
    if collection not in COLLECTIONS:
        raise GraphError(400, "BadRequest",
                         f"Resource not found for the segment '{collection}'.")
    return COLLECTIONS[collection]


async def body_of(request: Request) -> Any:
    check_json_content_type(request)
    raw = await request.body()
    try:
        return orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError as exc:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from exc


def check_json_content_type(request: Request) -> None:
    """A body is JSON: another declared media type is refused (415), none is taken as JSON."""
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media = declared.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise GraphError(415, "UnsupportedMediaType",
                         f"Content-Type {declared[:60]!r} is not supported; send "
                         f"application/json.")


def _wants_count(request: Request) -> bool:
    if request.query_params.get("$count", "").lower() != "true":
        return False
    if request.headers.get("consistencylevel", "").lower() != "eventual":
        raise GraphError(400, "Request_BadRequest",
                         "$count is not currently supported without ConsistencyLevel: "
                         "eventual.")
    return True


Listed = tuple[list[tuple[DirObject, dict[str, Any]]], int | None, int | None, int]


def _list(service: Service, tenant: Tenant, object_type: str, params: dict[str, str],
          want_count: bool, expand: list[str] | None = None) -> Listed:
    """Matching objects from ``$skiptoken`` on: (page, next skiptoken, count, top); with
    ``expand`` (``$expand=manager``), each listed user carries its manager."""
    page, next_token, count, top = _matching(service, tenant, object_type, params, want_count)
    if expand is not None and page:
        with service.store.reading():
            managers = managers_for(service.store, tenant.id, [o for o, _g in page])
        page = [(o, expanded(g, managers.get(o.seq), expand)) for o, g in page]
    return page, next_token, count, top


def _matching(service: Service, tenant: Tenant, object_type: str, params: dict[str, str],
              want_count: bool) -> Listed:
    predicate = parse_filter(params.get("$filter"))
    top = parse_top(params.get("$top"))
    after = parse_skiptoken(params.get("$skiptoken"))
    store = service.store
    page: list[tuple[DirObject, dict[str, Any]]] = []
    next_token = None
    count = 0
    with store.reading():
        cursor = after if not want_count else 0
        while True:
            batch = store.list_objects(tenant.id, object_type, cursor, _SCAN)
            for obj in batch:
                graph = to_graph(obj)
                if predicate is not None and not predicate(graph):
                    continue
                count += 1
                if obj.seq <= after:
                    continue
                if len(page) < top:
                    page.append((obj, graph))
                    last = obj.seq
                elif next_token is None:
                    next_token = last
                    if not want_count:
                        return page, next_token, None, top
            if len(batch) < _SCAN:
                break
            cursor = batch[-1].seq
    return page, next_token, count if want_count else None, top


async def list_collection(request: Request, service: Service, tenant: Tenant) -> Response:
    object_type = object_type_of(request)
    params = dict(request.query_params)
    fields = parse_select(params.get("$select"))
    expand = parse_expand(params.get("$expand"), object_type)
    page, next_token, count, top = await run_in_threadpool(
        _list, service, tenant, object_type, params, _wants_count(request), expand)
    body: dict[str, Any] = {"@odata.context": f"{_base(request)}/$metadata#"
                                              f"{request.path_params['collection']}"}
    if count is not None:
        body["@odata.count"] = count
    body["value"] = [_selected(g, fields, expand) for _o, g in page]
    if next_token is not None:
        body["@odata.nextLink"] = str(request.url.include_query_params(
            **{"$skiptoken": str(next_token), "$top": str(top)}))
    return json_response(body)


def _selected(graph: dict[str, Any], fields: list[str] | None,
              expand: list[str] | None) -> dict[str, Any]:
    """``$select`` keeps an expanded manager (Graph adds expansions to the selection)."""
    return select(graph, [*fields, "manager"] if fields and expand is not None else fields)


async def count_collection(request: Request, service: Service, tenant: Tenant) -> Response:
    if request.headers.get("consistencylevel", "").lower() != "eventual":
        raise GraphError(400, "Request_BadRequest",
                         "$count is not currently supported without ConsistencyLevel: "
                         "eventual.")
    params = {k: v for k, v in request.query_params.items() if k == "$filter"}
    _page, _next, count, _top = await run_in_threadpool(
        _list, service, tenant, object_type_of(request), params, True)
    return PlainTextResponse(str(count))


async def create_object(request: Request, service: Service, tenant: Tenant) -> Response:
    object_type = object_type_of(request)
    if object_type == "contact":
        raise GraphError(405, "Request_BadRequest", "Contacts are created by sync only.")
    body = await body_of(request)
    obj = await run_in_threadpool(admin.create, service, tenant, object_type, body)
    return json_response(to_graph(obj), 201)


async def get_object(request: Request, service: Service, tenant: Tenant) -> Response:
    object_type = object_type_of(request)
    object_id = check_id(request.path_params["id"])
    fields = parse_select(request.query_params.get("$select"))
    expand = parse_expand(request.query_params.get("$expand"), object_type)
    obj, manager = await run_in_threadpool(_get_expanded, service, tenant, object_id,
                                           expand is not None)
    if obj is None or obj.object_type != object_type:
        raise not_found(object_id)
    return json_response(_selected(expanded(to_graph(obj), manager, expand), fields, expand))


def _get_expanded(service: Service, tenant: Tenant, object_id: str,
                  expand: bool) -> tuple[DirObject | None, DirObject | None]:
    with service.store.reading():
        obj = service.store.get(tenant.id, object_id)
        if obj is None or not expand:
            return obj, None
        return obj, managers_for(service.store, tenant.id, [obj]).get(obj.seq)


async def patch_object(request: Request, service: Service, tenant: Tenant) -> Response:
    object_type = object_type_of(request)
    object_id = check_id(request.path_params["id"])
    body = await body_of(request)
    await run_in_threadpool(admin.update, service, tenant, object_type, object_id, body)
    return Response(status_code=204)


async def delete_object(request: Request, service: Service, tenant: Tenant) -> Response:
    await run_in_threadpool(admin.delete, service, tenant, object_type_of(request),
                            check_id(request.path_params["id"]))
    return Response(status_code=204)


def _members_page(service: Service, tenant: Tenant, group_id: str, after: int,
                  top: int) -> tuple[list[dict[str, Any]], int | None]:
    store = service.store
    with store.reading():
        group = store.get(tenant.id, group_id)
        if group is None or group.object_type != "group":
            raise not_found(group_id)
        seqs = store.page_members(group.seq, after, top + 1)
        objects = store.get_many_by_seq(tenant.id, seqs[:top])
    page = [to_graph(objects[s]) for s in seqs[:top] if s in objects]
    return page, (seqs[top - 1] if len(seqs) > top else None)


async def list_members(request: Request, service: Service, tenant: Tenant) -> Response:
    params = request.query_params
    top = parse_top(params.get("$top"))
    page, next_token = await run_in_threadpool(
        _members_page, service, tenant, check_id(request.path_params["id"]),
        parse_skiptoken(params.get("$skiptoken")), top)
    fields = parse_select(params.get("$select"))
    body: dict[str, Any] = {"@odata.context": f"{_base(request)}/$metadata#directoryObjects",
                            "value": [select(o, fields) for o in page]}
    if next_token is not None:
        body["@odata.nextLink"] = str(request.url.include_query_params(
            **{"$skiptoken": str(next_token), "$top": str(top)}))
    return json_response(body)


async def add_member_ref(request: Request, service: Service, tenant: Tenant) -> Response:
    body = await body_of(request)
    await run_in_threadpool(admin.add_member_ref, service, tenant,
                            check_id(request.path_params["id"]), body)
    return Response(status_code=204)


async def remove_member_ref(request: Request, service: Service, tenant: Tenant) -> Response:
    await run_in_threadpool(admin.remove_member_ref, service, tenant,
                            check_id(request.path_params["id"]),
                            check_id(request.path_params["member_id"]))
    return Response(status_code=204)


async def get_directory_object(request: Request, service: Service, tenant: Tenant) -> Response:
    object_id = check_id(request.path_params["id"])
    obj = await run_in_threadpool(_get, service, tenant, object_id)
    if obj is None:
        raise not_found(object_id)
    return json_response(to_graph(obj))


def _get(service: Service, tenant: Tenant, object_id: str) -> DirObject | None:
    with service.store.reading():
        return service.store.get(tenant.id, object_id)


def _base(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}/v1.0"
