"""A run's page: its counters, each a link to the objects it counts; its per-object errors
with code, detail, first seen and retries, paged; and the errors as a CSV download, streamed
a page at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from idsync.errors import ConfigurationError
from idsync.store import Store
from idsync.store.runs import RunRecord
from idsync.web.pages.progress import duration, parse_time
from idsync.web.requests import UiRequest, view
from idsync.web.ui import WebUi

PAGE_SIZE = 50
STAGES = ("import", "sync", "export")
#: The counters the recorder counts from per-object errors: their objects are the run's
#: errors of that stage (``run_errors``), not ``run_objects`` rows.
ERROR_SUFFIXES = ("-errors", "-informational")
CSV_COLUMNS = ["run", "connector", "cs_id", "dn", "stage", "code", "detail", "first_seen",
               "retries"]


def _run(store: Store, text: str) -> RunRecord:
    run = store.runs.get(int(text)) if text.isdigit() else None
    if run is None:
        raise ConfigurationError(f"no run {text}")
    return run


def _int(text: str | None, label: str) -> int:
    if not text:
        return 0
    if not text.isdigit():
        raise ConfigurationError(f"{label}: {text!r} is not a number")
    return int(text)


def error_stage(counter: str) -> str | None:
    """The stage whose errors a counter counts (``sync-errors`` -> ``sync``), or None."""
    for suffix in ERROR_SUFFIXES:
        stage = counter.removesuffix(suffix)
        if stage != counter and stage in STAGES:
            return stage
    return None


def counter_links(store: Store, run: RunRecord) -> list[tuple[str, int, str | None]]:
    """(counter, count, link) per counter, sorted by name; link None: this counter's objects
    are not recorded (see docs/decisions/web-operations.md)."""
    names = sorted(run.counters)
    traced = store.runs.traced(run.id, [n for n in names if error_stage(n) is None])
    rows = []
    for name in names:
        stage = error_stage(name)
        if stage is not None:
            link: str | None = f"/runs/{run.id}?stage={stage}#errors"
        elif name in traced:
            link = f"/runs/{run.id}/objects?counter={name}"
        else:
            link = None
        rows.append((name, run.counters[name], link))
    return rows


def run_page(ui: UiRequest) -> Response:
    run = _run(ui.store, ui.params["run_id"])
    stage = ui.query.get("stage") or None
    if stage is not None and stage not in STAGES:
        raise ConfigurationError(f"unknown stage {stage!r}: import, sync or export")
    errors = ui.store.runs.errors_page(run.id, stage=stage,
                                       after=_int(ui.query.get("after"), "after"),
                                       limit=PAGE_SIZE + 1)
    more = len(errors) > PAGE_SIZE
    errors = errors[:PAGE_SIZE]
    seconds = ((parse_time(run.ended_at) - parse_time(run.started_at)).total_seconds()
               if run.ended_at else None)
    return ui.render("run.html", run=run, counters=counter_links(ui.store, run),
                     errors=errors, stage=stage or "", stages=STAGES,
                     took=duration(seconds) if seconds is not None else "still running",
                     next_after=errors[-1].id if more and errors else None)


def run_objects(ui: UiRequest) -> Response:
    run = _run(ui.store, ui.params["run_id"])
    counter = ui.query.get("counter") or ""
    if counter not in run.counters:
        raise ConfigurationError(f"run {run.id} has no counter {counter!r}")
    stage = error_stage(counter)
    if stage is not None:
        return ui.redirect(f"/runs/{run.id}", stage=stage)
    rows = ui.store.runs.objects_page(run.id, counter, after=_int(ui.query.get("after"),
                                                                  "after"),
                                      limit=PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return ui.render("run_objects.html", run=run, counter=counter, count=run.counters[counter],
                     rows=rows, next_after=rows[-1].id if more and rows else None)


def _csv_lines(web: WebUi, run: RunRecord) -> Iterator[str]:
    """The run's errors as CSV, one page of rows at a time: never the whole list in memory.
    Each page asks this thread's store (a stream may go on in another worker thread)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    after = 0
    while True:
        rows = web.stores.get().runs.errors_page(run.id, after=after, limit=1000)
        for e in rows:
            writer.writerow([run.id, run.connector, e.cs_id if e.cs_id is not None else "",
                             e.dn or "", e.stage, e.code, e.detail, e.first_seen or "",
                             e.retry_count if e.retry_count is not None else ""])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < 1000:
            return
        after = rows[-1].id


def errors_csv(ui: UiRequest) -> Response:
    run = _run(ui.store, ui.params["run_id"])
    return StreamingResponse(
        _csv_lines(ui.ui, run), media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="run-{run.id}-errors.csv"'})


routes = [
    Route("/runs/{run_id}", view(run_page)),
    Route("/runs/{run_id}/objects", view(run_objects)),
    Route("/runs/{run_id}/errors.csv", view(errors_csv)),
]
