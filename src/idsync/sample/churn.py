"""Seeded churn on a file directory: the changes a day in a real directory brings.

Fractions are of the number of users in the directory. Changes go through
``idsync.connectors.file.apply_changes``: the content file is rewritten once and every change
lands in the changelog, so a delta import sees exactly this churn.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

from idsync.connectors.file import (
    AddRecord,
    ChangeRecord,
    DeleteRecord,
    ModDnRecord,
    Modification,
    ModifyRecord,
    apply_changes,
    default_changes_path,
    read_ldif,
)
from idsync.filedir.dn import normalize_dn, parent_dn, rdn_of
from idsync.filedir.ldif import (
    ContentRecord,
    get_values,
    iter_raw_records,
    parse_raw,
    raw_dn,
)
from idsync.sample.generator import DEPARTMENTS, TITLES, _uuid


@dataclass(slots=True)
class ChurnSummary:
    creates: int
    deletes: int
    modifies: int
    moves: int
    member_adds: int
    member_removes: int
    #: The changelog's size before and after: a delta import from ``start_offset`` reads
    #: exactly this churn.
    start_offset: int
    end_offset: int

    @property
    def records(self) -> int:
        return (self.creates + self.deletes + self.modifies + self.moves + self.member_adds
                + self.member_removes)


@dataclass(slots=True)
class _Scan:
    users: list[str]
    groups: list[tuple[str, int]]  # (dn, member count)


def _scan(content_path: str) -> _Scan:
    scan = _Scan([], [])
    for record in read_ldif(content_path):
        if not isinstance(record, ContentRecord):
            continue
        classes = {str(v).lower() for v in get_values(record.attributes, "objectClass")}
        if "groupofnames" in classes:
            scan.groups.append((record.dn, len(get_values(record.attributes, "member"))))
        elif "inetorgperson" in classes:
            scan.users.append(record.dn)
    return scan


def _sample_edges(content_path: str, groups: list[tuple[str, int]], count: int,
                  rng: random.Random) -> list[tuple[str, str]]:
    """``count`` distinct (group, member) edges, uniform over all edges: pick edge numbers,
    then read only the groups that hold them (other records are skipped unparsed)."""
    total = sum(size for _, size in groups)
    picks = sorted(rng.sample(range(total), min(count, total)))
    wanted: dict[str, list[int]] = {}
    start = 0
    cursor = 0
    for dn, size in groups:
        while cursor < len(picks) and picks[cursor] < start + size:
            wanted.setdefault(normalize_dn(dn), []).append(picks[cursor] - start)
            cursor += 1
        start += size
    edges: list[tuple[str, str]] = []
    with open(content_path, "rb") as handle:
        for raw in iter_raw_records(handle):
            record_dn = raw_dn(raw)
            if record_dn is None or normalize_dn(record_dn) not in wanted:
                continue
            record = parse_raw(raw)
            if isinstance(record, ContentRecord):
                members = get_values(record.attributes, "member")
                edges.extend((record.dn, str(members[i])) for i in
                             wanted[normalize_dn(record_dn)] if i < len(members))
    return edges


def generate_churn(
    content_path: str | os.PathLike[str],
    *,
    changes_path: str | os.PathLike[str] | None = None,
    creates: float = 0.01,
    deletes: float = 0.01,
    modifies: float = 0.05,
    memberships: float = 0.01,
    moves: float = 0.0,
    seed: int = 1,
) -> ChurnSummary:
    """Apply seeded churn to the file directory at ``content_path`` and log it to its
    changelog (default ``<name>.changes.ldif``). ``memberships`` is split evenly between
    member adds and member removes; ``moves`` move users between the Users and Disabled Users
    OUs (modrdn with newsuperior)."""
    rng = random.Random(seed)
    content = os.fspath(content_path)
    log = os.fspath(changes_path) if changes_path else default_changes_path(content)
    start = os.path.getsize(log) if os.path.exists(log) else 0
    scan = _scan(content)
    count = len(scan.users)

    def amount(fraction: float) -> int:
        return round(fraction * count)

    n_members = amount(memberships)
    n_removes = n_members // 2
    edges = _sample_edges(content, scan.groups, n_removes, rng) if n_removes else []
    pool = rng.sample(range(count), min(count, amount(deletes) + amount(modifies)
                                        + amount(moves)))
    deleted = [scan.users[i] for i in pool[: amount(deletes)]]
    modified = [scan.users[i] for i in pool[amount(deletes): amount(deletes) + amount(modifies)]]
    moved = [scan.users[i] for i in pool[amount(deletes) + amount(modifies):]]
    gone = set(deleted)

    records: list[ChangeRecord] = []
    users_ou = parent_dn(scan.users[0]) if scan.users else "ou=Users,dc=contoso,dc=com"
    for index in range(amount(creates)):
        uid = f"churn{seed}.user{index}"
        records.append(AddRecord(f"uid={uid},{users_ou}", {
            "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson"],
            "uid": [uid], "cn": [f"Churn User {index}"], "sn": ["User"],
            "givenName": ["Churn"], "displayName": [f"Churn User {index}"],
            "mail": [f"{uid}@contoso.com"], "title": [rng.choice(TITLES)],
            "department": [rng.choice(DEPARTMENTS)], "entryUUID": [_uuid(rng)],
        }))
    for dn in modified:
        records.append(ModifyRecord(dn, [
            Modification("replace", "title", [rng.choice(TITLES)]),
            Modification("replace", "telephoneNumber", [f"+1 425 555 {rng.randrange(10000):04d}"]),
        ]))
    # Adds go to groups that are not "everyone" groups, so they are real changes.
    open_groups = [dn for dn, size in scan.groups if size < count / 2] or [
        dn for dn, _ in scan.groups]
    candidates = [dn for dn in scan.users if dn not in gone]
    n_adds = n_members - n_removes if open_groups and candidates else 0
    for _ in range(n_adds):
        records.append(ModifyRecord(rng.choice(open_groups), [
            Modification("add", "member", [rng.choice(candidates)])]))
    for group, member in edges:
        records.append(ModifyRecord(group, [Modification("delete", "member", [member])]))
    base = parent_dn(users_ou)
    for dn in moved:
        target = (f"ou=Disabled Users,{base}" if parent_dn(dn).lower() == users_ou.lower()
                  else users_ou)
        records.append(ModDnRecord(dn, rdn_of(dn), True, target))
    records.extend(DeleteRecord(dn) for dn in deleted)
    apply_changes(content, records, changes_path=log)
    return ChurnSummary(amount(creates), len(deleted), len(modified), len(moved), n_adds,
                        len(edges), start, os.path.getsize(log) if records else start)
