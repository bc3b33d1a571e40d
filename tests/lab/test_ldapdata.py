"""The generated directory (idsync.lab.ldapdata) behind the tests and the benchmark suite:
deterministic, group sizes within their law's bounds, nesting without cycles, managers that
exist, memberOf the exact inverse of member. Pure Python: no slapd needed."""

from __future__ import annotations

import base64
import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from idsync.lab.ldapdata import (
    DirectoryShape,
    big_group_dn,
    churn_counts,
    generate,
    group_dn,
    largest_group,
    managers,
    pick_membership_churn,
    plan_groups,
    user_dn,
    user_number,
    zipf_bounds,
)


def parse(ldif: str) -> dict[str, dict[str, list[str]]]:
    """The entries of generate()'s LDIF (no line folding: it never folds)."""
    entries: dict[str, dict[str, list[str]]] = {}
    for block in ldif.strip("\n").split("\n\n"):
        attrs: dict[str, list[str]] = {}
        for line in block.split("\n"):
            name, sep, value = line.partition(": ")
            if name.endswith(":"):  # "attr:: base64"
                name, value = name[:-1], base64.b64decode(value).decode()
            assert sep, line
            attrs.setdefault(name, []).append(value)
        (dn,) = attrs.pop("dn")
        assert dn not in entries
        entries[dn] = attrs
    return entries


@st.composite
def shapes(draw: st.DrawFn) -> DirectoryShape:
    users = draw(st.integers(1, 400))
    return DirectoryShape(
        users=users,
        groups=draw(st.integers(0, 60)),
        big_group=draw(st.integers(0, users)),
        minimal=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
        group_sizes=draw(st.sampled_from(["loguniform", "zipf"])),
        zipf_exponent=draw(st.floats(0.5, 3.0)),
        zipf_min=draw(st.integers(1, 10)),
        zipf_max=draw(st.integers(0, 500)),
        nested=draw(st.sampled_from([0.0, 0.05, 0.5, 1.0])),
        nest_max=draw(st.integers(1, 6)))


@settings(max_examples=60, deadline=None)
@given(shapes())
def test_plan_respects_bounds_and_nesting_is_acyclic(shape: DirectoryShape) -> None:
    plan = plan_groups(shape)
    assert len(plan.members) == shape.groups
    lo, hi = zipf_bounds(shape) if shape.group_sizes == "zipf" else (1, min(shape.users, 2000))
    for members in plan.members:
        assert lo <= len(members) <= hi
        assert len(set(members)) == len(members)
        assert all(1 <= n <= shape.users for n in members)
    for g, kids in plan.children.items():
        # Each group contains only higher-numbered groups: every path strictly increases,
        # so no path comes back to where it started.
        assert 1 <= len(kids) <= shape.nest_max
        assert all(g < c <= shape.groups for c in kids)
        assert len(set(kids)) == len(kids)
    if shape.nested == 0:
        assert not plan.children


@settings(max_examples=40, deadline=None)
@given(shapes())
def test_ldif_is_consistent(shape: DirectoryShape) -> None:
    entries = parse("".join(generate(shape)))
    users = {dn: a for dn, a in entries.items() if "inetOrgPerson" in a["objectClass"]}
    groups = {dn: a for dn, a in entries.items() if "groupOfNames" in a["objectClass"]}
    assert len(users) == shape.users
    assert len(groups) == shape.groups + (1 if shape.big_group else 0)
    # memberOf is exactly the inverse of member (users and nested groups alike), and every
    # member names an entry of the directory.
    expected: dict[str, set[str]] = {}
    for gdn, attrs in groups.items():
        assert attrs["member"], gdn  # groupOfNames needs one
        assert len(set(attrs["member"])) == len(attrs["member"])
        for m in attrs["member"]:
            assert m in entries
            expected.setdefault(m, set()).add(gdn)
    for dn, attrs in entries.items():
        assert set(attrs.get("memberOf", [])) == expected.get(dn, set()), dn
    # no cycle in the nesting: a depth-first walk of group members never meets its own path
    def walk(gdn: str, path: frozenset[str]) -> None:
        assert gdn not in path
        for m in groups[gdn].get("member", []):
            if m in groups:
                walk(m, path | {gdn})

    for gdn in groups:
        walk(gdn, frozenset())
    for dn, attrs in users.items():
        for m in attrs.get("manager", []):
            assert m in users and m != dn


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3000), st.integers(0, 2**16))
def test_managers_form_a_forest_of_earlier_users(users: int, seed: int) -> None:
    for n, m in enumerate(managers(DirectoryShape(users=users, seed=seed)), start=1):
        assert m == 0 or 1 <= m < n


