"""Generate a realistic directory as LDIF: department OUs, inetOrgPerson users, groupOfNames.

Used by tests (small trees), the benchmark suite (S, M, L; see bench/suite.py) and the demo.
Users are ``uid=u0000001,ou=<dept>,ou=People,<suffix>``; groups ``cn=grp000001,ou=Groups,
<suffix>``; an optional ``cn=all-staff`` holds the first ``big_group`` users.

What a shape controls (all deterministic for a seed):

- group sizes (user members per group): ``loguniform`` (60% 2-20, 30% 20-200, 10% 200-2,000)
  or ``zipf`` (P(k) proportional to k^-s on [zipf_min, zipf_max]: most groups small, a few
  very large, as group sizes are in real directories);
- nesting: a fraction ``nested`` of the groups also contain 1-``nest_max`` other groups, always
  of a higher number, so the nesting is a DAG (no cycles) by construction;
- managers: an org chart about log8(users) levels deep (each manager has ~6 reports), not a
  random recursive tree (~half the users managers, ~30 levels at 250,000 users).

Because slapadd bypasses the memberof overlay, the generator writes memberOf itself (on users
and on nested groups) so offline- and online-loaded trees look the same. The memberships are
planned first, in compact arrays; the entries are then formatted one at a time (streaming).
"""

from __future__ import annotations

import itertools
import random
import re
from array import array
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from idsync.lab.ldif_text import ldif_value

FIRST = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "Chen",
         "Wei", "Aisha", "Omar", "Priya", "Yuki", "Olga", "Sofía", "José", "Zoë", "Björn", "Łukasz"]
LAST = ["Smith", "Johnson", "Brown", "Garcia", "Miller", "Lee", "Nguyen", "Patel", "Kim",
        "Müller", "Schröder", "Ødegaard", "O'Brien", "Núñez", "Dvořák", "Rossi", "Cohen", "Ali"]
TITLES = ["Engineer", "Senior Engineer", "Manager", "Director", "Analyst", "Consultant"]
DEPTS = ["Engineering", "Sales", "Finance", "HR", "Operations", "Marketing", "Legal", "Support"]

#: Each manager has between these many reports' worth of numbering (see manager_of).
SPAN = (4, 12)


@dataclass(slots=True)
class DirectoryShape:
    suffix: str = "dc=example,dc=com"
    users: int = 100
    groups: int = 10
    big_group: int = 0
    #: Users carry only uid/cn/sn (fast bulk loads for the big-group tests).
    minimal: bool = False
    seed: int = 42
    #: "loguniform" or "zipf" (see the module docstring).
    group_sizes: str = "loguniform"
    zipf_exponent: float = 2.0
    zipf_min: int = 2
    #: Upper bound of a Zipf-drawn size; 0 means the number of users.
    zipf_max: int = 0
    #: Fraction of the numbered groups that contain other groups.
    nested: float = 0.0
    nest_max: int = 5


def user_dn(shape: DirectoryShape, n: int) -> str:
    return f"uid=u{n:07d},ou={DEPTS[n % len(DEPTS)]},ou=People,{shape.suffix}"


def group_dn(shape: DirectoryShape, g: int) -> str:
    return f"cn=grp{g:06d},ou=Groups,{shape.suffix}"


def big_group_dn(shape: DirectoryShape) -> str:
    return f"cn=all-staff,ou=Groups,{shape.suffix}"


_USER_RDN = re.compile(r"uid=u(\d+),", re.IGNORECASE)


def user_number(dn: str) -> int | None:
    """The ``n`` of a generated user's DN (``uid=u0000042,...`` is 42); None for any other
    entry (a nested group, say)."""
    found = _USER_RDN.match(dn)
    return int(found.group(1)) if found else None


# --- the plan: who is in which group, who manages whom ---------------------------------------

@dataclass(slots=True)
class GroupPlan:
    """The memberships of a shape, before any LDIF is written. Index g-1 is group ``g``."""

    #: User members of each numbered group (user numbers).
    members: list[array] = field(default_factory=list)
    #: Groups each numbered group contains (group numbers, all higher than the group's own).
    children: dict[int, list[int]] = field(default_factory=dict)

    def sizes(self) -> list[int]:
        return [len(m) for m in self.members]


