"""HTTP handlers of the sync endpoint API, versions 1 and 2 (docs/sync-api.md)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clouddir.imports import BadCursor, import_v1, import_v2
from clouddir.messages import BadRequest, ExportRequest, ImportRequest
from clouddir.responses import error_response, json_response, unauthorized
from clouddir.service import Service, WriteBudgetSpent
from clouddir.storage import Tenant


def _service(request: Request) -> Service:
    return request.app.state.service


async def _tenant(request: Request, service: Service) -> Tenant | None:
    return await run_in_threadpool(service.tenant_of, request.headers.get("authorization"))


async def ping(request: Request) -> Response:
    service = _service(request)
    tenant = await _tenant(request, service)
    if tenant is None:
        return unauthorized()
    return json_response({"tenant_id": tenant.id, "limits": service.limits.as_dict()})


async def _export(request: Request, version: int) -> Response:
    service = _service(request)
    tenant = await _tenant(request, service)
    if tenant is None:
        return unauthorized()
    try:
        ExportRequest.check_media_type(request.headers.get("content-type"))
        # The body limit is enforced while it streams in (clouddir.request_limits).
        batch = ExportRequest.parse(version, await request.body(), service.limits)
        answer = await run_in_threadpool(service.export_batch, tenant, batch)
    except BadRequest as refused:
        return error_response(refused.status, refused.code, refused.message)
    except WriteBudgetSpent as spent:
        return error_response(429, "TooManyRequests", spent.message,
                              {"Retry-After": str(spent.wait)})
    if answer.replayed:
        return Response(answer.body, media_type="application/json",
                        headers={"X-Batch-Replayed": "true"})
    return Response(answer.body, media_type="application/json")


async def export_v1(request: Request) -> Response:
    return await _export(request, 1)


async def export_v2(request: Request) -> Response:
    return await _export(request, 2)


async def _import(request: Request, version: int) -> Response:
    service = _service(request)
    tenant = await _tenant(request, service)
    if tenant is None:
        return unauthorized()
    limits = service.limits
    ctx = service.context(tenant)
    try:
        asked = ImportRequest.parse(version, request.query_params, limits)
        read = import_v1 if version == 1 else import_v2
        page = await run_in_threadpool(read, ctx, limits, asked.token, asked.cursor,
                                       asked.page_size)
    except (BadRequest, BadCursor) as exc:
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
    tenant = await _tenant(request, service)
    if tenant is None:
        return unauthorized()
    limit = service.limits.v1_member_limit
    ctx = service.context(tenant)

    def read() -> list[dict[str, object]]:
        with ctx.store.reading():
            return [{"id": g.id, "dn": g.dn, "source_anchor": g.source_anchor,
                     "sync_enabled": g.sync_enabled,
                     "displayName": next(iter(g.attributes.get("displayName") or []), None),
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
