"""A deterministic, realistic sample directory (Contoso) written as LDIF, streaming to disk.

Same arguments, same bytes: every random choice comes from one ``random.Random(seed)``, and
entryUUIDs are drawn from it too. Memory holds the user DNs (for managers and groups), never
the file; a 250,000-member group is written line by line.
"""

from __future__ import annotations

import functools
import os
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from idsync.filedir.ldif import ContentRecord, Value, format_attribute, format_record

BASE_DN = "dc=contoso,dc=com"
FIRST_NAMES = (
    "Adele", "Alex", "Allan", "Ben", "Bianca", "Christie", "Debra", "Diego", "Emily", "Enrico",
    "Grady", "Henrietta", "Irvin", "Isaiah", "Johanna", "Joni", "Lee", "Lidia", "Lynne", "Megan",
    "Miriam", "Nestor", "Patti", "Pradeep", "Raul", "Sara", "Tomás", "Zoë", "Björn", "José",
    "Amélie", "Søren", "Mei", "Hiroshi", "Aisha", "Olga", "Chloé", "Mateo", "Priya", "Kwame",
)
LAST_NAMES = (
    "Vance", "Wilber", "Deyoung", "Walker", "Toro", "Cline", "Berg", "Zárate", "Braun", "Gray",
    "Archie", "Cunningham", "Bellows", "Wilson", "Lauer", "Sherman", "Gu", "Holloway", "Robbins",
    "Bowen", "Caldwell", "Wilkins", "Fernandez", "Gupta", "Rincón", "Davis", "Müller", "Nakamura",
    "O'Brien", "Smith", "García", "Johansson", "Kowalski", "Nguyen", "Okafor", "Petrov", "Rossi",
    "Schmidt", "Tanaka", "Dubois",
)
DEPARTMENTS = (
    "Sales", "Marketing", "Engineering", "Finance", "Human Resources", "Legal", "Operations",
    "Research", "Support", "IT",
)
TITLES = (
    "Analyst", "Engineer", "Senior Engineer", "Consultant", "Specialist", "Coordinator",
    "Manager", "Director", "Administrator", "Associate",
)
TEAM_WORDS = (
    "Project", "Team", "Committee", "Guild", "Taskforce", "Working Group", "Squad", "Council",
)
TEAM_TOPICS = (
    "Apollo", "Borealis", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Helix", "Iris",
    "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orion", "Pioneer", "Quartz", "Raven",
    "Summit", "Tundra",
)
USER_CLASSES = ["top", "person", "organizationalPerson", "inetOrgPerson"]
CONTACT_CLASSES = ["top", "person", "organizationalPerson", "contact"]


@dataclass(slots=True)
class DirectorySummary:
    """What :func:`generate_directory` wrote."""

    path: str
    users: int
    disabled_users: int
    groups: int
    contacts: int
    largest_group: int
    memberships: int
    entries: int
    group_sizes: dict[str, int] = field(default_factory=dict)


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in "-"))
    return kept.lower()


