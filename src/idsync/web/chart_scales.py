"""The numbers behind a chart's axes: round tick values, time ticks and how values and times
read on an axis or in a data table. Pure functions, no markup (``idsync.web.charts`` draws)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

#: Steps a time axis may use, shortest first: a tick lands on a round second, minute, hour
#: or day, whatever the span, so the labels read like a clock.
TIME_STEPS = tuple(timedelta(seconds=s) for s in (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600,
    12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 90 * 86400, 365 * 86400))


def nice_step(span: float, count: int) -> float:
    """A step of 1, 2 or 5 times a power of ten giving about ``count`` intervals over
    ``span``."""
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power  # pragma: no cover (the loop always returns)


def nice_ticks(low: float, high: float, count: int = 5, *, integers: bool = False
               ) -> list[float]:
    """Round tick values covering ``low``..``high`` (the first at or below ``low``, the last
    at or above ``high``). An empty span (one value, or all zero) still gets an axis.
    ``integers``: counts, so no tick between two whole numbers."""
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if low > high:
        low, high = high, low
    if high == low:
        if high == 0:
            high = 1.0
        elif high > 0:
            low = 0.0
        else:
            high = 0.0
    step = nice_step(high - low, count)
    if integers:
        step = max(step, 1.0)
    first = math.floor(low / step + 1e-9) * step
    ticks = []
    value = first
    while value < high - 1e-9 * step:
        ticks.append(_clean(value, step))
        value += step
    ticks.append(_clean(value, step))
    return ticks


def _clean(value: float, step: float) -> float:
    """The tick rounded to its step's decimals (0.1 + 0.2 reads 0.3, not 0.30000000000000004)."""
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return round(value, decimals)


def time_step(span: timedelta, count: int = 5) -> timedelta:
    for step in TIME_STEPS:
        if span / step <= count:
            return step
    return TIME_STEPS[-1]


def time_ticks(start: datetime, end: datetime, count: int = 5) -> list[datetime]:
    """Tick times on round steps inside ``start``..``end``."""
    step = time_step(end - start, count)
    epoch = datetime(1970, 1, 1, tzinfo=start.tzinfo or UTC)
    first = epoch + step * math.ceil((start - epoch) / step)
    ticks = []
    at = first
    while at <= end:
        ticks.append(at)
        at += step
    return ticks


def time_label(at: datetime, span: timedelta) -> str:
    """A tick's label: seconds when the axis spans minutes, the date when it spans days."""
    if span <= timedelta(minutes=5):
        return at.strftime("%H:%M:%S")
    if span <= timedelta(days=1):
        return at.strftime("%H:%M")
    if span <= timedelta(days=7):
        return at.strftime("%m-%d %H:%M")
    return at.strftime("%Y-%m-%d")


def format_number(value: float) -> str:
    """A value as it reads on an axis or in a table: thousands separated, few decimals."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:,.1f}"
    if size >= 0.01:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def format_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_time(text: str) -> datetime:
    """A stored ISO time (``utcnow()``'s text) as an aware datetime."""
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def value_range(values: Sequence[float], *, from_zero: bool) -> tuple[float, float]:
    """The span an axis must show; bars and rates start at zero."""
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    if from_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    return low, high
