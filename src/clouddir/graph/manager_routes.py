"""HTTP handlers of a user's manager and direct reports (clouddir.graph.manager)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from clouddir.graph import manager as m
from clouddir.graph.handlers import body_of
from clouddir.graph.model import check_id, select, to_graph
from clouddir.graph.query import parse_select, parse_skiptoken, parse_top
from clouddir.responses import json_response
from clouddir.service import Service
from clouddir.storage import Tenant


def _base(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}/v1.0"


async def get_manager(request: Request, service: Service, tenant: Tenant) -> Response:
    fields = parse_select(request.query_params.get("$select"))
    manager = await run_in_threadpool(m.get_manager, service, tenant,
                                      check_id(request.path_params["id"]))
    body = {"@odata.context": f"{_base(request)}/$metadata#directoryObjects/$entity",
            **select(to_graph(manager), fields)}
    return json_response(body)


async def get_manager_ref(request: Request, service: Service, tenant: Tenant) -> Response:
    manager = await run_in_threadpool(m.get_manager, service, tenant,
                                      check_id(request.path_params["id"]))
    return json_response({"@odata.context": f"{_base(request)}/$metadata#directoryObjects/$ref",
                          "@odata.id": f"{_base(request)}/directoryObjects/{manager.id}"})


async def put_manager_ref(request: Request, service: Service, tenant: Tenant) -> Response:
    body = await body_of(request)
    await run_in_threadpool(m.set_manager, service, tenant,
                            check_id(request.path_params["id"]), body)
    return Response(status_code=204)


async def delete_manager_ref(request: Request, service: Service, tenant: Tenant) -> Response:
    await run_in_threadpool(m.remove_manager, service, tenant,
                            check_id(request.path_params["id"]))
    return Response(status_code=204)


async def direct_reports(request: Request, service: Service, tenant: Tenant) -> Response:
    params = request.query_params
    top = parse_top(params.get("$top"))
    fields = parse_select(params.get("$select"))
    page, next_token = await run_in_threadpool(
        m.direct_reports, service, tenant, check_id(request.path_params["id"]),
        parse_skiptoken(params.get("$skiptoken")), top)
    body: dict[str, Any] = {"@odata.context": f"{_base(request)}/$metadata#directoryObjects",
                            "value": [select(to_graph(o), fields) for o in page]}
    if next_token is not None:
        body["@odata.nextLink"] = str(request.url.include_query_params(
            **{"$skiptoken": str(next_token), "$top": str(top)}))
    return json_response(body)
