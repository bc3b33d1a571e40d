"""Charts drawn on the server as SVG: data in, markup out (docs/decisions/web-charts.md).

No script and no chart library: the page is complete when it arrives, works with no internet
and passes the Content-Security-Policy (no inline style: colours are SVG presentation
attributes, which the policy does not govern; text sizes likewise). Every chart is a
``<figure>`` holding the SVG (``role="img"`` named by its ``<title>`` and described by its
``<desc>``) and, under it, the same numbers as a table for keyboard and screen-reader users.
Every text that came from data (a connector named ``<script>``) is escaped here.

Three shapes: ``line_chart`` (values over time, one line per series), ``bar_chart`` (one value
per label, horizontal so long labels read) and ``multi_bar_chart`` (several values per
label, stacked or side by side).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from idsync.web.chart_scales import (
    format_number,
    format_time,
    nice_ticks,
    time_label,
    time_ticks,
    value_range,
)

#: Colours told apart by people with the common colour-vision deficiencies (Okabe and Ito),
#: darkened where needed to read on white.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#b07d00", "#56b4e9", "#6f4e37",
           "#555555")
FONT = 'font-family="system-ui, DejaVu Sans, sans-serif"'
#: Rough width of one character of 12px text: enough to size margins without a font.
CHAR_WIDTH = 6.8
LABEL_CHARS = 32
WIDTH = 560


@dataclass(frozen=True)
class Series:
    """One line of a line chart: its name and its (time, value) points."""

    name: str
    points: Sequence[tuple[datetime, float]]


@dataclass(frozen=True)
class Table:
    """A chart's numbers as a table: the first column names each row."""

    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    #: columns (by index) holding numbers: right-aligned
    numeric: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    svg: Markup
    table: Table

    def html(self) -> Markup:
        """The chart as a figure: its title, the SVG and its data table."""
        cid = escape(self.chart_id)
        title = escape(self.title)
        return Markup(
            f'<figure class="chart-figure" id="chart-{cid}" '
            f'aria-labelledby="chart-{cid}-caption">'
            f'<figcaption id="chart-{cid}-caption" class="chart-title">{title}</figcaption>'
            f"{self.svg}"
            f'<details class="chart-data"><summary>Data table: {title}</summary>'
            f"{table_html(self.table, self.title)}</details></figure>")


def table_html(table: Table, caption: str) -> Markup:
    head = "".join(
        f'<th scope="col"{_num(i, table)}>{escape(h)}</th>' for i, h in enumerate(table.headers))
    body = []
    for row in table.rows:
        cells = [f'<th scope="row">{escape(row[0])}</th>' if row else ""]
        cells += [f"<td{_num(i, table)}>{escape(v)}</td>" for i, v in enumerate(row) if i]
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(table.headers)}">No data yet.</td></tr>')
    return Markup(
        f'<div class="table-wrap"><table class="data chart-table">'
        f'<caption class="visually-hidden">{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def _num(index: int, table: Table) -> str:
    return ' class="num"' if index in table.numeric else ""


def chart_id_of(text: str) -> str:
    """An id safe in HTML and in an SVG reference, from any text."""
    return re.sub(r"[^a-zA-Z0-9_-]+", "-", text).strip("-").lower() or "chart"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _label(label: str) -> str:
    """A label's text on the chart: shortened if long, the whole label then as a tooltip."""
    text = _short(label)
    return str(escape(text)) + (f"<title>{escape(label)}</title>" if text != label else "")


def _svg(chart_id: str, title: str, description: str, width: float, height: float,
         body: list[str]) -> Markup:
    cid = escape(chart_id)
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" xmlns="http://www.w3.org/2000/svg" '
        f'aria-labelledby="{cid}-title {cid}-desc" {FONT} font-size="12">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>")


def _empty(chart_id: str, title: str, table: Table, height: float = 80) -> Chart:
    body = [f'<text x="{WIDTH / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" '
            f'fill="#57606a">No data yet</text>']
    return Chart(chart_id, title, _svg(chart_id, title, f"{title}: no data yet.", WIDTH,
                                       height, body), table)


def _legend(names: Sequence[str], left: float, top: float, right: float) -> tuple[list[str], float]:
    """Legend items in rows from ``top``; returns the markup and the height it took."""
    out: list[str] = []
    x, y = left, top
    for i, name in enumerate(names):
        text = _short(name)
        item = 16 + len(text) * CHAR_WIDTH + 18
        if x + item > right and x > left:
            x, y = left, y + 18
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="11" height="11" fill="{colour}"/>'
                   f'<text x="{x + 16:.1f}" y="{y + 10:.1f}" fill="#1b1f24">{_label(name)}'
                   "</text>")
        x += item
    return out, (y - top) + 18 if names else 0


