"""The metaverse: a search by object type and attribute clauses (equals, starts with,
present; ANDed), paged, and an object's page with every attribute, the connector and rule that
contributed it, its reference values paged and its connector space objects."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.object_pages import (
    PAGE_SIZE,
    display_name,
    mv_object_view,
    mv_values_page,
    parse_after,
)
from idsync.errors import ConfigurationError
from idsync.store.metaverse import AttributeClause, ClauseOperator
from idsync.web.requests import UiRequest, view

#: Clause rows of the search form.
CLAUSES = 3


def parse_clauses(query: dict[str, str]) -> list[AttributeClause]:
    """The filled clause rows (``attr1``/``op1``/``value1``...); a row without an attribute
    is left out."""
    clauses = []
    for n in range(1, CLAUSES + 1):
        attribute = (query.get(f"attr{n}") or "").strip()
        if not attribute:
            continue
        raw = query.get(f"op{n}") or ClauseOperator.EQUALS
        try:
            operator = ClauseOperator(raw)
        except ValueError:
            raise ConfigurationError(f"clause {n}: unknown operator {raw!r}: choose equals, "
                                     "starts-with or present") from None
        value = query.get(f"value{n}") or ""
        if operator is not ClauseOperator.PRESENT and value == "":
            raise ConfigurationError(f"clause {n}: {attribute} {operator} what? Give a value, "
                                     "or choose 'present'")
        clauses.append(AttributeClause(attribute, operator, value))
    return clauses


def metaverse_page(ui: UiRequest) -> Response:
    query = dict(ui.query.items())
    clauses = parse_clauses(query)
    object_type = (query.get("object_type") or "").strip() or None
    after = parse_after(query.get("after"))
    page = ui.store.mv.search_page(object_type=object_type, clauses=clauses, after=after or 0,
                                   limit=PAGE_SIZE)
    rows = [(o, display_name(o)) for o in page.objects]
    return ui.render("metaverse.html", rows=rows, next_after=page.next_after, form=query,
                     clause_rows=range(1, CLAUSES + 1), operators=list(ClauseOperator),
                     clauses=clauses, object_type=object_type or "")


def mv_page(ui: UiRequest) -> Response:
    mv_id = ui.id_param("mv_id", "a metaverse object")
    return ui.render("mv_object.html", view=mv_object_view(ui.store, mv_id), page_size=PAGE_SIZE)


def mv_values(ui: UiRequest) -> Response:
    mv_id = ui.id_param("mv_id", "a metaverse object")
    mv = ui.store.mv.get(mv_id)
    if mv is None:
        raise ConfigurationError(f"no metaverse object {mv_id}")
    attr = ui.params["attribute"]
    page = mv_values_page(ui.store, mv_id, attr, parse_after(ui.query.get("after")))
    return ui.render("mv_values.html", mv=mv, name=display_name(mv), attribute=attr, page=page)


routes = [
    Route("/metaverse", view(metaverse_page)),
    Route("/mv/{mv_id}", view(mv_page)),
    Route("/mv/{mv_id}/values/{attribute}", view(mv_values)),
]
