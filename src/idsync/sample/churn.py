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
from idsync.connectors.file.dn import parent_dn, rdn_of
from idsync.connectors.file.ldif import ContentRecord, get_values
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
    edges: list[tuple[str, str]]  # reservoir sample of (group dn, member dn)


def _scan(content_path: str, edge_sample: int, rng: random.Random) -> _Scan:
    scan = _Scan([], [], [])
    seen_edges = 0
    for record in read_ldif(content_path):
        if not isinstance(record, ContentRecord):
            continue
        classes = {str(v).lower() for v in get_values(record.attributes, "objectClass")}
        if "groupofnames" in classes:
            members = get_values(record.attributes, "member")
            scan.groups.append((record.dn, len(members)))
            for member in members:
                # Reservoir sampling keeps memory at edge_sample edges, whatever the size.
                seen_edges += 1
                if len(scan.edges) < edge_sample:
                    scan.edges.append((record.dn, str(member)))
                elif edge_sample:
                    slot = rng.randrange(seen_edges)
                    if slot < edge_sample:
                        scan.edges[slot] = (record.dn, str(member))
        elif "inetorgperson" in classes:
            scan.users.append(record.dn)
    return scan


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
    scan = _scan(content, 0, rng)
    count = len(scan.users)

    def amount(fraction: float) -> int:
        return round(fraction * count)

    n_members = amount(memberships)
    n_removes = n_members // 2
    scan = _scan(content, n_removes, rng) if n_removes else scan
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
    for group, member in scan.edges:
        records.append(ModifyRecord(group, [Modification("delete", "member", [member])]))
    base = parent_dn(users_ou)
    for dn in moved:
        target = (f"ou=Disabled Users,{base}" if parent_dn(dn).lower() == users_ou.lower()
                  else users_ou)
        records.append(ModDnRecord(dn, rdn_of(dn), True, target))
    records.extend(DeleteRecord(dn) for dn in deleted)
    apply_changes(content, records, changes_path=log)
    return ChurnSummary(amount(creates), len(deleted), len(modified), len(moved), n_adds,
                        len(scan.edges), start, os.path.getsize(log) if records else start)