def _value_axis_x(ticks: list[float], x_of, top: float, bottom: float) -> list[str]:
    """Vertical grid lines and their labels under a horizontal value axis."""
    out = []
    for t in ticks:
        x = x_of(t)
        out.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" '
                   f'stroke="#d0d7de" stroke-width="1"/>'
                   f'<text x="{x:.1f}" y="{bottom + 15:.1f}" text-anchor="middle" '
                   f'fill="#57606a">{escape(format_number(t))}</text>')
    return out


def line_chart(chart_id: str, title: str, series: Sequence[Series], *, value_label: str,
               width: float = WIDTH, height: float = 260) -> Chart:
    """Values over time, one line (and its points) per series, times in UTC."""
    table = Table(["Series", "Time (UTC)", value_label],
                  [(s.name, format_time(at), format_number(v))
                   for s in series for at, v in sorted(s.points, key=lambda p: p[0])],
                  frozenset({2}))
    drawn = [s for s in series if s.points]
    if not drawn:
        return _empty(chart_id, title, table)
    times = [at for s in drawn for at, _ in s.points]
    values = [v for s in drawn for _, v in s.points]
    start, end = min(times), max(times)
    if end - start < timedelta(seconds=2):
        # One point (or all at one moment): a minute either side so it sits in the middle.
        start, end = start - timedelta(minutes=1), end + timedelta(minutes=1)
    low, high = value_range(values, from_zero=True)
    ticks = nice_ticks(low, high)
    y0, y1 = ticks[0], ticks[-1]
    left = 16 + max(len(format_number(t)) for t in ticks) * CHAR_WIDTH + 22
    right = width - 28  # half a time label beyond the last tick
    legend, legend_height = _legend([s.name for s in drawn], left, 8, width - 16)
    top = 8 + legend_height + 10
    bottom = height - 36
    span = (end - start).total_seconds()

    def x_of(at: datetime) -> float:
        return left + (at - start).total_seconds() / span * (right - left)

    def y_of(v: float) -> float:
        return bottom - (v - y0) / ((y1 - y0) or 1) * (bottom - top)

    body = list(legend)
    for t in ticks:
        y = y_of(t)
        body.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" '
                    f'stroke="#d0d7de" stroke-width="1"/>'
                    f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" '
                    f'fill="#57606a">{escape(format_number(t))}</text>')
    body.append(f'<text x="12" y="{(top + bottom) / 2:.1f}" text-anchor="middle" '
                f'transform="rotate(-90 12 {(top + bottom) / 2:.1f})" fill="#1b1f24">'
                f"{escape(value_label)}</text>")
    for at in time_ticks(start, end):
        x = x_of(at)
        body.append(f'<line x1="{x:.1f}" y1="{bottom:.1f}" x2="{x:.1f}" y2="{bottom + 5:.1f}" '
                    f'stroke="#57606a"/><text x="{x:.1f}" y="{bottom + 18:.1f}" '
                    f'text-anchor="middle" fill="#57606a">'
                    f"{escape(time_label(at, end - start))}</text>")
    body.append(f'<line x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" '
                f'stroke="#57606a"/><text x="{(left + right) / 2:.1f}" y="{height - 4:.1f}" '
                f'text-anchor="middle" fill="#1b1f24">Time (UTC)</text>')
    for i, s in enumerate(drawn):
        colour = PALETTE[i % len(PALETTE)]
        points = sorted(s.points, key=lambda p: p[0])
        coords = " ".join(f"{x_of(at):.1f},{y_of(v):.1f}" for at, v in points)
        if len(points) > 1:
            body.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                        f'stroke-width="2" stroke-linejoin="round"/>')
        for at, v in points:
            body.append(f'<circle cx="{x_of(at):.1f}" cy="{y_of(v):.1f}" r="3" '
                        f'fill="{colour}"><title>{escape(s.name)}, {format_time(at)}: '
                        f"{escape(format_number(v))} {escape(value_label)}</title></circle>")
    description = (f"Line chart of {value_label} over time, {len(drawn)} series "
                   f"({', '.join(s.name for s in drawn)}), from {format_time(start)} to "
                   f"{format_time(end)} UTC; values from {format_number(min(values))} to "
                   f"{format_number(max(values))}. The data table below lists every point.")
    return Chart(chart_id, title, _svg(chart_id, title, description, width, height, body),
                 table)


