"""Generate a realistic directory as LDIF: department OUs, inetOrgPerson users, groupOfNames.

Used by tests (small trees), the benchmark (100,000 users) and the demo. Users are
``uid=u0000001,ou=<dept>,ou=People,<suffix>``; groups ``cn=grp000001,ou=Groups,<suffix>``; an
optional ``cn=all-staff`` holds the first ``big_group`` users. Because slapadd bypasses the
memberof overlay, the generator writes memberOf itself so offline- and online-loaded trees
look the same.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from idsync.testing.slapd import ldif_entry

FIRST = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "Chen",
         "Wei", "Aisha", "Omar", "Priya", "Yuki", "Olga", "Sofía", "José", "Zoë", "Björn", "Łukasz"]
LAST = ["Smith", "Johnson", "Brown", "Garcia", "Miller", "Lee", "Nguyen", "Patel", "Kim",
        "Müller", "Schröder", "Ødegaard", "O'Brien", "Núñez", "Dvořák", "Rossi", "Cohen", "Ali"]
TITLES = ["Engineer", "Senior Engineer", "Manager", "Director", "Analyst", "Consultant"]
DEPTS = ["Engineering", "Sales", "Finance", "HR", "Operations", "Marketing", "Legal", "Support"]


@dataclass(slots=True)
class DirectoryShape:
    suffix: str = "dc=example,dc=com"
    users: int = 100
    groups: int = 10
    big_group: int = 0
    #: Users carry only uid/cn/sn (fast bulk loads for the big-group tests).
    minimal: bool = False
    seed: int = 42


def user_dn(shape: DirectoryShape, n: int) -> str:
    return f"uid=u{n:07d},ou={DEPTS[n % len(DEPTS)]},ou=People,{shape.suffix}"


def group_dn(shape: DirectoryShape, g: int) -> str:
    return f"cn=grp{g:06d},ou=Groups,{shape.suffix}"


def big_group_dn(shape: DirectoryShape) -> str:
    return f"cn=all-staff,ou=Groups,{shape.suffix}"


def _group_size(rng: random.Random, users: int) -> int:
    r = rng.random()
    lo, hi = (2, 20) if r < 0.6 else (20, 200) if r < 0.9 else (200, 2000)
    return max(1, min(users, int(lo * (hi / lo) ** rng.random())))


def generate(shape: DirectoryShape) -> Iterator[str]:
    """Yield LDIF entries (without the suffix, ou=People and ou=Groups)."""
    rng = random.Random(shape.seed)
    people = f"ou=People,{shape.suffix}"
    for d in DEPTS:
        yield ldif_entry(f"ou={d},{people}", {"objectClass": "organizationalUnit", "ou": d})
    nums = range(1, shape.users + 1)
    groups = [(group_dn(shape, g), rng.sample(nums, _group_size(rng, shape.users)))
              for g in range(1, shape.groups + 1)]
    if shape.big_group:
        groups.append((big_group_dn(shape), list(nums)[: shape.big_group]))
    member_of: dict[int, list[str]] = {}
    for gdn, members in groups:
        for n in members:
            member_of.setdefault(n, []).append(gdn)
    for n in nums:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        attrs: dict[str, list[str] | str] = {
            "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson"],
            "uid": f"u{n:07d}", "cn": f"{first} {last}", "sn": last}
        if not shape.minimal:
            attrs.update({"givenName": first, "displayName": f"{last}, {first}",
                          "mail": f"u{n:07d}@example.com", "employeeNumber": str(n),
                          "title": rng.choice(TITLES), "departmentNumber": DEPTS[n % len(DEPTS)]})
            if n > 1 and rng.random() < 0.9:
                attrs["manager"] = user_dn(shape, rng.randrange(1, n))
        if n in member_of:
            attrs["memberOf"] = member_of[n]
        yield ldif_entry(user_dn(shape, n), attrs)
    for gdn, members in groups:
        yield ldif_entry(gdn, {"objectClass": ["top", "groupOfNames"],
                               "cn": gdn.split(",")[0][3:],
                               "member": [user_dn(shape, n) for n in members]})


def write_ldif(shape: DirectoryShape, out: TextIO) -> int:
    """Write the LDIF; return the number of entries written."""
    count = 0
    for entry in generate(shape):
        out.write(entry)
        count += 1
    return count
