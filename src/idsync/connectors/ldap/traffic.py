"""Counting an LDAP connection's traffic: every operation sent (bind, search page, add,
modify, delete, rename, extended operation) is a request; bytes are the payload the
operations carry (DNs, filters, attribute names and values), sent and received. python-ldap
does not expose the socket, so BER framing is not counted: the figures are a floor, close for
searches and exports of real entries."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from idsync.connectors.traffic import Traffic

#: LDAPObject methods that send one operation (the synchronous ``*_s`` variants call these).
OPERATIONS = ("simple_bind", "search_ext", "add_ext", "modify_ext", "delete_ext", "rename",
              "compare_ext", "extop")


class LdapTrafficMeter:
    def __init__(self) -> None:
        self.counted = Traffic()

    def snapshot(self) -> Traffic:
        return Traffic(self.counted.requests, self.counted.bytes_sent,
                       self.counted.bytes_received)

    def attach(self, conn: Any, *, bound: bool = True) -> Any:
        """Count ``conn``'s operations from now on (``bound``: it already sent its bind)."""
        if bound:
            self.counted.requests += 1
        for name in OPERATIONS:
            original = getattr(conn, name, None)
            if original is not None:
                setattr(conn, name, self._sending(original))
        conn.result4 = self._receiving(conn.result4)
        return conn

    def _sending(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counted.requests += 1
            self.counted.bytes_sent += _payload(args) + _payload(tuple(kwargs.values()))
            return method(*args, **kwargs)
        return counted

    def _receiving(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def counted(*args: Any, **kwargs: Any) -> Any:
            answer = method(*args, **kwargs)
            if answer and len(answer) > 1 and answer[1]:
                self.counted.bytes_received += _entries_payload(answer[1])
            return answer
        return counted


def _entries_payload(data: Any) -> int:
    """Bytes of a result's entries, ``[(dn, {name: [values]})...]``, in one pass of C-level
    ``len`` calls (a full import reads every value once more here: kept cheap)."""
    total = 0
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], dict):
            dn, attributes = item
            total += len(dn or "")
            for name, values in attributes.items():
                total += len(name) + sum(map(len, values))
        else:
            total += _payload(item)
    return total


def _payload(value: Any, depth: int = 0) -> int:
    """Bytes of the strings and byte strings in ``value`` (lists, tuples, dicts of them)."""
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if depth > 4:
        return 0
    if isinstance(value, dict):
        return sum(_payload(k, depth + 1) + _payload(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return sum(_payload(v, depth + 1) for v in value)
    return 0