def _rng(shape: DirectoryShape, stream: int) -> random.Random:
    # One independent stream per aspect: changing how groups are drawn does not reshuffle
    # the users' names or managers.
    return random.Random(shape.seed * 1_000 + stream)


def _loguniform_sizes(rng: random.Random, users: int, count: int) -> list[int]:
    sizes = []
    for _ in range(count):
        r = rng.random()
        lo, hi = (2, 20) if r < 0.6 else (20, 200) if r < 0.9 else (200, 2000)
        sizes.append(max(1, min(users, int(lo * (hi / lo) ** rng.random()))))
    return sizes


def zipf_bounds(shape: DirectoryShape) -> tuple[int, int]:
    """The closed range a Zipf-drawn group size falls in."""
    hi = min(shape.users, shape.zipf_max or shape.users)
    return min(shape.zipf_min, hi), hi


def _zipf_sizes(rng: random.Random, shape: DirectoryShape, count: int) -> list[int]:
    lo, hi = zipf_bounds(shape)
    if hi < 1 or count == 0:
        return [0] * count
    # Inverse transform over the cumulative weights of the bounded discrete law; building
    # them is one pass over [lo, hi] (~30 ms for 250,000), each draw a bisection.
    cum = list(itertools.accumulate(k ** -shape.zipf_exponent for k in range(lo, hi + 1)))
    return rng.choices(range(lo, hi + 1), cum_weights=cum, k=count)


def plan_groups(shape: DirectoryShape) -> GroupPlan:
    """Draw each numbered group's user members and nested groups (the all-staff group is
    implicit: the users 1..big_group)."""
    rng = _rng(shape, 1)
    if shape.group_sizes == "zipf":
        sizes = _zipf_sizes(rng, shape, shape.groups)
    elif shape.group_sizes == "loguniform":
        sizes = _loguniform_sizes(rng, shape.users, shape.groups)
    else:
        raise ValueError(f"unknown group_sizes {shape.group_sizes!r}")
    nums = range(1, shape.users + 1)
    plan = GroupPlan(members=[array("i", rng.sample(nums, k)) for k in sizes])
    if shape.nested > 0:
        nest = _rng(shape, 2)
        for g in range(1, shape.groups):
            if nest.random() < shape.nested:
                later = range(g + 1, shape.groups + 1)
                plan.children[g] = sorted(nest.sample(later, nest.randint(
                    1, min(shape.nest_max, len(later)))))
    return plan


def largest_group(shape: DirectoryShape) -> tuple[str, int]:
    """The DN and generated user-member count of the shape's largest group: the all-staff
    group when it is at least as large as every numbered group (M's 50,000, L's 250,000),
    otherwise the numbered group with the most user members (the lowest number of equals)."""
    bound = zipf_bounds(shape)[1] if shape.group_sizes == "zipf" else min(shape.users, 2000)
    if shape.big_group and shape.big_group >= bound:
        return big_group_dn(shape), shape.big_group  # no numbered group can be larger
    sizes = plan_groups(shape).sizes() if shape.groups else []
    top = max(sizes, default=0)
    if shape.big_group and shape.big_group >= top:
        return big_group_dn(shape), shape.big_group
    if not top:
        raise ValueError("the shape has no group with members")
    g = sizes.index(top) + 1
    return group_dn(shape, g), top


def churn_counts(members: int, fraction: float = 0.01) -> tuple[int, int]:
    """(removes, adds) of a ``fraction`` churn of a group of ``members``: at least one of each,
    half and half (an odd count gives the extra change to the adds)."""
    changes = max(2, round(members * fraction))
    return changes // 2, changes - changes // 2


def pick_membership_churn(members: Collection[int], candidates: Iterable[int],
                          rng: random.Random, fraction: float = 0.01
                          ) -> tuple[list[int], list[int]]:
    """A ``fraction`` churn of a group whose user members are ``members``: (removed, added)
    user numbers, each sorted. Removed ones are members; added ones are ``candidates`` that
    are not members yet. Raises ValueError when there are too few of either."""
    n_remove, n_add = churn_counts(len(members), fraction)
    outside = sorted(set(candidates).difference(members))
    if len(members) < n_remove or len(outside) < n_add:
        raise ValueError(f"a churn of {n_remove} removes and {n_add} adds needs that many "
                         f"members ({len(members)}) and non-members ({len(outside)})")
    return sorted(rng.sample(sorted(members), n_remove)), sorted(rng.sample(outside, n_add))


