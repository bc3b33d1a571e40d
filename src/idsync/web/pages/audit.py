"""The administrator audit log: who changed what, old and new, newest first, paged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from idsync import values
from idsync.administration.audit import AuditAction, changed_fields
from idsync.store.audit import AuditEntry
from idsync.web.requests import UiRequest, view

PAGE_SIZE = 50
#: A value longer than this is shown folded (a whole rule is a long JSON document).
SHORT = 120


@dataclass(frozen=True, slots=True)
class Change:
    """One changed field of an entry: what an administrator reads first."""

    field: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class EntryView:
    entry: AuditEntry
    changes: list[Change]
    old_text: str
    new_text: str

    @property
    def folded(self) -> bool:
        return len(self.old_text) > SHORT or len(self.new_text) > SHORT


def _text(value: Any) -> str:
    return "" if value is None else values.dumps(value)


def entry_view(entry: AuditEntry) -> EntryView:
    changes: list[Change] = []
    if isinstance(entry.old, Mapping) and isinstance(entry.new, Mapping):
        before, after = changed_fields(entry.old, entry.new)
        changes = [Change(str(k), _text(before.get(k)), _text(after.get(k)))
                   for k in after]
    return EntryView(entry, changes, _text(entry.old), _text(entry.new))


def audit_log(ui: UiRequest) -> Response:
    admin = ui.query.get("admin") or None
    action = ui.query.get("action") or None
    before = ui.query.get("before")
    before_id = int(before) if before and before.isdigit() else None
    entries = ui.store.audit.list(limit=PAGE_SIZE + 1, admin=admin, action=action,
                                  before_id=before_id)
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return ui.render("audit.html", entries=[entry_view(e) for e in entries],
                     admin_filter=admin or "", action_filter=action or "",
                     actions=[a.value for a in AuditAction],
                     next_before=entries[-1].id if more else None)


routes = [Route("/audit", view(audit_log))]