def _uuid(rng: random.Random) -> str:
    """A random (version 4) UUID drawn from ``rng``, formatted without the uuid module's
    overhead (this runs once per entry)."""
    bits = rng.getrandbits(128)
    bits = (bits & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@functools.lru_cache(maxsize=4096)
def _line(name: str, value: str) -> str:
    return format_attribute(name, value).decode("ascii")


def _user_entry(dn: str, uid: str, first: str, last: str, mail: str, employee_id: str,
                department: str, title: str, phone: str, entry_uuid: str,
                manager: str | None) -> bytes:
    # The hot loop of a 250,000-user directory: one template instead of format_record.
    # Only the name lines can need base64 (cached), the DN lines can need folding.
    text = (
        f"{format_attribute('dn', dn).decode('ascii')}"
        "objectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\n"
        f"objectClass: inetOrgPerson\nuid: {uid}\n"
        f"{_line('cn', f'{first} {last}')}{_line('sn', last)}{_line('givenName', first)}"
        f"{_line('displayName', f'{first} {last}')}"
        f"mail: {mail}\nuserPrincipalName: {mail}\nemployeeID: {employee_id}\n"
        f"department: {department}\ntitle: {title}\ntelephoneNumber: {phone}\n"
        f"entryUUID: {entry_uuid}\n"
    )
    if manager is not None:
        text += format_attribute("manager", manager).decode("ascii")
    return (text + "\n").encode("ascii")


def _entry(dn: str, attributes: dict[str, list[Value]]) -> bytes:
    return format_record(ContentRecord(dn, attributes))


def generate_directory(
    path: str | os.PathLike[str],
    users: int = 1000,
    groups: int = 100,
    seed: int = 1,
    *,
    contacts: int | None = None,
    base_dn: str = BASE_DN,
    disabled_fraction: float = 0.02,
    large_group_size: int | None = None,
) -> DirectorySummary:
    """Write a sample directory to ``path``: the base entry, OUs (Users, Groups, Contacts,
    Disabled Users), ``users`` inetOrgPerson users (a manager hierarchy, a few in the Disabled
    OU), ``groups`` groupOfNames of mixed sizes (all employees, departments, a few nested
    groups, one with a single member, many small teams), and ``contacts`` contacts (default
    users // 20). ``large_group_size`` sets the size of "All Employees" (default: every user).
    """
    rng = random.Random(seed)
    path = os.fspath(path)
    contacts = users // 20 if contacts is None else contacts
    domain = _domain(base_dn)
    ous = {name: f"ou={name},{base_dn}" for name in
           ("Users", "Groups", "Contacts", "Disabled Users")}
    summary = DirectorySummary(path, users, 0, 0, contacts, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"version: 1\n\n")
        out.write(_entry(base_dn, {"objectClass": ["top", "dcObject", "organization"],
                                   "dc": [base_dn.split(",")[0].split("=")[1]],
                                   "o": ["Contoso"]}))
        for name, dn in ous.items():
            out.write(_entry(dn, {"objectClass": ["top", "organizationalUnit"], "ou": [name],
                                  "entryUUID": [_uuid(rng)]}))
        summary.entries = 1 + len(ous)
        user_dns, departments, managers = _write_users(out, rng, users, ous, domain,
                                             disabled_fraction, summary)
        plans = _plan_groups(rng, groups, user_dns, departments, managers, ous["Groups"],
                             large_group_size)
        _write_groups(out, rng, plans, ous["Groups"], domain, summary)
        _write_contacts(out, rng, contacts, ous["Contacts"], summary)
    return summary


def _domain(base_dn: str) -> str:
    parts = [rdn.split("=", 1)[1] for rdn in base_dn.split(",") if rdn.lower().startswith("dc=")]
    return ".".join(parts) or "contoso.com"


def _write_users(out: BinaryIO, rng: random.Random, count: int, ous: dict[str, str], domain: str,
                 disabled_fraction: float,
                 summary: DirectorySummary) -> tuple[list[str], list[list[int]], set[int]]:
    user_dns: list[str] = []
    managers: set[int] = set()
    seen: set[str] = set()
    by_department: list[list[int]] = [[] for _ in DEPARTMENTS]
    chunk: list[bytes] = []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        uid = f"{_ascii(first)}.{_ascii(last)}"
        if uid in seen:
            uid = f"{uid}{index}"
        seen.add(uid)
        disabled = index > 0 and rng.random() < disabled_fraction
        ou = ous["Disabled Users"] if disabled else ous["Users"]
        dn = f"uid={uid},{ou}"
        user_dns.append(dn)
        department = rng.randrange(len(DEPARTMENTS))
        if not disabled:
            by_department[department].append(index)
        summary.disabled_users += disabled
        manager = None
        if index > 0:
            # A tree: each user reports to someone created earlier, about eight per manager.
            manager = rng.randrange(max(1, index // 8))
            managers.add(manager)
        chunk.append(_user_entry(
            dn, uid, first, last, f"{uid}@{domain}", f"E{100000 + index}",
            DEPARTMENTS[department], rng.choice(TITLES),
            f"+1 425 555 {rng.randrange(10000):04d}", _uuid(rng),
            user_dns[manager] if manager is not None else None))
        if len(chunk) >= 1000:
            out.write(b"".join(chunk))
            chunk.clear()
    out.write(b"".join(chunk))
    summary.entries += count
    return user_dns, by_department, managers


@dataclass(slots=True)
class _GroupPlan:
    name: str
    members: Iterator[str]
    size: int
    description: str


def _plan_groups(rng: random.Random, count: int, user_dns: list[str],
                 departments: list[list[int]], managers: set[int], groups_ou: str,
                 large_group_size: int | None) -> list[_GroupPlan]:
    def dn(name: str) -> str:
        return f"cn={name},{groups_ou}"

    enabled = [i for members in departments for i in members]
    enabled.sort()
    plans: list[_GroupPlan] = []
    all_size = len(enabled) if large_group_size is None else min(large_group_size,
                                                                  len(user_dns))
    source = enabled if large_group_size is None else range(all_size)
    plans.append(_GroupPlan("All Employees", (user_dns[i] for i in source), all_size,
                            "Every active employee"))
    for name, members in zip(DEPARTMENTS, departments, strict=True):
        plans.append(_GroupPlan(f"Dept {name}", (user_dns[i] for i in members), len(members),
                                f"Members of the {name} department"))
    bosses = sorted(managers)
    plans.append(_GroupPlan("Managers", (user_dns[i] for i in bosses), len(bosses),
                            "Everyone with direct reports"))
    dept_dns = [dn(f"Dept {name}") for name in DEPARTMENTS[:4]]
    plans.append(_GroupPlan("Regional Leads", iter(dept_dns[:2] + user_dns[:3]),
                            min(2, len(dept_dns)) + min(3, len(user_dns)),
                            "Nested: two department groups and three people"))
    plans.append(_GroupPlan("Business Units", iter(dept_dns), len(dept_dns),
                            "Nested: department groups only"))
    plans.append(_GroupPlan("Dormant Project", iter(user_dns[:1]), min(1, len(user_dns)),
                            "Nearly empty: a single member"))
    plans = plans[:count]
    fixed = len(plans)
    team = 0
    while len(plans) < count:
        team += 1
        name = f"{rng.choice(TEAM_TOPICS)} {rng.choice(TEAM_WORDS)} {team}"
        # Mostly small teams, now and then a mid-size one; a few nest an earlier team.
        size = min(len(user_dns), rng.choice((2, 3, 5, 8, 12, 20, 35, 60, 150)))
        picked = [user_dns[i] for i in sorted(rng.sample(range(len(user_dns)), size))]
        if team % 10 == 0 and len(plans) > fixed:
            picked.append(dn(plans[rng.randrange(fixed, len(plans))].name))
        plans.append(_GroupPlan(name, iter(picked), len(picked), f"{name} members"))
    return plans


def _write_groups(out: BinaryIO, rng: random.Random, plans: list[_GroupPlan], groups_ou: str,
                  domain: str, summary: DirectorySummary) -> None:
    for plan in plans:
        if plan.size == 0:
            continue  # groupOfNames needs a member; a directory with no users has no groups
        dn = f"cn={plan.name},{groups_ou}"
        mail = plan.name.lower().replace(" ", "-")
        head = format_record(ContentRecord(dn, {
            "objectClass": ["top", "groupOfNames"],
            "cn": [plan.name],
            "description": [plan.description],
            "mail": [f"{mail}@{domain}"],
            "entryUUID": [_uuid(rng)],
        }))
        out.write(head[:-1])  # drop the blank separator: member lines follow
        chunk: list[bytes] = []
        written = 0
        for member in plan.members:
            chunk.append(format_attribute("member", member))
            written += 1
            if len(chunk) >= 5000:
                out.write(b"".join(chunk))
                chunk.clear()
        chunk.append(b"\n")
        out.write(b"".join(chunk))
        summary.groups += 1
        summary.memberships += written
        summary.largest_group = max(summary.largest_group, written)
        summary.group_sizes[plan.name] = written
        summary.entries += 1


def _write_contacts(out: BinaryIO, rng: random.Random, count: int, contacts_ou: str,
                    summary: DirectorySummary) -> None:
    partners = ("fabrikam.com", "northwindtraders.com", "adventure-works.com", "tailspin.com")
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last} ({index})"
        out.write(_entry(f"cn={name},{contacts_ou}", {
            "objectClass": list(CONTACT_CLASSES),
            "cn": [name],
            "sn": [last],
            "givenName": [first],
            "displayName": [f"{first} {last}"],
            "mail": [f"{_ascii(first)}.{_ascii(last)}{index}@{rng.choice(partners)}"],
            "entryUUID": [_uuid(rng)],
        }))
    summary.entries += count
