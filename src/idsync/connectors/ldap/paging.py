"""Simple paged results (RFC 2696): stream a subtree search page by page.

python-ldap's ``SimplePagedResultsControl`` does the encoding; this module owns the loop, so
every search that may return many entries goes through one place. The request for the next
page can go out as soon as a page arrives (``prefetch``), so the server builds page n+1 while
Python turns page n into records. Only for callers that send no other search on the connection
between pages: OpenLDAP ends the paged search early when another search interleaves (found
with the accesslog reader, which looks entries up between log pages).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from ldap.controls import SimplePagedResultsControl

import ldap

Entry = tuple[str, dict[str, list[bytes]]]


def paged_search(conn: Any, base: str, filterstr: str, attrs: Sequence[str] | None,
                 page_size: int = 1000, scope: int = ldap.SCOPE_SUBTREE,
                 extra_controls: Sequence[Any] = (), prefetch: bool = False
                 ) -> Iterator[list[Entry]]:
    """Yield one list of (dn, attributes) per page; referrals are dropped."""
    attrlist = list(attrs) if attrs else None

    def request(cookie: bytes) -> int:
        control = SimplePagedResultsControl(True, size=page_size, cookie=cookie)
        return int(conn.search_ext(base, scope, filterstr, attrlist,
                                   serverctrls=[control, *extra_controls]))

    msgid = request(b"")
    try:
        while msgid:
            _, data, _, response_controls = conn.result3(msgid)
            cookie = next((c.cookie for c in response_controls
                           if c.controlType == SimplePagedResultsControl.controlType), b"")
            page = [(dn, e) for dn, e in data if dn is not None and isinstance(e, dict)]
            msgid = 0
            if cookie and prefetch:
                msgid = request(cookie)
            yield page
            if cookie and not prefetch:
                msgid = request(cookie)
    finally:
        if msgid:  # the caller stopped early: do not leave a page in flight
            with contextlib.suppress(ldap.LDAPError):
                conn.abandon(msgid)
