"""The server-side charts (idsync.web.charts): pure functions of their data, tested without a
browser. What an administrator relies on: the scale shows every value, the axes carry round
ticks and readable times, an empty or one-point chart still draws, every chart is named for
screen readers and carries its numbers as a table, and names from the data are escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from idsync.administration.overview import figure_of, objects_of
from idsync.store.run_statistics import RunPoint
from idsync.web.chart_scales import (
    format_number,
    nice_ticks,
    time_label,
    time_step,
    time_ticks,
)
from idsync.web.charts import Series, bar_chart, chart_id_of, line_chart, multi_bar_chart

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def svg_tree(chart) -> ET.Element:
    """The chart's SVG parsed as XML: it must be well-formed on its own."""
    return ET.fromstring(str(chart.svg))


def texts(root: ET.Element) -> list[str]:
    """What each text element shows (not the tooltip a long label carries)."""
    return [t.text or "" for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize(("low", "high", "expected"), [
    (0, 10, [0, 2, 4, 6, 8, 10]),
    (0, 7, [0, 2, 4, 6, 8]),
    (0, 0.37, [0, 0.1, 0.2, 0.3, 0.4]),
    (0, 123_456, [0, 50_000, 100_000, 150_000]),
    (5, 5, [0, 1, 2, 3, 4, 5]),
    (0, 0, [0, 0.2, 0.4, 0.6, 0.8, 1]),
])
def test_nice_ticks_cover_the_values_with_round_steps(low, high, expected):
    assert nice_ticks(low, high) == expected


def test_time_ticks_land_on_round_clock_times():
    ticks = time_ticks(T0 + timedelta(minutes=3), T0 + timedelta(hours=2, minutes=50))
    assert time_step(timedelta(hours=2, minutes=47)) == timedelta(hours=1)
    assert ticks == [T0 + timedelta(hours=1), T0 + timedelta(hours=2)]
    assert time_label(ticks[0], timedelta(hours=3)) == "10:00"
    assert time_label(ticks[0], timedelta(days=3)) == "12-03 10:00"
    assert time_label(ticks[0], timedelta(days=30)) == "2026-12-03"
    assert time_label(T0 + timedelta(seconds=15), timedelta(minutes=2)) == "09:00:15"


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (1234567, "1,234,567"), (3.0, "3"), (2.5, "2.5"), (0.125, "0.12"),
    (12.345, "12.3"), (1234.5, "1,234"), (0.0004, "0.0004")])
def test_numbers_read_with_separators_and_few_decimals(value, text):
    assert format_number(value) == text


def test_line_chart_scales_every_point_inside_the_plot_and_lists_them():
    series = [Series("Full Import", [(T0, 2.0), (T0 + timedelta(minutes=30), 7.5)]),
              Series("Export", [(T0 + timedelta(minutes=10), 1.0)])]
    chart = line_chart("d-source", "source: run duration", series, value_label="seconds")
    root = svg_tree(chart)
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    circles = list(root.iter(f"{SVG}circle"))
    assert len(circles) == 3
    for c in circles:
        assert 0 < float(c.get("cx")) < width and 0 < float(c.get("cy")) < height
    # the larger value is drawn higher (SVG y grows downwards)
    first, second = circles[0], circles[1]
    assert float(second.get("cy")) < float(first.get("cy"))
    labels = texts(root)
    assert {"0", "2", "4", "6", "8"} <= set(labels)  # y ticks cover 7.5
    assert "09:00" in labels and "seconds" in labels and "Time (UTC)" in labels
    assert "Full Import" in labels and "Export" in labels  # legend
    assert chart.table.headers == ["Series", "Time (UTC)", "seconds"]
    assert list(chart.table.rows) == [("Full Import", "2026-12-03 09:00:00", "2"),
                                      ("Full Import", "2026-12-03 09:30:00", "7.5"),
                                      ("Export", "2026-12-03 09:10:00", "1")]


def test_every_chart_is_named_and_described_for_screen_readers():
    chart = bar_chart("errors", "Top export errors", [("dn-attributes-failure", 12)],
                      label_header="Code", value_label="objects")
    root = svg_tree(chart)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "errors-title errors-desc"
    assert root.find(f"{SVG}title").text == "Top export errors"
    assert "dn-attributes-failure: objects 12" in root.find(f"{SVG}desc").text
    html = str(chart.html())
    assert '<th scope="col">Code</th>' in html and '<th scope="row">dn-attributes-failure' in html
    assert "<summary>Data table: Top export errors</summary>" in html


