"""The local administrators: who may sign in and what they may do. Full administrators add
and remove them and change their roles here (the command line's ``idsync admin``); passwords
are set on the command line or by each admin for themselves."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.admin_accounts import (
    AdminAccountError as AdminError,
)
from idsync.administration.admin_accounts import (
    AdminRole,
    add_admin,
    change_password,
    list_admins,
    remove_admin,
    set_role,
    verify_signin,
)
from idsync.web.requests import UiRequest, action, view


def admins_page(ui: UiRequest) -> Response:
    return ui.render("admins.html", admins=list_admins(ui.store), roles=list(AdminRole))


def _role(value: str) -> AdminRole:
    try:
        return AdminRole(value)
    except ValueError:
        raise AdminError(f"unknown role {value!r}: choose full or read-only") from None


def admin_add(ui: UiRequest) -> Response:
    name = str(ui.form.get("name") or "")
    password = str(ui.form.get("password") or "")
    if password != str(ui.form.get("password_again") or ""):
        raise AdminError("the two passwords differ: nothing was changed")
    added = add_admin(ui.store, name, password, role=_role(str(ui.form.get("role") or "")))
    return ui.redirect("/admins", msg=f"Administrator {added.name} added ({added.role}).")


def admin_role(ui: UiRequest) -> Response:
    changed = set_role(ui.store, ui.params["name"], _role(str(ui.form.get("role") or "")))
    return ui.redirect("/admins", msg=f"{changed.name} is now {changed.role}.")


def admin_remove(ui: UiRequest) -> Response:
    name = ui.params["name"]
    remove_admin(ui.store, name)
    return ui.redirect("/admins", msg=f"Administrator {name} removed; their sessions ended.")


def own_password(ui: UiRequest) -> Response:
    """Any administrator, read-only ones too, may change their own password: it changes no
    setting of the service. The old password is asked again."""
    me = ui.session.admin.name
    if verify_signin(ui.store, me, str(ui.form.get("current") or "")) is None:
        raise AdminError("the current password is wrong: nothing was changed")
    new = str(ui.form.get("password") or "")
    if new != str(ui.form.get("password_again") or ""):
        raise AdminError("the two new passwords differ: nothing was changed")
    change_password(ui.store, me, new)
    return ui.redirect("/signin", msg="Password changed: sign in again with the new one.")


routes = [
    Route("/admins", view(admins_page)),
    Route("/admins/add", action(admin_add), methods=["POST"]),
    Route("/admins/{name}/role", action(admin_role), methods=["POST"]),
    Route("/admins/{name}/remove", action(admin_remove), methods=["POST"]),
    Route("/admins/me/password", view(own_password), methods=["POST"]),
]
