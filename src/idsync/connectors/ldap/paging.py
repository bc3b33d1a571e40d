"""Simple paged results (RFC 2696): stream a subtree search page by page.

python-ldap's ``SimplePagedResultsControl`` does the encoding; this module owns the loop, so
every search that may return many entries goes through one place.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ldap.controls import SimplePagedResultsControl

import ldap

Entry = tuple[str, dict[str, list[bytes]]]


def paged_search(conn: Any, base: str, filterstr: str, attrs: Sequence[str] | None,
                 page_size: int = 1000, scope: int = ldap.SCOPE_SUBTREE,
                 extra_controls: Sequence[Any] = ()) -> Iterator[list[Entry]]:
    """Yield one list of (dn, attributes) per page; referrals are dropped."""
    control = SimplePagedResultsControl(True, size=page_size, cookie=b"")
    while True:
        msgid = conn.search_ext(base, scope, filterstr, list(attrs) if attrs else None,
                                serverctrls=[control, *extra_controls])
        _, data, _, response_controls = conn.result3(msgid)
        yield [(dn, entry) for dn, entry in data if dn is not None and isinstance(entry, dict)]
        cookie = next((c.cookie for c in response_controls
                       if c.controlType == SimplePagedResultsControl.controlType), b"")
        if not cookie:
            return
        control.cookie = cookie
