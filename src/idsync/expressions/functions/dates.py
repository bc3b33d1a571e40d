"""Date functions: DateAdd, DateFromNum, FormatDateTime, Now, NumFromDate (all UTC)."""

from __future__ import annotations

import calendar
import datetime as _dt
import functools
import re
from typing import Any

from idsync.expressions.errors import ExpressionRuntimeError
from idsync.expressions.functions.registry import function, want_dt, want_num, want_str

UTC = _dt.UTC
# AD's FILETIME: 100-nanosecond ticks since 1601-01-01 UTC.
_EPOCH_1601 = _dt.datetime(1601, 1, 1, tzinfo=UTC)

_DATE = re.compile(
    r"""\s*(?:(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})
          |(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>\d{4}))
        (?:(?:\s+|T)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<F>\d{1,7}))?)?
           \s*(?P<ampm>[AaPp][Mm])?)?
        \s*(?P<tz>Z|[+-]\d{1,2}(?::?\d{2})?)?\s*\Z""",
    re.VERBOSE,
)
_GENERALIZED = re.compile(r"\s*(\d{14})(?:\.(\d{1,7}))?(Z|[+-]\d{4})\s*\Z")


def parse_date(text: str) -> _dt.datetime | None:
    """Read the date forms rules meet: ISO, US m/d/yyyy, AM/PM, an hour offset, LDAP time."""
    match = _DATE.match(text)
    if match:
        return _from_parts(match)
    match = _GENERALIZED.match(text)
    if match:
        digits, fraction, zone = match.groups()
        try:
            value = _dt.datetime.strptime(digits, "%Y%m%d%H%M%S")
        except ValueError:
            return None
        micro = int((fraction or "0").ljust(6, "0")[:6])
        offset = _offset(zone)
        return (value.replace(microsecond=micro, tzinfo=offset)).astimezone(UTC)
    return None


