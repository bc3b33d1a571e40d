"""Turning data into HTTP responses: JSON bodies and Graph-shaped errors, for the Starlette
handlers of both faces (the sync API and Graph). ``Service`` returns data; only handlers
build responses."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from clouddir.errors_http import graph_error_body


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None,
                  ) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers,
                    media_type="application/json")


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> Response:
    return json_response(graph_error_body(code, message), status, headers)


def unauthorized() -> Response:
    """The sync API's answer to a missing or unknown bearer token."""
    return error_response(401, "InvalidAuthenticationToken", "missing or unknown bearer token",
                          {"WWW-Authenticate": "Bearer"})