def bar_chart(chart_id: str, title: str, bars: Sequence[tuple[str, float]], *,
              label_header: str, value_label: str, width: float = WIDTH) -> Chart:
    """One horizontal bar per label, in the order given."""
    table = Table([label_header, value_label],
                  [(label, format_number(v)) for label, v in bars], frozenset({1}))
    if not bars:
        return _empty(chart_id, title, table)
    return multi_bar_chart(chart_id, title, [label for label, _ in bars],
                           [(value_label, [v for _, v in bars])], label_header=label_header,
                           value_label=value_label, stacked=False, width=width,
                           table=table, legend=False)


def multi_bar_chart(chart_id: str, title: str, categories: Sequence[str],
                    groups: Sequence[tuple[str, Sequence[float]]], *, label_header: str,
                    value_label: str, stacked: bool, width: float = WIDTH,
                    table: Table | None = None, legend: bool = True) -> Chart:
    """Several values per category: ``groups`` are (name, one value per category). Stacked
    (parts of a whole, the total at the bar's end) or side by side (values that overlap)."""
    if table is None:
        headers = [label_header, *(name for name, _ in groups)] + (["Total"] if stacked else [])
        rows = []
        for c, category in enumerate(categories):
            row = [category, *(format_number(vals[c]) for _, vals in groups)]
            if stacked:
                row.append(format_number(sum(vals[c] for _, vals in groups)))
            rows.append(row)
        table = Table(headers, rows, frozenset(range(1, len(headers))))
    if not categories or not groups:
        return _empty(chart_id, title, table)
    totals = [sum(vals[c] for _, vals in groups) if stacked
              else max(vals[c] for _, vals in groups) for c in range(len(categories))]
    counts = all(float(v).is_integer() for _, vals in groups for v in vals)
    ticks = nice_ticks(*value_range(totals, from_zero=True), integers=counts)
    x_max = ticks[-1] or 1
    left = 12 + min(max(len(_short(c)) for c in categories), LABEL_CHARS) * CHAR_WIDTH + 8
    right = width - 16 - 8 * CHAR_WIDTH  # room for the value after the longest bar
    body: list[str] = []
    top = 8.0
    if legend:
        items, legend_height = _legend([name for name, _ in groups], left, 8, width - 16)
        body += items
        top += legend_height + 6
    bar = 16.0 if stacked or len(groups) == 1 else 12.0
    row_height = (bar if stacked else bar * len(groups)) + 12
    bottom = top + row_height * len(categories)
    height = bottom + 24

    def x_of(v: float) -> float:
        return left + v / x_max * (right - left)

    body += _value_axis_x(ticks, x_of, top, bottom)
    for c, category in enumerate(categories):
        y = top + c * row_height + 6
        body.append(f'<text x="{left - 8:.1f}" y="{y + (row_height - 12) / 2 + 4:.1f}" '
                    f'text-anchor="end" fill="#1b1f24">{_label(category)}</text>')
        offset = 0.0
        for g, (name, vals) in enumerate(groups):
            value = vals[c]
            colour = PALETTE[g % len(PALETTE)]
            start = offset if stacked else 0.0
            by = y if stacked else y + g * bar
            w = x_of(start + value) - x_of(start)
            tip = f"{category}, {name}: {format_number(value)}"
            if value:
                body.append(f'<rect x="{x_of(start):.1f}" y="{by:.1f}" width="{w:.1f}" '
                            f'height="{bar - 2:.1f}" fill="{colour}">'
                            f"<title>{escape(tip)}</title></rect>")
            if not stacked:
                body.append(f'<text x="{x_of(value) + 4:.1f}" y="{by + bar - 4:.1f}" '
                            f'fill="#1b1f24">{escape(format_number(value))}</text>')
            offset += value
        if stacked:
            body.append(f'<text x="{x_of(offset) + 4:.1f}" y="{y + bar - 4:.1f}" '
                        f'fill="#1b1f24">{escape(format_number(offset))}</text>')
    body.append(f'<line x1="{left:.1f}" y1="{top:.1f}" x2="{left:.1f}" y2="{bottom:.1f}" '
                f'stroke="#57606a"/>')
    shape = "Stacked bar chart" if stacked else "Bar chart"
    parts = "; ".join(
        f"{category}: " + ", ".join(f"{name} {format_number(vals[c])}" for name, vals in groups)
        for c, category in enumerate(categories[:12]))
    more = f" and {len(categories) - 12} more" if len(categories) > 12 else ""
    description = f"{shape} of {value_label} by {label_header}. {parts}{more}."
    return Chart(chart_id, title, _svg(chart_id, title, description, width, height, body),
                 table)