def test_empty_data_draws_a_chart_that_says_so():
    for chart in (line_chart("a", "Runs", [], value_label="seconds"),
                  line_chart("b", "Runs", [Series("x", [])], value_label="seconds"),
                  bar_chart("c", "Errors", [], label_header="Code", value_label="objects"),
                  multi_bar_chart("d", "States", [], [], label_header="Connector",
                                  value_label="objects", stacked=True)):
        assert "No data yet" in texts(svg_tree(chart))
        assert "No data yet." in str(chart.html())


def test_one_point_sits_inside_the_plot_with_a_time_axis_around_it():
    chart = line_chart("one", "Runs", [Series("Export", [(T0, 0.0)])], value_label="seconds")
    root = svg_tree(chart)
    (circle,) = root.iter(f"{SVG}circle")
    width = float(root.get("viewBox").split()[2])
    assert width * 0.3 < float(circle.get("cx")) < width * 0.7
    assert not list(root.iter(f"{SVG}polyline"))  # a line needs two points
    assert {"0", "1"} <= set(texts(root))  # an all-zero axis still has a scale


def test_stacked_bars_end_at_the_total_and_grouped_bars_side_by_side():
    groups = [("add", [3, 0]), ("modify", [1, 2]), ("delete", [0, 0])]
    stacked = multi_bar_chart("e", "Pending exports", ["target", "cloud"], groups,
                              label_header="Connector", value_label="exports", stacked=True)
    root = svg_tree(stacked)
    rects = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(rects) == 3  # zero parts are not drawn
    target = [r for r in rects if r.find(f"{SVG}title").text.startswith("target")]
    add, modify = target
    assert float(modify.get("x")) == pytest.approx(float(add.get("x")) + float(add.get("width")))
    assert "4" in texts(root) and "2" in texts(root)  # the totals at the bars' ends
    assert stacked.table.headers == ["Connector", "add", "modify", "delete", "Total"]
    assert list(stacked.table.rows) == [["target", "3", "1", "0", "4"],
                                        ["cloud", "0", "2", "0", "2"]]
    grouped = multi_bar_chart("f", "States", ["target"], [("objects", [10]), ("in error", [4])],
                              label_header="Connector", value_label="objects", stacked=False)
    bars = [r for r in svg_tree(grouped).iter(f"{SVG}rect")
            if r.find(f"{SVG}title") is not None]
    assert bars[0].get("x") == bars[1].get("x") and bars[0].get("y") != bars[1].get("y")
    assert float(bars[0].get("width")) == pytest.approx(2.5 * float(bars[1].get("width")), abs=0.2)


def test_names_from_the_data_are_escaped_everywhere():
    evil = '<script>alert("x")</script>'
    charts = [
        line_chart(chart_id_of(evil), evil, [Series(evil, [(T0, 1.0), (T0, 2.0)])],
                   value_label="seconds"),
        bar_chart("b", "Errors", [(evil, 3)], label_header="Code", value_label="objects"),
        multi_bar_chart("m", "States", [evil], [(evil, [1])], label_header="Connector",
                        value_label="objects", stacked=True),
    ]
    for chart in charts:
        html = str(chart.html())
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
        svg_tree(chart)  # still well-formed XML
    assert re.fullmatch(r"[a-z0-9_-]+", chart_id_of(evil))


def test_long_labels_are_shortened_on_the_chart_but_whole_in_the_table():
    code = "maximum-group-member-count-exceeded-in-the-cloud-directory"
    chart = bar_chart("l", "Errors", [(code, 1)], label_header="Code", value_label="objects")
    root = svg_tree(chart)
    (shown,) = [t for t in root.iter(f"{SVG}text") if (t.text or "").startswith("maximum")]
    assert shown.text.endswith("…") and len(shown.text) == 32
    assert shown.find(f"{SVG}title").text == code  # the whole code as a tooltip
    assert chart.table.rows[0][0] == code


def test_a_runs_objects_and_rate_as_the_overview_counts_them():
    assert objects_of("Full Import", {"adds": 3, "updates": 2, "exports-confirmed": 3}) == 5
    assert objects_of("Export", {"adds": 3, "modifies": 1}) == 4
    run = RunPoint(1, "source", "Full Import", "success", "2026-12-03T09:00:00.000+00:00",
                   "2026-12-03T09:00:02.500+00:00", {"adds": 10})
    figure = figure_of(run)
    assert figure.seconds == 2.5 and figure.objects == 10 and figure.rate == 4.0
    instant = figure_of(RunPoint(2, "s", "Export", "success", run.started_at, run.started_at,
                                 {"adds": 1}))
    assert instant.rate == 1000.0  # no division by zero: a millisecond at least


def test_counts_get_whole_number_ticks():
    assert nice_ticks(0, 2, integers=True) == [0, 1, 2]
    chart = bar_chart("c", "Errors", [("a", 2), ("b", 1)], label_header="Code",
                      value_label="objects")
    assert "0.5" not in texts(svg_tree(chart))
