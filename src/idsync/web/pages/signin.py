"""Sign-in and sign-out, and the start page."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from idsync.administration.admin_accounts import has_admins
from idsync.administration.admin_sessions import MAX_HOURS, SigninRefused, sign_in, sign_out
from idsync.web.requests import SESSION_COOKIE, UiRequest, safe_next, view
from idsync.web.ui import WebUi


def _signin_page(ui: WebUi, request: Request, *, error: str | None = None, name: str = "",
                 status: int = 200, target: str | None = None) -> HTMLResponse:
    store = ui.stores.get()
    target = target or safe_next(request.query_params.get("next"))
    return HTMLResponse(ui.render("signin.html", request=request, session=None, error=error,
                                  name=name, next=target,
                                  no_admins=not has_admins(store)), status_code=status)


async def signin_form(request: Request) -> Response:
    ui: WebUi = request.app.state.ui
    return await run_in_threadpool(_signin_page, ui, request)


async def signin_submit(request: Request) -> Response:
    ui: WebUi = request.app.state.ui
    form = await request.form()
    name = str(form.get("name") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))

    def attempt() -> Response:
        store = ui.stores.get()
        try:
            signed_in = sign_in(store, name, password) if name and password else None
        except SigninRefused as exc:
            return _signin_page(ui, request, error=str(exc), name=name, status=429,
                                target=target)
        if signed_in is None:
            return _signin_page(ui, request, name=name, status=401, target=target,
                                error="Wrong name or password.")
        token, _session = signed_in
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, token, max_age=MAX_HOURS * 3600, path="/",
                            httponly=True, samesite="strict", secure=ui.secure)
        return response

    return await run_in_threadpool(attempt)


def signout(ui: UiRequest) -> Response:
    sign_out(ui.store, ui.session)
    response = RedirectResponse("/signin?msg=Signed+out.", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=ui.ui.secure)
    return response


def home(ui: UiRequest) -> Response:
    return ui.redirect("/operations")


routes = [
    Route("/", view(home)),
    Route("/signin", signin_form, methods=["GET"]),
    Route("/signin", signin_submit, methods=["POST"]),
    # Signing out changes nothing in the directory: a read-only admin may sign out too, but the
    # CSRF token is still required (no page elsewhere can sign an admin out).
    Route("/signout", view(signout), methods=["POST"]),
]
