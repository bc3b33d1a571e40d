"""The ASGI application: sync endpoint API and Graph-shaped admin API over one store."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clouddir import graph, sync_api
from clouddir.service import Service, json_response
from clouddir.settings import Limits
from clouddir.store import Store


async def health(request: Request) -> Response:
    return json_response({"status": "ok"})


def create_app(store: Store, limits: Limits) -> Starlette:
    app = Starlette(routes=[Route("/health", health), *sync_api.routes, *graph.routes])
    app.state.service = Service(store, limits)
    return app
