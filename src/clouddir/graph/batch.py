"""``POST /v1.0/$batch``: up to 20 requests, run in order against this same application.

A malformed batch (not a list of 1 to 20 requests, duplicate ids) is refused whole with 400; a
malformed request inside a valid batch is that request's own 400 in the batch response, and the
others run. Request URLs are relative (``/users``, ``users``, ``/v1.0/users``, as Graph's
documentation shows) or absolute (``https://host/v1.0/users``, as msgraph-sdk sends them); the
host of an absolute URL is ignored, since every request runs against this service. A batch
inside a batch is refused: it would multiply one request's work by 20 at each level.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response

from clouddir.graph.handlers import body_of, client_request_id
from clouddir.graph.model import GraphError
from clouddir.responses import json_response
from clouddir.service import Service
from clouddir.storage import Tenant

#: Graph JSON batching takes at most 20 requests.
MAX_REQUESTS = 20
METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
#: Headers a batched request may carry to its handler (the batch's own token is used).
_FORWARDED = frozenset({"content-type", "consistencylevel", "prefer", "if-match",
                        "client-request-id"})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")


async def batch(request: Request, service: Service, tenant: Tenant) -> Response:
    payload = await body_of(request)
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not requests:
        raise GraphError(400, "BadRequest", "Invalid batch payload: expected a non-empty "
                                            "'requests' list.")
    if len(requests) > MAX_REQUESTS:
        raise GraphError(400, "BadRequest",
                         f"Number of requests ({len(requests)}) exceeds the limit of "
                         f"{MAX_REQUESTS}.")
    ids = [_item_id(item) for item in requests]
    if len(set(ids)) != len(ids):
        raise GraphError(400, "BadRequest", "Batch request ids must be unique.")
    transport = httpx.ASGITransport(app=request.app)
    auth = {"Authorization": request.headers.get("authorization", "")}
    responses: list[dict[str, Any]] = []
    statuses: dict[str, int] = {}
    async with httpx.AsyncClient(transport=transport, base_url=str(request.base_url)) as client:
        for item_id, item in zip(ids, requests, strict=True):
            try:
                _check_depends(item, statuses)
                answer = await _one(client, auth, item_id, item)
            except GraphError as error:
                answer = {"id": item_id, "status": error.status,
                          "headers": {"Content-Type": "application/json", **error.headers},
                          "body": error.body(client_request_id(request))}
            statuses[item_id] = answer["status"]
            responses.append(answer)
    return json_response({"responses": responses})


def _check_depends(item: Any, statuses: dict[str, int]) -> None:
    """``dependsOn`` names earlier requests of the batch (they run in order here); a request
    whose dependency failed is not run and answers 424, as Graph does. msgraph-core's batch
    classes spell it ``depends_on``: both are read."""
    if not isinstance(item, dict):
        return
    depends = item.get("dependsOn", item.get("depends_on"))
    if depends is None:
        return
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise _bad("dependsOn must be a list of request ids.")
    for name in depends:
        if name not in statuses:
            raise _bad(f"dependsOn names '{name[:64]}', which is not an earlier request of "
                       f"this batch.")
        if statuses[name] >= 400:
            raise GraphError(424, "FailedDependency",
                             f"The request depends on request '{name[:64]}', which failed.")


def _item_id(item: Any) -> str:
    value = item.get("id") if isinstance(item, dict) else None
    return str(value)[:64] if isinstance(value, str | int) and not isinstance(value, bool) \
        else ""


def _bad(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def item_path(url: object) -> str:
    """The path (and query) a batched request's ``url`` names, under ``/v1.0``."""
    if not isinstance(url, str) or not url or len(url) > 4096:
        raise _bad("Each request needs a url (a string).")
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise _bad(f"Unsupported url scheme '{parts.scheme[:16]}'.")
        url = parts.path + (f"?{parts.query}" if parts.query else "")
    if not url.startswith("/"):
        url = "/" + url
    if not url.startswith("/v1.0/"):
        url = "/v1.0" + url
    # Judge the path the router will see: percent-decoded, and without dot segments (which a
    # client library would resolve), so no spelling of /v1.0/$batch gets through.
    path = unquote(url.split("?", 1)[0])
    if any(segment in (".", "..") for segment in path.split("/")):
        raise _bad("A request url cannot hold '.' or '..' segments.")
    if path.rstrip("/").lower() == "/v1.0/$batch":
        raise _bad("A batch request cannot contain another $batch request.")
    return url


async def _one(client: httpx.AsyncClient, auth: dict[str, str], item_id: str,
               item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not item_id:
        raise _bad("Each request needs an id (a string), a method and a url.")
    method = item.get("method")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise _bad(f"Each request needs a method, one of {', '.join(sorted(METHODS))}.")
    url = item_path(item.get("url"))
    raw_headers = item.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise _bad("A request's headers must be an object.")
    headers: dict[str, str] = {}
    for name, raw in raw_headers.items():
        # msgraph-sdk sends each header's values as a list.
        value = ", ".join(raw) if isinstance(raw, list) and all(
            isinstance(v, str) for v in raw) else raw
        if not _TOKEN.match(name) or not isinstance(value, str) or len(value) > 1024 or any(
                ord(c) < 32 or ord(c) > 126 for c in value):
            raise _bad(f"Invalid header '{str(name)[:64]}'.")
        if name.lower() in _FORWARDED:
            headers[name] = value
    headers.update(auth)
    content = None
    if "body" in item:
        content = orjson.dumps(item["body"])
        headers.setdefault("Content-Type", "application/json")
    try:
        answer = await client.request(method.upper(), url, headers=headers, content=content)
    except (httpx.InvalidURL, httpx.LocalProtocolError) as exc:
        raise _bad(f"Invalid request url '{url[:64]}'.") from exc
    out: dict[str, Any] = {"id": item_id, "status": answer.status_code,
                           "headers": {k: v for k, v in answer.headers.items()
                                       if k.lower() in ("content-type", "retry-after",
                                                        "location")}}
    if answer.content:
        try:
            out["body"] = orjson.loads(answer.content)
        except orjson.JSONDecodeError:
            out["body"] = answer.text
    return out
