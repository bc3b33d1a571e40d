"""The administrator audit log: who changed what, old and new, newest first, paged."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.audit import AuditAction
from idsync.web.requests import UiRequest, view

PAGE_SIZE = 50


def audit_log(ui: UiRequest) -> Response:
    admin = ui.query.get("admin") or None
    action = ui.query.get("action") or None
    before = ui.query.get("before")
    before_id = int(before) if before and before.isdigit() else None
    entries = ui.store.audit.list(limit=PAGE_SIZE + 1, admin=admin, action=action,
                                  before_id=before_id)
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return ui.render("audit.html", entries=entries, admin_filter=admin or "",
                     action_filter=action or "", actions=[a.value for a in AuditAction],
                     next_before=entries[-1].id if more else None)


routes = [Route("/audit", view(audit_log))]
