"""The request body limit, enforced while the body streams in.

A declared ``Content-Length`` above the limit is refused before a byte of the body is read; a
body that arrives chunked, or longer than it said, is counted as it arrives and refused the
moment it passes the limit. Either way the answer is 413 with Graph's error body and nothing of
the request is applied: the handlers read the whole body before they act.

The sync API's largest legitimate requests (a v2 ``replace`` of 250,000 member references, a v1
group of 50,000 member DNs) need tens of megabytes; the Graph face's need kilobytes (20 batched
requests of one object each). Each has its own limit (``Limits.max_request_bytes``,
``Limits.max_graph_request_bytes``).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clouddir.errors_http import graph_error_body, send_json
from clouddir.settings import Limits

SYNC_PREFIX = "/sync/"


class BodyTooLarge(Exception):
    """Raised from ``receive`` when the body passes the limit (the handler is reading it)."""


class BodyLimit:
    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    def limit_for(self, path: str) -> int:
        if path.startswith(SYNC_PREFIX):
            return self.limits.max_request_bytes
        return self.limits.max_graph_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.limit_for(path)
        declared = _content_length(scope)
        if declared == -1:
            await send_json(send, 400, graph_error_body(
                "BadRequest", "The Content-Length header is not a non-negative integer."))
            return
        if declared is not None and declared > limit:
            await self._refuse(send, path, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(send, path, limit)

    @staticmethod
    async def _refuse(send: Send, path: str, limit: int) -> None:
        code = "BatchTooLarge" if path.startswith(SYNC_PREFIX) else "RequestEntityTooLarge"
        await send_json(send, 413, graph_error_body(
            code, f"The request body is larger than {limit} bytes, the most this service "
                  f"accepts; send less per request."))


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when absent, -1 when malformed or repeated differently."""
    values = {v for k, v in scope.get("headers", []) if k == b"content-length"}
    if not values:
        return None
    if len(values) > 1:
        return -1
    raw = values.pop()
    if not raw.isdigit() or len(raw) > 18:
        return -1
    return int(raw)
