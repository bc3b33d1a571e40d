"""The overview (/dashboard): pictures where administrators would rather look than read. Run
duration and objects per second over time per connector and run profile, objects by state
per connector, the most frequent export errors by code, pending exports by kind; each chart
with its numbers as a table under it (idsync.web.charts)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.overview import MAX_RUNS_PER_SERIES, ConnectorRuns, overview
from idsync.errors import ConfigurationError
from idsync.model import ExportKind
from idsync.store.object_errors import ErrorCodeCount
from idsync.store.space_statistics import SpaceCounts
from idsync.web.chart_scales import format_number
from idsync.web.charts import (
    Chart,
    Series,
    Table,
    bar_chart,
    chart_id_of,
    line_chart,
    multi_bar_chart,
)
from idsync.web.requests import UiRequest, view

DEFAULT_RUNS = 20


def run_charts(runs: ConnectorRuns) -> tuple[Chart, Chart]:
    """A connector's run durations and rates, one line per run profile."""
    key = chart_id_of(runs.connector)
    durations = [Series(profile, [(f.started_at, f.seconds) for f in figures])
                 for profile, figures in sorted(runs.by_profile.items())]
    rates = [Series(profile, [(f.started_at, f.rate) for f in figures])
             for profile, figures in sorted(runs.by_profile.items())]
    return (line_chart(f"duration-{key}", f"{runs.connector}: run duration", durations,
                       value_label="seconds"),
            line_chart(f"rate-{key}", f"{runs.connector}: objects per second", rates,
                       value_label="objects per second"))


STATES = (("pending_import", "Pending import"), ("pending_export", "Pending export"),
          ("placeholders", "Placeholders"), ("in_error", "In error"))


def states_chart(spaces: list[SpaceCounts]) -> Chart:
    """The states as bars; each connector's whole count in its label and the table (as a bar
    it would dwarf the states: 2,500 pending beside 250,000 objects is a hairline)."""
    table = Table(["Connector", "All objects", *(label for _, label in STATES)],
                  [[s.connector, format_number(s.objects),
                    *(format_number(getattr(s, attr)) for attr, _ in STATES)] for s in spaces],
                  frozenset(range(1, len(STATES) + 2)))
    return multi_bar_chart(
        "objects-by-state", "Connector space objects by state",
        [f"{s.connector} ({format_number(s.objects)} objects)" for s in spaces],
        [(label, [getattr(s, attr) for s in spaces]) for attr, label in STATES],
        label_header="Connector", value_label="objects", stacked=False, table=table)


def exports_chart(spaces: list[SpaceCounts]) -> Chart:
    return multi_bar_chart(
        "pending-exports", "Pending exports by kind", [s.connector for s in spaces],
        [(kind.value, [s.exports_by_kind[kind] for s in spaces]) for kind in ExportKind],
        label_header="Connector", value_label="pending exports", stacked=True)


def errors_chart(errors: list[ErrorCodeCount]) -> Chart:
    return bar_chart("export-errors", "Top export errors by code",
                     [(f"{e.code} ({e.connector})", e.objects) for e in errors],
                     label_header="Error code (connector)", value_label="objects")


def dashboard(ui: UiRequest) -> Response:
    text = ui.query.get("runs") or str(DEFAULT_RUNS)
    if not text.isdigit() or not 1 <= int(text) <= MAX_RUNS_PER_SERIES:
        raise ConfigurationError(
            f"runs per profile must be a whole number from 1 to {MAX_RUNS_PER_SERIES}, "
            f"not {text!r}")
    figures = overview(ui.store, runs_per_series=int(text))
    return ui.render("dashboard.html", runs_per_series=int(text),
                     max_runs=MAX_RUNS_PER_SERIES,
                     run_charts=[(r.connector, run_charts(r)) for r in figures.runs],
                     states=states_chart(figures.spaces),
                     exports=exports_chart(figures.spaces),
                     errors=errors_chart(figures.export_errors))


routes = [Route("/dashboard", view(dashboard))]
