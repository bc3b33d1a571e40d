"""The web UI's shared parts: its store connections, its templates and how it renders them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request

from idsync import __version__
from idsync.web.stores import ThreadStores

#: The pages in the navigation bar: (path, label). Each page module adds its routes in app.py.
NAVIGATION = (
    ("/dashboard", "Overview"),
    ("/operations", "Operations"),
    ("/connectors", "Connectors"),
    ("/metaverse", "Metaverse"),
    ("/preview", "Preview object"),
    ("/rules", "Rules"),
    ("/settings", "Settings"),
    ("/audit", "Audit log"),
    ("/admins", "Administrators"),
)
#: Pages under another tab than their path says: a run is in Operations, a connector space
#: object under Connectors, a metaverse object under Metaverse.
TAB_OF_PATH = {"/runs": "/operations", "/cs": "/connectors", "/mv": "/metaverse"}


class WebUi:
    def __init__(self, workspace: str | Path, *, secure: bool) -> None:
        self.workspace = str(workspace)
        #: the session cookie carries Secure only when the UI is served over HTTPS
        self.secure = secure
        self.stores = ThreadStores(self.workspace)
        self.env = Environment(loader=PackageLoader("idsync.web", "templates"),
                               autoescape=select_autoescape(["html"]),
                               undefined=StrictUndefined, trim_blocks=True,
                               lstrip_blocks=True)
        self.env.globals.update(version=__version__, navigation=NAVIGATION)

    def render(self, template: str, *, request: Request, session: Any, **context: Any) -> str:
        path = request.url.path
        section = "/" + path.strip("/").split("/", 1)[0]
        section = TAB_OF_PATH.get(section, section)
        active = next((p for p, _ in NAVIGATION if p == section), "")
        return self.env.get_template(template).render(
            request=request, session=session, admin=session.admin if session else None,
            csrf_token=session.csrf_token if session else "", active=active,
            message=request.query_params.get("msg"), **context)

    def close(self) -> None:
        self.stores.close()
