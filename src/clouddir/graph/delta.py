"""``/users/delta()`` and ``/groups/delta()``: Graph's delta query over the change log.

Pages follow ``@odata.nextLink`` to an ``@odata.deltaLink`` whose ``$deltatoken`` gives the
changes since. Groups carry ``members@delta``; a large group's members are paged, so the same
group repeats across pages, as Graph does. Removed objects and members carry ``@removed``.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from clouddir.graph.handlers import object_type_of
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


def _graph_entry(entry: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if entry["op"] == "delete":
        return {"@odata.type": ODATA_TYPES.get(entry["object_type"] or "user"),
                "id": entry["id"], "@removed": {"reason": "deleted"}}
    obj = DirObject(tenant_id="", id=entry["id"], object_type=entry["object_type"],
                    dn=entry["dn"], source_anchor=entry["source_anchor"],
                    sync_enabled=entry["sync_enabled"], attributes=entry["attributes"])
    obj.cloud_managed = bool(entry.get("cloud_managed"))
    out = select(to_graph(obj), fields)
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
    ctx = service.context(tenant)
    try:
        page = await run_in_threadpool(import_v2, ctx, service.limits,
                                       params.get("$deltatoken"), params.get("$skiptoken"),
                                       top, member_refs)
    except BadCursor as exc:
        raise GraphError(400, "BadRequest", f"Invalid delta or skip token: {exc}") from exc
    value = [_graph_entry(e, fields) for e in page["changes"]
             if e["object_type"] == object_type]
    base = request.url.remove_query_params(["$skiptoken", "$deltatoken"])
    body: dict[str, Any] = {"@odata.context": f"{request.base_url}v1.0/$metadata#"
                                              f"{request.path_params['collection']}",
                            "value": value}
    if page["more"]:
        body["@odata.nextLink"] = str(base.include_query_params(**{"$skiptoken": page["next"]}))
    else:
        body["@odata.deltaLink"] = str(base.include_query_params(
            **{"$deltatoken": page["delta_token"]}))
    return json_response(body)
