"""The DN check of the file connector's import (RFC 4514): what a directory can hold passes,
what is not a DN is refused with the reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idsync.connectors.file.unreadable import dn_problem
from idsync.dn import escape_rdn_value


@pytest.mark.parametrize("dn", [
    "uid=alice,ou=Users,dc=contoso,dc=com", "cn=Zoë Ünï,dc=x", "CN=Smith\\, John,OU=x",
    "cn=a+uid=b,dc=x", "cn=,dc=x", "cn=#04024869,dc=x", "cn=\\c3\\a9,dc=x",
    "cn= spaced , dc=x", "cn=\"quoted, value\",dc=x", "2.5.4.3=numeric,dc=x", "cn=a=b,dc=x"])
def test_dns_are_accepted(dn: str) -> None:
    assert dn_problem(dn) is None


@pytest.mark.parametrize(("dn", "reason"), [
    ("bob in users", "RDN 'bob in users' has no '='"),
    ("uid=eve\\zz,dc=x", "an invalid escape '\\z' in RDN 'uid=eve\\zz'"),
    ("cn=a,,dc=x", "empty RDN"),
    ("cn=\\ff,dc=x", "an escape sequence that is not UTF-8"),
    ("cn=a<b,dc=x", "an unescaped '<'"),
    ("c n=a,dc=x", "invalid attribute type 'c n'"),
    ("cn=a\\", "a trailing backslash"),
    ("", "an entry needs a DN")])
def test_what_is_not_a_dn_is_refused(dn: str, reason: str) -> None:
    assert reason in (dn_problem(dn) or "")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20).filter(lambda t: "\x00" not in t),
                min_size=1, max_size=4))
def test_every_escaped_value_makes_a_dn(values: list[str]) -> None:
    """A DN built the way idsync builds one (escape_rdn_value) always passes the check."""
    dn = ",".join(f"cn={escape_rdn_value(v)}" for v in values)
    assert dn_problem(dn) is None, dn
