"""The LDIF part of the bad-input corpus (tests/badinput/ldif/): the directory every case starts
from, and how a case file is read.

Every case is ``NAME.ldif`` (the source directory's content file, or its changes file for a
delta case) and ``NAME.yaml`` (what it is about and what must come out of it). A content file
case holds alice, the group and a new user dave as they are, the case's record(s) where bob's
record was, and no carol: whatever the bad record does, dave must be imported, alice and the
group must not change, and carol is inferred deleted exactly when the case says deletes are
not withheld.

In the case files ``{workspace}`` stands for the workspace folder and ``{megabyte}`` for a
1 MiB value (kept out of git).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CASES = Path(__file__).parent / "ldif"
SOURCE_BASE = "dc=contoso,dc=com"
MEGABYTE = "x" * (1 << 20)


def user(uid: str, number: int, *extra: str) -> str:
    lines = [f"dn: uid={uid},ou=Users,{SOURCE_BASE}", "objectClass: top",
             "objectClass: inetOrgPerson", f"uid: {uid}", f"cn: {uid.title()} Example",
             "sn: Example", f"givenName: {uid.title()}",
             f"entryUUID: 00000000-0000-4000-8000-{number:012d}", *extra]
    return "\n".join(lines) + "\n"


ALICE = user("alice", 1, "description: the first user")
BOB = user("bob", 2, "description: the second user")
CAROL = user("carol", 3)
DAVE = user("dave", 4, "description: a new user in the same file")
GROUP = "\n".join([f"dn: cn=Staff,ou=Groups,{SOURCE_BASE}", "objectClass: groupOfNames",
                   "cn: Staff", f"member: uid=alice,ou=Users,{SOURCE_BASE}",
                   f"member: uid=bob,ou=Users,{SOURCE_BASE}",
                   "entryUUID: 00000000-0000-4000-8000-000000000100"]) + "\n"

#: The source directory before every case.
BASELINE = "version: 1\n\n" + "\n".join([ALICE, BOB, CAROL, GROUP])


def dn_of(uid: str) -> str:
    return f"uid={uid},ou=Users,{SOURCE_BASE}"


@dataclass
class Case:
    name: str
    data: bytes
    about: str
    kind: str = "full"
    errors: list[dict[str, Any]] = field(default_factory=list)
    deletes_withheld: bool = False
    #: Baseline users whose record the case changes on purpose (legal input).
    changed: list[str] = field(default_factory=list)
    #: DN -> attribute -> values the import must show.
    imported: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)
    #: Delta cases: DN -> attribute -> values the good change records must have applied.
    applied: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def load_cases() -> list[Case]:
    cases = []
    for data_file in sorted(CASES.glob("*.ldif")):
        spec = yaml.safe_load(data_file.with_suffix(".yaml").read_text())
        cases.append(Case(data_file.stem, data_file.read_bytes(), **spec))
    return cases


def expand(text: str, workspace: Path) -> str:
    return text.replace("{workspace}", str(workspace)).replace("{megabyte}", MEGABYTE)
