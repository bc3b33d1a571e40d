"""HTTP handlers of the sync endpoint API, versions 1 and 2 (docs/sync-api.md)."""

from __future__ import annotations

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clouddir.imports import BadCursor, import_v1, import_v2
from clouddir.membership import count_links
from clouddir.service import Service, error_response, json_response
from clouddir.value_limits import text_problem

MAX_BATCH_ID = 256


def _service(request: Request) -> Service:
    return request.app.state.service


async def ping(request: Request) -> Response:
    service = _service(request)
    tenant = await run_in_threadpool(service.tenant_of, request)
    if tenant is None:
        return service.unauthorized()
    return json_response({"tenant_id": tenant.id, "limits": service.limits.as_dict()})


async def _export(request: Request, version: int) -> Response:
    service = _service(request)
    tenant = await run_in_threadpool(service.tenant_of, request)
    if tenant is None:
        return service.unauthorized()
    declared = request.headers.get("content-type")
    if declared is not None and declared.split(";", 1)[0].strip().lower() != "application/json":
        return error_response(415, "UnsupportedMediaType",
                              f"Content-Type {declared[:60]!r} is not supported; send "
                              f"application/json")
    # The body limit is enforced while it streams in (clouddir.request_limits).
    body = await request.body()
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return error_response(400, "BadRequest", "body is not JSON")
    if not isinstance(payload, dict):
        return error_response(400, "BadRequest", "body must be an object")
    batch_id = payload.get("batch_id")
    changes = payload.get("changes")
    if not isinstance(batch_id, str) or not batch_id or not isinstance(changes, list) or not all(
            isinstance(c, dict) for c in changes):
        return error_response(400, "BadRequest", "need batch_id (string) and changes (list)")
    problem = text_problem("batch_id", batch_id, MAX_BATCH_ID)
    if problem:
        return error_response(400, "BadRequest", problem)
    limits = service.limits
    max_changes = limits.v1_batch_size if version == 1 else limits.v2_batch_size
    if len(changes) > max_changes:
        return error_response(413, "BatchTooLarge",
                              f"{len(changes)} changes; API v{version} takes {max_changes}")
    if version == 2 and count_links(2, changes) > limits.v2_max_links:
        return error_response(413, "BatchTooLarge",
                              f"more than {limits.v2_max_links} member references")
    return await run_in_threadpool(service.export_batch, tenant, version, batch_id, changes)


async def export_v1(request: Request) -> Response:
    return await _export(request, 1)


async def export_v2(request: Request) -> Response:
    return await _export(request, 2)


async def _import(request: Request, version: int) -> Response:
    service = _service(request)
    tenant = await run_in_threadpool(service.tenant_of, request)
    if tenant is None:
        return service.unauthorized()
    params = request.query_params
    limits = service.limits
    raw_size = params.get("page_size", str(limits.import_page_size))
    if not raw_size.isascii() or not raw_size.lstrip("-").isdigit() or len(raw_size) > 10:
        return error_response(400, "BadRequest", "page_size must be an integer")
    page_size = min(int(raw_size), limits.import_page_size)
    if page_size < 1:
        return error_response(400, "BadRequest", "page_size must be positive")
    ctx = service.context(tenant)
    try:
        if version == 1:
            page = await run_in_threadpool(import_v1, ctx, limits, params.get("watermark"),
                                           params.get("cursor"), page_size)
        else:
            page = await run_in_threadpool(import_v2, ctx, limits, params.get("delta_token"),
                                           params.get("cursor"), page_size)
    except BadCursor as exc:
        return error_response(400, "BadRequest", str(exc))
    return json_response(page)


async def import_v1_route(request: Request) -> Response:
    return await _import(request, 1)


async def import_v2_route(request: Request) -> Response:
    return await _import(request, 2)


async def large_groups(request: Request) -> Response:
    """``GET /sync/v1/large-groups``: the groups API v1 leaves out of its imports and refuses
    in its exports (above ``v1_member_limit``), so a server on v1 can know what it cannot
    see: id, DN, source anchor, whether sync manages it, display name and member count."""
    service = _service(request)
    tenant = await run_in_threadpool(service.tenant_of, request)
    if tenant is None:
        return service.unauthorized()
    limit = service.limits.v1_member_limit
    ctx = service.context(tenant)

    def read() -> list[dict[str, object]]:
        with ctx.store.reading():
            return [{"id": g.id, "dn": g.dn, "source_anchor": g.source_anchor,
                     "sync_enabled": g.sync_enabled,
                     "displayName": (g.attributes.get("displayName") or [None])[0],
                     "member_count": g.member_count}
                    for g in ctx.store.groups_above(tenant.id, limit)]

    groups = await run_in_threadpool(read)
    return json_response({"v1_member_limit": limit, "groups": groups})


routes = [
    Route("/sync/ping", ping),
    Route("/sync/v1/export", export_v1, methods=["POST"]),
    Route("/sync/v2/export", export_v2, methods=["POST"]),
    Route("/sync/v1/import", import_v1_route),
    Route("/sync/v1/large-groups", large_groups),
    Route("/sync/v2/import", import_v2_route),
]

__all__ = ["routes"]
