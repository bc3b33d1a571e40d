"""A connector space object's page: its hologram, pending import and export (old -> new per
attribute, reference values added and removed), its errors and its lineage (the metaverse object
and the objects of the other connectors); reference values on pages of their own."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.object_pages import (
    ExportRefOp,
    cs_object_view,
    cs_values_page,
    parse_after,
)
from idsync.errors import ConfigurationError
from idsync.web.requests import UiRequest, view


def cs_page(ui: UiRequest) -> Response:
    cs_id = ui.id_param("cs_id", "a connector space object")
    return ui.render("cs_object.html", view=cs_object_view(ui.store, cs_id))


def cs_values(ui: UiRequest) -> Response:
    cs_id = ui.id_param("cs_id", "a connector space object")
    cs = ui.store.cs_objects.get(cs_id)
    if cs is None:
        raise ConfigurationError(f"no connector space object {cs_id}")
    attr = ui.params["attribute"]
    page = cs_values_page(ui.store, cs_id, attr, parse_after(ui.query.get("after")))
    return ui.render("cs_values.html", cs=cs, attribute=attr, page=page, op=None)


def cs_export_values(ui: UiRequest) -> Response:
    cs_id = ui.id_param("cs_id", "a connector space object")
    cs = ui.store.cs_objects.get(cs_id)
    if cs is None:
        raise ConfigurationError(f"no connector space object {cs_id}")
    try:
        op = ExportRefOp(ui.params["op"])
    except ValueError:
        raise ConfigurationError(f"{ui.params['op']!r}: choose add or remove") from None
    attr = ui.params["attribute"]
    page = cs_values_page(ui.store, cs_id, attr, parse_after(ui.query.get("after")), op)
    return ui.render("cs_values.html", cs=cs, attribute=attr, page=page, op=op)


routes = [
    Route("/cs/{cs_id}", view(cs_page)),
    Route("/cs/{cs_id}/values/{attribute}", view(cs_values)),
    Route("/cs/{cs_id}/export/{attribute}/{op}", view(cs_export_values)),
]
