"""Every error answer in Graph's shape, ``{"error": {"code", "message", "innerError"}}``,
including the ones no handler writes: an unknown path (404), a wrong method (405) and, as the
last resort, an unexpected exception (500, logged with its traceback; the tests assert that no
request reaches it)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Send

log = logging.getLogger("clouddir")

#: Graph's codes for the statuses Starlette raises itself.
_CODES = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed",
          413: "RequestEntityTooLarge", 415: "UnsupportedMediaType"}


def graph_error_body(code: str, message: str,
                     client_request_id: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()),
        "client-request-id": client_request_id or ""}}}


async def send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    """An answer from plain ASGI (middleware that answers before the app runs)."""
    content = orjson.dumps(body)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode())]})
    await send({"type": "http.response.body", "body": content})


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 404:
        message = f"No resource at {request.url.path!r}."
    elif status == 405:
        message = f"{request.method} is not supported on {request.url.path!r}."
    else:
        message = str(exc.detail)
    echo = request.headers.get("client-request-id")  # echoed as Graph does, bounded
    echo = echo[:64] if echo and echo.isascii() and echo.isprintable() else None
    return Response(orjson.dumps(graph_error_body(_CODES.get(status, "BadRequest"), message,
                                                  echo)),
                    status_code=status, headers=exc.headers,
                    media_type="application/json")


async def unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(orjson.dumps(graph_error_body(
        "InternalServerError", "The service met an unexpected error; it is logged.")),
        status_code=500, media_type="application/json")


exception_handlers = {HTTPException: http_exception, Exception: unexpected}