def _from_parts(match: re.Match[str]) -> _dt.datetime | None:
    g = match.groupdict()
    year, month, day = (g["y"], g["m"], g["d"]) if g["y"] else (g["y2"], g["m2"], g["d2"])
    hour, minute = int(g["H"] or 0), int(g["M"] or 0)
    second = int(g["S"] or 0)
    micro = int((g["F"] or "0").ljust(6, "0")[:6])
    if g["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if g["ampm"].upper() == "PM" else 0)
    try:
        value = _dt.datetime(int(year), int(month), int(day), hour, minute, second, micro)
        return value.replace(tzinfo=_offset(g["tz"])).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _offset(zone: str | None) -> _dt.tzinfo:
    # No zone means UTC: the sync engine keeps every date in UTC.
    if not zone or zone == "Z":
        return UTC
    sign = -1 if zone[0] == "-" else 1
    body = zone[1:].replace(":", "")
    hours, minutes = (int(body), 0) if len(body) <= 2 else (int(body[:-2]), int(body[-2:]))
    if hours > 14 or minutes > 59:
        raise ValueError("offset out of range")
    return _dt.timezone(sign * _dt.timedelta(hours=hours, minutes=minutes))


def _add_months(value: _dt.datetime, months: int) -> _dt.datetime:
    total = value.year * 12 + value.month - 1 + months
    year, month = divmod(total, 12)
    # Like VBA: Jan 31 + 1 month is the last day of February.
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


_INTERVALS = {
    "d": _dt.timedelta(days=1),
    "y": _dt.timedelta(days=1),  # day of year
    "w": _dt.timedelta(days=1),  # weekday
    "ww": _dt.timedelta(weeks=1),
    "h": _dt.timedelta(hours=1),
    "n": _dt.timedelta(minutes=1),
    "s": _dt.timedelta(seconds=1),
}


@function("DateAdd", 3, per_value=(2,))
def date_add(interval: Any, number: Any, value: Any) -> _dt.datetime | None:
    if value is None:
        return None
    unit = want_str("DateAdd", interval, "interval")
    count = want_num("DateAdd", number, "number")
    when = want_dt("DateAdd", value, "date")
    try:
        if unit == "yyyy":
            return _add_months(when, 12 * count)
        if unit == "q":
            return _add_months(when, 3 * count)
        if unit == "m":
            return _add_months(when, count)
        if unit in _INTERVALS:
            return when + _INTERVALS[unit] * count
    except (ValueError, OverflowError):
        raise ExpressionRuntimeError("DateAdd: the result is out of the date range") from None
    raise ExpressionRuntimeError(
        f"DateAdd: interval must be one of yyyy q m y d w ww h n s, got {unit!r}"
    )


@function("DateFromNum", 1)
def date_from_num(value: Any) -> _dt.datetime | None:
    if value is None:
        return None
    ticks = want_num("DateFromNum", value)
    try:
        return _EPOCH_1601 + _dt.timedelta(microseconds=ticks // 10)
    except OverflowError:
        raise ExpressionRuntimeError(f"DateFromNum: {ticks} is out of the date range") from None


@function("NumFromDate", 1)
def num_from_date(value: Any) -> int | None:
    if value is None:
        return None
    delta = want_dt("NumFromDate", value) - _EPOCH_1601
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


@function("Now", 0, pure=False)
def now() -> _dt.datetime:
    return _dt.datetime.now(UTC)


# .NET custom date and time format specifiers (the rules' FormatDateTime follows .NET).
_FORMAT_TOKEN = re.compile(r"""y+|M+|d+|H+|h+|m+|s+|f+|F+|t+|z+|K|'[^']*'|"[^"]*"|\\.|.""", re.S)
_MONTHS = calendar.month_name
_DAYS = calendar.day_name


def _format_one(token: str, v: _dt.datetime) -> str:
    c, n = token[0], len(token)
    if c == "y":
        return str(v.year % 100).zfill(n) if n <= 2 else str(v.year).zfill(n)
    if c == "M":
        if n >= 4:
            return _MONTHS[v.month]
        return _MONTHS[v.month][:3] if n == 3 else str(v.month).zfill(n)
    if c == "d":
        if n >= 4:
            return _DAYS[v.weekday()]
        return _DAYS[v.weekday()][:3] if n == 3 else str(v.day).zfill(n)
    if c == "H":
        return str(v.hour).zfill(min(n, 2))
    if c == "h":
        return str(v.hour % 12 or 12).zfill(min(n, 2))
    if c == "m":
        return str(v.minute).zfill(min(n, 2))
    if c == "s":
        return str(v.second).zfill(min(n, 2))
    if c in "fF":
        digits = f"{v.microsecond:06d}0"[: min(n, 7)]
        return digits.rstrip("0") if c == "F" else digits
    if c == "t":
        marker = "AM" if v.hour < 12 else "PM"
        return marker[:n] if n < 2 else marker
    if c == "z":
        offset = v.utcoffset() or _dt.timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        hours, mins = divmod(abs(minutes), 60)
        if n == 1:
            return f"{sign}{hours}"
        return f"{sign}{hours:02d}" if n == 2 else f"{sign}{hours:02d}:{mins:02d}"
    if c == "K":
        return "Z"
    if c in "'\"":
        return token[1:-1]
    if c == "\\":
        return token[1:]
    return token


@function("FormatDateTime", 2, per_value=(0,))
def format_date_time(value: Any, fmt: Any) -> str | None:
    if value is None:
        return None
    when = want_dt("FormatDateTime", value, "date")
    pattern = want_str("FormatDateTime", fmt, "format")
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    tokens, fast = _compile_format(pattern)
    if fast is not None and when.year >= 1000:
        return when.strftime(fast)
    return "".join([_format_one(t, when) for t in tokens])


# .NET tokens with an exact C strftime equivalent (numeric only: names depend on the locale).
_STRFTIME = {
    "yyyy": "%Y",
    "yy": "%y",
    "MM": "%m",
    "dd": "%d",
    "HH": "%H",
    "hh": "%I",
    "mm": "%M",
    "ss": "%S",
}


@functools.lru_cache(maxsize=256)
def _compile_format(pattern: str) -> tuple[tuple[str, ...], str | None]:
    """Tokenize once per pattern (a rule formats every object alike); when every token maps to
    strftime, also return the strftime pattern, which runs in C."""
    tokens = tuple(_FORMAT_TOKEN.findall(pattern))
    parts = []
    for token in tokens:
        if token in _STRFTIME:
            parts.append(_STRFTIME[token])
        elif token[0] in "yMdHhmsfFtzK":
            return tokens, None
        else:
            parts.append(_format_one(token, _dt.datetime(2000, 1, 1)).replace("%", "%%"))
    return tokens, "".join(parts)
