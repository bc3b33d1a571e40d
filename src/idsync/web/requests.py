"""What every UI handler runs inside: the signed-in administrator, the store, the CSRF check
and the role check, and the page it renders.

Handlers are plain functions of a ``UiRequest``; ``view`` wraps a page that reads, ``action``
one that changes something. ``action`` is the one gate of every change: it refuses a request
without the session's CSRF token and any request of a read-only administrator, on the server,
before the handler runs, and runs the handler acting as the signed-in admin, so the audit log
names them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from idsync.administration.admin_sessions import Session, csrf_matches, session_for
from idsync.administration.audit import Via, acting_as
from idsync.errors import ConfigurationError, IdsyncError
from idsync.failures import one_line
from idsync.secrets.redaction import redact
from idsync.store import Store
from idsync.web.ui import WebUi

log = logging.getLogger("idsync.web")

SESSION_COOKIE = "idsync_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

Handler = Callable[["UiRequest"], Response]


@dataclass
class UiRequest:
    """One request as a handler sees it."""

    request: Request
    ui: WebUi
    store: Store
    session: Session
    form: Mapping[str, Any] = field(default_factory=dict)
    #: repeated form fields (checkboxes, multi-selects) by name
    form_lists: Mapping[str, list[Any]] = field(default_factory=dict)

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    @property
    def params(self) -> Mapping[str, Any]:
        return self.request.path_params

    def id_param(self, name: str, what: str) -> int:
        """A path parameter that names an object by its id; a one-line refusal otherwise."""
        raw = str(self.params[name])
        if not raw.isdigit():
            raise ConfigurationError(f"{raw!r} is not {what} id")
        return int(raw)

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.ui.render(template, request=self.request,
                                           session=self.session, **context),
                            status_code=status_code)

    def redirect(self, path: str, **query: Any) -> Response:
        """See-other to a page (after a change), with a message for it to show."""
        target = path + ("?" + urlencode({k: v for k, v in query.items() if v is not None})
                         if query else "")
        if self.is_htmx:
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)


def error_page(ui: WebUi, request: Request, session: Session | None, status: int,
               title: str, message: str) -> HTMLResponse:
    return HTMLResponse(ui.render("error.html", request=request, session=session,
                                  title=title, detail=message), status_code=status)


def _guarded(handler: Handler, *, changes: bool) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        ui: WebUi = request.app.state.ui
        form: dict[str, Any] = {}
        form_lists: dict[str, list[Any]] = {}
        if request.method == "POST":
            data = await request.form()
            form = {k: v for k, v in data.items()}
            form_lists = {k: data.getlist(k) for k in data}
        return await run_in_threadpool(_run, handler, request, ui, form, form_lists, changes)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def _run(handler: Handler, request: Request, ui: WebUi, form: dict[str, Any],
         form_lists: dict[str, list[Any]], changes: bool) -> Response:
    store = ui.stores.get()
    session = session_for(store, request.cookies.get(SESSION_COOKIE))
    if session is None:
        if request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": "/signin"})
        if request.method != "GET":
            return error_page(ui, request, None, 401, "Signed out",
                              "Your session has ended: sign in again, then repeat the change.")
        return RedirectResponse("/signin?" + urlencode({"next": _local_path(request)}),
                                status_code=303)
    if request.method != "GET" or changes:
        sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
        if not csrf_matches(session, sent):
            return error_page(ui, request, session, 403, "Refused: stale or forged form",
                              "The request did not carry this session's security token, so "
                              "nothing was changed. Reload the page and try again.")
    if changes and session.admin.read_only:
        return error_page(ui, request, session, 403, "Refused: read-only account",
                          f"{session.admin.name} is a read-only administrator: nothing "
                          "was changed. Ask a full administrator to make this change.")
    ui_request = UiRequest(request, ui, store, session, form, form_lists)
    try:
        with acting_as(session.admin.name, Via.UI):
            return handler(ui_request)
    except IdsyncError as exc:
        # A refused change (bad input, a guard): one line on the page, nothing changed (the
        # operation's transaction rolled back).
        return error_page(ui, request, session, 400, "Not done",
                          one_line(redact(str(exc))))
    except Exception:
        # A bug: the page says so in one line, the service log has the traceback.
        log.exception("web UI request failed", extra={"path": request.url.path})
        return error_page(ui, request, session, 500, "Something went wrong",
                          "This page failed on the server; nothing more was changed than "
                          "what its transaction committed. The service log (idsync serve's "
                          "stderr) has the details.")


def _local_path(request: Request) -> str:
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def view(handler: Handler) -> Callable[[Request], Any]:
    """A page that reads: any signed-in administrator."""
    return _guarded(handler, changes=False)


def action(handler: Handler) -> Callable[[Request], Any]:
    """A request that changes something: the session's CSRF token and a full administrator."""
    return _guarded(handler, changes=True)


def safe_next(target: str | None) -> str:
    """A redirect target after sign-in that stays on this site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
