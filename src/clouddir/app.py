"""The ASGI application: sync endpoint API and Graph-shaped admin API over one store."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clouddir import graph, oauth, sync_api
from clouddir.errors_http import exception_handlers
from clouddir.openapi import openapi_document
from clouddir.request_limits import BodyLimit
from clouddir.responses import json_response
from clouddir.service import Service
from clouddir.settings import Limits
from clouddir.storage import Store


async def health(request: Request) -> Response:
    return json_response({"status": "ok"})


async def openapi(request: Request) -> Response:
    return json_response(openapi_document())


def create_app(store: Store, limits: Limits) -> Starlette:
    app = Starlette(routes=[Route("/health", health), Route("/openapi.json", openapi),
                            *sync_api.routes, *graph.routes, *oauth.routes],
                    middleware=[Middleware(BodyLimit, limits=limits)],
                    exception_handlers=exception_handlers)
    app.state.service = Service(store, limits)
    return app
