"""Connectors and their connector spaces: each connector's state, last run and counts, and a
search of one connector space (DN, RDN, anchor, subtree, object type, pending import and export,
export errors, placeholders), paged by keyset, 50 objects a page."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.object_pages import (
    PAGE_SIZE,
    connector_row,
    connector_rows,
    parse_after,
)
from idsync.errors import ConfigurationError
from idsync.store.connector_space.search import CSQuery, Placeholders
from idsync.web.requests import UiRequest, view

#: The search's text fields: (query parameter, label, help).
TEXT_FIELDS = (
    ("rdn", "RDN", "The first component of the DN, e.g. uid=ann, under any parent"),
    ("subtree", "Subtree", "A base DN: that object and everything under it"),
    ("dn", "DN", "Exactly this distinguished name"),
    ("anchor", "Anchor", "Exactly this anchor (the directory's immutable id)"),
    ("object_type", "Object type", "person, group..."),
)
FLAGS = (
    ("pending_import", "Pending import"),
    ("pending_export", "Pending export"),
    ("export_errors", "Export errors"),
)


def connectors_page(ui: UiRequest) -> Response:
    return ui.render("connectors.html", connectors=connector_rows(ui.store))


def _query(ui: UiRequest) -> CSQuery:
    q = ui.query
    try:
        placeholders = Placeholders(q.get("placeholders") or Placeholders.EXCLUDE)
    except ValueError:
        raise ConfigurationError(
            f"placeholders={q.get('placeholders')!r}: choose exclude, include or only") from None
    rdn = (q.get("rdn") or "").strip() or None
    if rdn and "=" not in rdn:
        raise ConfigurationError(f"RDN {rdn!r} has no '=': write it as attribute=value, "
                                 "e.g. uid=ann")
    return CSQuery(dn=(q.get("dn") or "").strip() or None, rdn=rdn,
                   anchor=(q.get("anchor") or "").strip() or None,
                   subtree=(q.get("subtree") or "").strip() or None,
                   object_type=(q.get("object_type") or "").strip() or None,
                   pending_import=q.get("pending_import") == "on",
                   pending_export=q.get("pending_export") == "on",
                   export_errors=q.get("export_errors") == "on", placeholders=placeholders)


def connector_page(ui: UiRequest) -> Response:
    row = connector_row(ui.store, ui.params["name"])
    record = ui.store.connectors.get(row.name)
    query = _query(ui)
    after = parse_after(ui.query.get("after"))
    found = ui.store.cs_search.search_page(record.id, query, after=after, limit=PAGE_SIZE)
    exports = ui.store.exports.get_many([o.id for o in found], with_refs=False) if found else {}
    return ui.render("connector.html", connector=row, found=found, exports=exports,
                     query=query, text_fields=TEXT_FIELDS, flags=FLAGS,
                     placeholder_choices=list(Placeholders), searched=after is not None,
                     next_after=found[-1].id if len(found) == PAGE_SIZE else None)


routes = [
    Route("/connectors", view(connectors_page)),
    Route("/connectors/{name}", view(connector_page)),
]
