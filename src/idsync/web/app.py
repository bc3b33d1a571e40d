"""The web UI added to the service's Starlette application: its pages, its static files
(htmx and the stylesheet, shipped in the package: the UI needs no internet) and the security
headers of every answer."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from idsync.web.pages import (
    admins,
    audit,
    connector_space,
    connectors,
    dashboard,
    metaverse,
    operations,
    runs,
    settings,
    signin,
)
from idsync.web.pages import preview as object_preview
from idsync.web.pages import rules as rules_pages
from idsync.web.ui import WebUi

#: Scripts and styles come from this server only; no frame may hold the UI.
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for key, value in SECURITY_HEADERS:
                    if key in present or (static and key == b"cache-control"):
                        continue
                    headers.append((key, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def ui_routes() -> list[BaseRoute]:
    return [
        *signin.routes,
        *audit.routes,
        *admins.routes,
        *object_preview.routes,
        *dashboard.routes,
        *operations.routes,
        *runs.routes,
        *connectors.routes,
        *connector_space.routes,
        *metaverse.routes,
        *rules_pages.routes,
        *settings.routes,
        Mount("/static", StaticFiles(packages=[("idsync.web", "static")]), name="static"),
    ]


def install_ui(app: Starlette, workspace: str | Path, *, secure: bool) -> WebUi:
    """Add the UI to ``app`` (before it starts); the caller closes the returned ``WebUi``."""
    ui = WebUi(workspace, secure=secure)
    app.state.ui = ui
    app.router.routes.extend(ui_routes())
    app.add_middleware(SecurityHeaders)
    return ui
