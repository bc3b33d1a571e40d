"""The export preview of each connector (``idsync export preview``, CSExportAnalyzer's view):
every pending export as a diff, old -> new per attribute and members added and removed, a
page of objects at a time, and the whole of it as CSV, streamed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import islice

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from idsync.administration.preview import CSV_COLUMNS, csv_rows, pending_changes
from idsync.store import Store
from idsync.web.pages.settings_tabs import tabs
from idsync.web.requests import UiRequest, view

PAGE_SIZE = 50
#: Values shown per attribute on the page (a 250,000-member group's adds are in the CSV).
VALUES_SHOWN = 20


def exports_page(ui: UiRequest) -> Response:
    connectors = [(c.name, c.type, ui.store.exports.count(c.id))
                  for c in ui.store.connectors.list()]
    return ui.render("settings_exports.html", connectors=connectors,
                     **tabs("/settings/exports"))


def _after(ui: UiRequest) -> int:
    raw = ui.query.get("after") or ""
    return int(raw) if raw.isdigit() else 0


def connector_preview(ui: UiRequest) -> Response:
    name = ui.params["connector"]
    record = ui.store.connectors.get(name)
    page = list(islice(pending_changes(ui.store, record.name, after=_after(ui),
                                       page=PAGE_SIZE + 1, values_shown=VALUES_SHOWN),
                       PAGE_SIZE + 1))
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    return ui.render("settings_export_preview.html", connector=record.name,
                     objects=[o.to_dict() for o in page], shown=VALUES_SHOWN,
                     total=ui.store.exports.count(record.id),
                     next_after=page[-1].cs_id if more else None,
                     **tabs("/settings/exports"))


def _csv_lines(workspace: str, connector: str) -> Iterator[str]:
    """The CSV a line batch at a time, from a store connection of its own: the response is
    streamed after the handler returned, on whichever thread reads the next chunk."""
    store = Store.open(workspace, migrate=False)
    try:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for count, obj in enumerate(pending_changes(store, connector), 1):
            writer.writerows(csv_rows(obj))
            if count % 100 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
    finally:
        store.close()


def connector_csv(ui: UiRequest) -> Response:
    record = ui.store.connectors.get(ui.params["connector"])
    return StreamingResponse(
        _csv_lines(ui.ui.workspace, record.name), media_type="text/csv; charset=utf-8",
        headers={"content-disposition":
                 f'attachment; filename="export-preview-{record.name}.csv"'})


routes = [
    Route("/settings/exports", view(exports_page)),
    Route("/settings/exports/{connector}", view(connector_preview)),
    Route("/settings/exports/{connector}/csv", view(connector_csv)),
]