def manager_of(rng: random.Random, n: int) -> int:
    """User ``n``'s manager (0: none). A user's manager is numbered about n/8 (between n/12
    and n/4), so user 1 heads an org chart ~log8(users) levels deep with ~6 reports per
    manager; 10% of users have no manager (vacancies, service accounts)."""
    if n < 2 or rng.random() >= 0.9:
        return 0
    return rng.randint((n - 2) // SPAN[1] + 1, (n - 2) // SPAN[0] + 1)


def managers(shape: DirectoryShape) -> Iterator[int]:
    """Each user's manager in user order (0: none); the same stream generate() writes."""
    rng = _rng(shape, 3)
    for n in range(1, shape.users + 1):
        yield manager_of(rng, n)


# --- LDIF -----------------------------------------------------------------------------------

def _line(attr: str, value: str) -> str:
    # Most values are ASCII DNs and numbers: skip ldif_value's per-byte scan for them (it is
    # most of the generation time at L). Anything else goes through the RFC 2849 check.
    if value.isascii() and value.isprintable() and value[:1] not in ("", " ", ":", "<") \
            and not value.endswith(" "):
        return f"{attr}: {value}\n"
    return ldif_value(attr, value)


def _entry(dn: str, attrs: dict[str, list[str] | str]) -> str:
    lines = [_line("dn", dn)]
    for name, values in attrs.items():
        if isinstance(values, str):
            lines.append(_line(name, values))
        else:
            lines.extend(_line(name, v) for v in values)
    return "".join(lines) + "\n"


def generate(shape: DirectoryShape) -> Iterator[str]:
    """Yield LDIF entries (without the suffix, ou=People and ou=Groups)."""
    people = f"ou=People,{shape.suffix}"
    for d in DEPTS:
        yield _entry(f"ou={d},{people}", {"objectClass": "organizationalUnit", "ou": d})
    plan = plan_groups(shape)
    gdns = [group_dn(shape, g) for g in range(1, shape.groups + 1)]
    big = big_group_dn(shape) if shape.big_group else None
    # memberOf per user as group numbers (compact); the big group is added by range below.
    member_of: dict[int, list[int]] = {}
    for g, members in enumerate(plan.members, start=1):
        for n in members:
            member_of.setdefault(n, []).append(g)
    parents: dict[int, list[int]] = {}
    for g, kids in plan.children.items():
        for c in kids:
            parents.setdefault(c, []).append(g)
    rng = _rng(shape, 0)
    boss = managers(shape)
    for n in range(1, shape.users + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        attrs: dict[str, list[str] | str] = {
            "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson"],
            "uid": f"u{n:07d}", "cn": f"{first} {last}", "sn": last}
        m = next(boss)
        if not shape.minimal:
            attrs.update({"givenName": first, "displayName": f"{last}, {first}",
                          "mail": f"u{n:07d}@example.com", "employeeNumber": str(n),
                          "title": rng.choice(TITLES), "departmentNumber": DEPTS[n % len(DEPTS)]})
            if m:
                attrs["manager"] = user_dn(shape, m)
        of = [gdns[g - 1] for g in member_of.get(n, ())]
        if big and n <= shape.big_group:
            of.append(big)
        if of:
            attrs["memberOf"] = of
        yield _entry(user_dn(shape, n), attrs)
    for g, members in enumerate(plan.members, start=1):
        attrs = {"objectClass": ["top", "groupOfNames"], "cn": f"grp{g:06d}",
                 "member": [user_dn(shape, n) for n in members]
                 + [gdns[c - 1] for c in plan.children.get(g, ())]}
        if g in parents:
            attrs["memberOf"] = [gdns[p - 1] for p in parents[g]]
        yield _entry(gdns[g - 1], attrs)
    if big:
        yield _entry(big, {"objectClass": ["top", "groupOfNames"], "cn": "all-staff",
                           "member": [user_dn(shape, n) for n in range(1, shape.big_group + 1)]})


def write_ldif(shape: DirectoryShape, out: TextIO) -> int:
    """Write the LDIF; return the number of entries written."""
    count = 0
    for entry in generate(shape):
        out.write(entry)
        count += 1
    return count
