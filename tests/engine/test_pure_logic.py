"""Unit tests of the engine's pure logic: DNs, the value codec, scoping, precedence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idsync.dn import escape_value, normalize_dn, rdn_value, split_rdns, unescape_value
from idsync.engine.flow import Contribution, RefSet, resolve
from idsync.expressions import AUTHORITATIVE_NULL, IGNORE_THIS_FLOW
from idsync.rules.files import dump_rules, load_rules_text
from idsync.rules.model import MergeType, ScopeOperator, ScopingClause, ScopingGroup
from idsync.rules.scoping import in_scope
from idsync.values import dumps_attributes, loads_attributes

# --- DNs -----------------------------------------------------------------------------------

rdn_values = st.text(min_size=1, max_size=20).filter(lambda s: s.strip() == s and s)


@given(st.lists(rdn_values, min_size=1, max_size=5))
def test_escaped_values_survive_a_dn_round_trip(values: list[str]) -> None:
    dn = ",".join(f"cn={escape_value(v)}" for v in values)
    rdns = split_rdns(dn)
    assert len(rdns) == len(values)
    assert [unescape_value(r.partition("=")[2]) for r in rdns] == values
    assert rdn_value(dn) == values[0]


ascii_values = st.text(alphabet="abcdefgXYZ0123 ,+=#;", min_size=1, max_size=12).filter(
    lambda s: s.strip() == s)


@given(st.lists(ascii_values, min_size=1, max_size=5))
def test_normalized_dn_ignores_case_and_spaces(values: list[str]) -> None:
    dn = ",".join(f"CN={escape_value(v)}" for v in values)
    spaced = " , ".join(f"cn = {escape_value(v)}" for v in values)
    assert normalize_dn(dn) == normalize_dn(spaced) == normalize_dn(dn.upper())


def test_normalize_dn_examples() -> None:
    assert normalize_dn("CN=Joe Smith , OU=Sales,DC=Contoso,DC=com") == \
        "cn=joe smith,ou=sales,dc=contoso,dc=com"
    assert normalize_dn(r"cn=Smith\, Joe,dc=x") == r"cn=smith\, joe,dc=x"
    assert split_rdns(r"cn=a\,b,dc=x") == [r"cn=a\,b", "dc=x"]


# --- value codec ---------------------------------------------------------------------------

plain_values = st.one_of(st.text(max_size=30), st.binary(max_size=30), st.integers(),
                         st.booleans(),
                         st.datetimes(timezones=st.just(UTC)))


@given(st.dictionaries(st.text(min_size=1, max_size=10), st.lists(plain_values, max_size=4)))
def test_attribute_codec_is_exact(attributes: dict) -> None:
    assert loads_attributes(dumps_attributes(attributes)) == attributes


def test_strings_that_look_like_tags_are_kept() -> None:
    attrs = {"a": ["\x00not bytes", "\x01x", b"\x00\x01", datetime(2020, 1, 1, tzinfo=UTC)]}
    assert loads_attributes(dumps_attributes(attrs)) == attrs


# --- scoping -------------------------------------------------------------------------------

def _values(obj: dict) -> callable:
    return lambda name: obj.get(name, [])


@pytest.mark.parametrize(("op", "value", "obj", "expected"), [
    (ScopeOperator.EQUAL, "Sales", {"department": ["Sales"]}, True),
    (ScopeOperator.EQUAL, "Sales", {"department": ["sales"]}, False),
    (ScopeOperator.NOTEQUAL, "Sales", {"department": ["HR"]}, True),
    (ScopeOperator.NOTEQUAL, "Sales", {}, True),
    (ScopeOperator.LESSTHAN, "50000", {"memberCount": ["9"]}, True),
    (ScopeOperator.LESSTHAN, "50000", {"memberCount": ["50000"]}, False),
    (ScopeOperator.LESSTHAN_OR_EQUAL, "50000", {"memberCount": ["50000"]}, True),
    (ScopeOperator.GREATERTHAN, "b", {"x": ["c"]}, True),
    (ScopeOperator.GREATERTHAN_OR_EQUAL, "10", {"x": ["9"]}, False),
    (ScopeOperator.CONTAINS, "MSOL_", {"sAMAccountName": ["x_MSOL_y"]}, True),
    (ScopeOperator.NOTCONTAINS, "MSOL_", {"sAMAccountName": ["joe"]}, True),
    (ScopeOperator.STARTSWITH, "AAD_", {"sAMAccountName": ["AAD_123"]}, True),
    (ScopeOperator.NOTSTARTSWITH, "AAD_", {"sAMAccountName": ["AAD_123"]}, False),
    (ScopeOperator.ENDSWITH, "@contoso.com", {"mail": ["a@contoso.com"]}, True),
    (ScopeOperator.NOTENDSWITH, "@contoso.com", {"mail": ["a@fabrikam.com"]}, True),
    (ScopeOperator.ISNULL, None, {}, True),
    (ScopeOperator.ISNULL, None, {"mail": ["x"]}, False),
    (ScopeOperator.ISNOTNULL, None, {"mail": ["x"]}, True),
    (ScopeOperator.ISIN, "user;contact", {"objectClass": ["contact"]}, True),
    (ScopeOperator.ISNOTIN, "user;contact", {"objectClass": ["group"]}, True),
    (ScopeOperator.ISBITSET, "2", {"userAccountControl": ["514"]}, True),
    (ScopeOperator.ISNOTBITSET, "2", {"userAccountControl": ["512"]}, True),
    (ScopeOperator.ISBITSET, "&H2", {"userAccountControl": ["512"]}, False),
])
def test_scoping_operators(op: ScopeOperator, value: str | None, obj: dict,
                           expected: bool) -> None:
    attr = next(iter(obj), "department" if value else "mail")
    groups = [ScopingGroup([ScopingClause(attr, op, value)])]
    assert in_scope(groups, _values(obj)) is expected


def test_groups_are_ored_and_clauses_anded() -> None:
    sales_in_paris = ScopingGroup([ScopingClause("department", ScopeOperator.EQUAL, "Sales"),
                                   ScopingClause("city", ScopeOperator.EQUAL, "Paris")])
    hr = ScopingGroup([ScopingClause("department", ScopeOperator.EQUAL, "HR")])
    assert in_scope([sales_in_paris, hr], _values({"department": ["HR"]}))
    assert in_scope([sales_in_paris, hr], _values({"department": ["Sales"], "city": ["Paris"]}))
    assert not in_scope([sales_in_paris, hr], _values({"department": ["Sales"]}))
    assert in_scope([], _values({}))


def test_ismemberof_asks_the_membership() -> None:
    groups = [ScopingGroup([ScopingClause("", ScopeOperator.ISMEMBEROF, "cn=g,dc=x")])]
    assert in_scope(groups, _values({}), lambda dn: dn == "cn=g,dc=x")
    assert not in_scope(groups, _values({}), lambda dn: False)
    negative = [ScopingGroup([ScopingClause("", ScopeOperator.ISNOTMEMBEROF, "cn=g,dc=x")])]
    assert in_scope(negative, _values({}), lambda dn: False)


# --- precedence ----------------------------------------------------------------------------

def c(precedence: int, value: object, merge: MergeType = MergeType.UPDATE) -> Contribution:
    return Contribution(precedence, precedence, 1, merge, value)


def test_lowest_precedence_number_wins() -> None:
    out = resolve([c(100, ["low"]), c(10, ["high"])])
    assert out.action == "set" and out.value == ["high"] and out.lineage["rule"] == 10


def test_null_lets_a_lower_precedence_rule_contribute() -> None:
    assert resolve([c(10, None), c(100, ["fallback"])]).value == ["fallback"]
    assert resolve([c(10, None)]).action == "remove"


def test_authoritative_null_silences_lower_precedence() -> None:
    assert resolve([c(10, AUTHORITATIVE_NULL), c(100, ["fallback"])]).action == "remove"


def test_ignore_this_flow_keeps_the_target() -> None:
    assert resolve([c(10, IGNORE_THIS_FLOW)]).action == "keep"
    assert resolve([c(10, IGNORE_THIS_FLOW), c(100, ["x"])]).value == ["x"]


def test_merge_takes_the_deduplicated_union() -> None:
    out = resolve([c(10, ["a", "b"], MergeType.MERGE), c(20, ["b", "c"], MergeType.MERGE)])
    assert out.value == ["a", "b", "c"]
    ci = resolve([c(10, ["SMTP:a@x"], MergeType.MERGE_CASE_INSENSITIVE),
                  c(20, ["smtp:A@X", "b"], MergeType.MERGE_CASE_INSENSITIVE)])
    assert ci.value == ["SMTP:a@x", "b"]
    refs = resolve([c(10, RefSet(frozenset({1, 2})), MergeType.MERGE),
                    c(20, RefSet(frozenset({3})), MergeType.MERGE)])
    assert refs.value == RefSet(frozenset({1, 2, 3}))


# --- rule files ----------------------------------------------------------------------------

def test_rules_round_trip_through_yaml() -> None:
    text = """
rules:
  - name: In from AD - User Join
    direction: inbound
    connector: ad
    cs_object_type: user
    mv_object_type: person
    link_type: Provision
    precedence: 100
    scoping:
      - - {attribute: userAccountControl, operator: ISBITNOTSET, value: "2"}
    join:
      - - {cs_attribute: objectGUID, mv_attribute: sourceAnchorBinary}
      - - {cs_attribute: mail, mv_attribute: mail, case_sensitive: false}
    transformations:
      - {target: displayName, flow_type: Direct, source: displayName}
      - {target: c, flow_type: Constant, source: US, apply_once: true}
      - {target: proxyAddresses, flow_type: Expression, source: 'Trim([proxyAddresses])',
         merge_type: MergeCaseInsensitive}
"""
    rules = load_rules_text(text)
    assert rules[0].scoping[0].clauses[0].operator is ScopeOperator.ISNOTBITSET
    assert rules[0].join[1].conditions[0].case_sensitive is False
    again = load_rules_text(dump_rules(rules))
    assert [r.to_dict() for r in again] == [r.to_dict() for r in rules]
