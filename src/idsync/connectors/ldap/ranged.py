"""Ranged retrieval of large multi-valued attributes (``member;range=0-1499``).

Active Directory returns at most MaxValRange (1,500) values of an attribute per search and names
the attribute ``member;range=0-1499``; the client asks for ``member;range=1500-*`` and so on
until a range ends in ``*``. Skipping this loop is the classic bug where a big group reads as
1,500 members, or as empty. The loop is pure logic over a ``fetch`` callable so it is unit
tested on synthetic responses; the connector passes a base search.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_RANGE = re.compile(r"^(?P<attr>[^;]+)(?P<opts>(?:;[^;]+)*?);range=(?P<lo>\d+)-(?P<hi>\d+|\*)"
                    r"(?P<rest>(?:;[^;]+)*)$", re.IGNORECASE)

#: fetch(dn, "member;range=1500-*") -> the attributes of that base search
Fetch = Callable[[str, str], dict[str, list[bytes]]]


class RangeError(Exception):
    """The server's ranges do not add up (a gap, or no progress)."""


def parse_range(key: str) -> tuple[str, int, int | None] | None:
    """``member;range=0-1499`` -> ("member", 0, 1499); ``member;range=1500-*`` -> (.., None).
    Returns None for an attribute name without a range option."""
    m = _RANGE.match(key)
    if not m:
        return None
    hi = None if m["hi"] == "*" else int(m["hi"])
    return m["attr"] + m["opts"] + m["rest"], int(m["lo"]), hi


def has_ranges(attrs: dict[str, list[bytes]]) -> bool:
    return any(";" in k and ";range=" in k.lower() for k in attrs)


def complete_ranges(dn: str, attrs: dict[str, list[bytes]], fetch: Fetch,
                    step: int | None = None, max_rounds: int = 100000) -> dict[str, list[bytes]]:
    """Replace every ranged attribute in ``attrs`` by all of its values. ``step``: ask for
    windows of that many values (``member;range=1500-2999``) instead of open ranges
    (``member;range=1500-*``, where the server applies its own limit)."""
    out: dict[str, list[bytes]] = {}
    for key, values in attrs.items():
        parsed = parse_range(key)
        if parsed is None:
            out.setdefault(key, []).extend(values)
            continue
        name, lo, hi = parsed
        collected = list(values)
        if lo != 0:
            raise RangeError(f"{dn}: {key} does not start at 0")
        rounds = 0
        while hi is not None:
            rounds += 1
            if rounds > max_rounds:
                raise RangeError(f"{dn}: {name} did not finish after {max_rounds} ranges")
            upper = str(hi + step) if step else "*"
            reply = fetch(dn, f"{name};range={hi + 1}-{upper}")
            next_key = next((k for k in reply if (p := parse_range(k)) and
                             p[0].lower() == name.lower()), None)
            if next_key is None:
                # The server has no more values past hi (the attribute shrank meanwhile).
                break
            _, lo, new_hi = parse_range(next_key)  # type: ignore[misc]
            if lo != hi + 1:
                raise RangeError(f"{dn}: {name} range {lo} follows {hi}")
            collected.extend(reply[next_key])
            hi = new_hi
        out.setdefault(name, []).extend(collected)
    return out
