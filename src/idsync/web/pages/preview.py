"""Preview one object, then commit it (provision on demand): the command line's
``idsync object preview CONNECTOR --dn DN [--commit]``. GET /preview shows a form to choose the
connector and the DN, and, given both, the object's step trace computed in a rolled-back
transaction; POST /preview/commit (a full administrator's change, audited as
``object.commit``) imports, synchronizes and exports that one object and shows what it did.
The connector space object page links here with ``?connector=..&dn=..``."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.object_preview import commit_object, preview_object
from idsync.administration.object_trace import ObjectTrace
from idsync.errors import ConfigurationError
from idsync.web.requests import UiRequest, action, view


def preview_page(ui: UiRequest) -> Response:
    connector = str(ui.query.get("connector") or "")
    dn = str(ui.query.get("dn") or "").strip()
    trace: ObjectTrace | None = None
    if connector and dn:
        trace = preview_object(ui.store, ui.ui.workspace, connector, dn)
    return _render(ui, connector, dn, trace)


def commit(ui: UiRequest) -> Response:
    connector = str(ui.form.get("connector") or "")
    dn = str(ui.form.get("dn") or "").strip()
    if not connector or not dn:
        raise ConfigurationError("choose a connector and give the object's DN: nothing was "
                                 "changed")
    return _render(ui, connector, dn, commit_object(ui.store, ui.ui.workspace, connector, dn))


def _render(ui: UiRequest, connector: str, dn: str, trace: ObjectTrace | None) -> Response:
    return ui.render("preview.html",
                     connectors=[c.name for c in ui.store.connectors.list()],
                     connector=connector, dn=dn, trace=trace)


routes = [
    Route("/preview", view(preview_page)),
    Route("/preview/commit", action(commit), methods=["POST"]),
]