def test_generation_is_deterministic_for_a_seed() -> None:
    shape = DirectoryShape(users=300, groups=30, big_group=100, group_sizes="zipf", nested=0.2)
    again = DirectoryShape(users=300, groups=30, big_group=100, group_sizes="zipf", nested=0.2)
    other = DirectoryShape(users=300, groups=30, big_group=100, group_sizes="zipf", nested=0.2,
                           seed=43)
    assert "".join(generate(shape)) == "".join(generate(again))
    assert "".join(generate(shape)) != "".join(generate(other))


def test_zipf_sizes_follow_the_law() -> None:
    # L's law (s=2 on [2, users]) on enough groups to compare frequencies with the
    # probabilities: P(k) = k^-2 / sum(j^-2 for j in [2, users]).
    shape = DirectoryShape(users=50_000, groups=20_000, group_sizes="zipf", zipf_exponent=2.0)
    sizes = plan_groups(shape).sizes()
    norm = sum(k ** -2.0 for k in range(2, shape.users + 1))
    counts = Counter(sizes)
    for k in (2, 3, 4, 5):
        expected = shape.groups * k ** -2.0 / norm
        assert abs(counts[k] - expected) < 5 * expected ** 0.5, (k, counts[k], expected)
    # heavy tail: a few large groups, far above the median
    assert sorted(sizes)[len(sizes) // 2] <= 4
    assert max(sizes) >= 1_000


def test_org_chart_is_shallow_with_a_realistic_span() -> None:
    shape = DirectoryShape(users=250_000)
    boss = [0, *managers(shape)]
    depth = [0] * len(boss)
    for n in range(1, len(boss)):
        depth[n] = depth[boss[n]] + 1 if boss[n] else 0
    assert max(depth) <= 10
    reports = Counter(m for m in boss[1:] if m)
    assert 4 <= shape.users * 0.9 / len(reports) <= 10  # reports per manager


# --- the large-group churn of the benchmark suite (bench/suite.py big_group_cycle) ----------

@settings(max_examples=60, deadline=None)
@given(shapes())
def test_largest_group_is_the_one_with_most_user_members(shape: DirectoryShape) -> None:
    sizes = plan_groups(shape).sizes()
    if not shape.big_group and not any(sizes):
        return
    dn, size = largest_group(shape)
    assert size == max([shape.big_group, *sizes])
    if dn == big_group_dn(shape):
        assert size == shape.big_group
    else:
        assert dn == group_dn(shape, sizes.index(size) + 1)
        assert size > shape.big_group


def test_largest_group_of_the_suite_sizes() -> None:
    from bench.suite import SIZES

    assert largest_group(SIZES["L"]) == (big_group_dn(SIZES["L"]), 250_000)
    assert largest_group(SIZES["M"]) == (big_group_dn(SIZES["M"]), 50_000)
    dn, size = largest_group(SIZES["S"])
    assert dn != big_group_dn(SIZES["S"]) and size == max(plan_groups(SIZES["S"]).sizes())


def test_user_number_reads_generated_user_dns_only() -> None:
    shape = DirectoryShape()
    assert user_number(user_dn(shape, 42)) == 42
    assert user_number(user_dn(shape, 1_234_567)) == 1_234_567
    assert user_number(group_dn(shape, 42)) is None
    assert user_number(big_group_dn(shape)) is None


def test_churn_counts_are_one_percent_half_and_half() -> None:
    assert churn_counts(250_000) == (1_250, 1_250)
    assert churn_counts(50_000) == (250, 250)
    assert churn_counts(1_813) == (9, 9)
    assert churn_counts(2_100) == (10, 11)  # an odd count: the adds get the extra change
    assert churn_counts(3) == (1, 1)


@given(st.sets(st.integers(1, 500), min_size=1), st.sets(st.integers(1, 700)),
       st.integers(0, 2**16))
def test_membership_churn_removes_members_and_adds_non_members(
        members: set[int], candidates: set[int], seed: int) -> None:
    n_remove, n_add = churn_counts(len(members), 0.1)
    outside = candidates - members
    if len(members) < n_remove or len(outside) < n_add:
        try:
            pick_membership_churn(members, candidates, random.Random(seed), 0.1)
        except ValueError:
            return
        raise AssertionError("expected ValueError")
    removed, added = pick_membership_churn(members, candidates, random.Random(seed), 0.1)
    assert (len(removed), len(added)) == (n_remove, n_add)
    assert removed == sorted(set(removed)) and set(removed) <= members
    assert added == sorted(set(added)) and set(added) <= outside
    # deterministic for a seed, whatever order the inputs come in
    assert (removed, added) == pick_membership_churn(
        sorted(members, reverse=True), list(candidates), random.Random(seed), 0.1)
