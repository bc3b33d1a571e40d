"""``POST /v1.0/$batch``: up to 20 requests, run in order against this same application."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response

from clouddir.graph.handlers import body_of
from clouddir.graph.model import GraphError
from clouddir.service import Service, json_response
from clouddir.store import Tenant

#: Graph JSON batching takes at most 20 requests.
MAX_REQUESTS = 20


async def batch(request: Request, service: Service, tenant: Tenant) -> Response:
    payload = await body_of(request)
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not requests:
        raise GraphError(400, "BadRequest", "Invalid batch payload.")
    if len(requests) > MAX_REQUESTS:
        raise GraphError(400, "BadRequest",
                         f"Number of requests ({len(requests)}) exceeds the limit of "
                         f"{MAX_REQUESTS}.")
    transport = httpx.ASGITransport(app=request.app)
    headers = {"Authorization": request.headers.get("authorization", "")}
    responses: list[dict[str, Any]] = []
    async with httpx.AsyncClient(transport=transport, base_url=str(request.base_url)) as client:
        for item in requests:
            responses.append(await _one(client, headers, item))
    return json_response({"responses": responses})


async def _one(client: httpx.AsyncClient, auth: dict[str, str], item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not item.get("url") or not item.get("method"):
        return {"id": str(item.get("id") if isinstance(item, dict) else ""), "status": 400,
                "body": GraphError(400, "BadRequest", "Each request needs id, method and "
                                                      "url.").body()}
    url = str(item["url"])
    if not url.startswith("/"):
        url = "/" + url
    if not url.startswith("/v1.0/"):
        url = "/v1.0" + url
    headers = {**{k: str(v) for k, v in (item.get("headers") or {}).items()}, **auth}
    content = None
    if "body" in item:
        content = orjson.dumps(item["body"])
        headers.setdefault("Content-Type", "application/json")
    answer = await client.request(str(item["method"]).upper(), url, headers=headers,
                                  content=content)
    out: dict[str, Any] = {"id": str(item.get("id")), "status": answer.status_code,
                           "headers": {k: v for k, v in answer.headers.items()
                                       if k.lower() in ("content-type", "retry-after",
                                                        "location")}}
    if answer.content:
        try:
            out["body"] = orjson.loads(answer.content)
        except orjson.JSONDecodeError:
            out["body"] = answer.text
    return out
