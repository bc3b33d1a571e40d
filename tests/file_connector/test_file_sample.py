"""The sample directory generator, the bundled contoso.ldif and the churn generator."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from idsync.connectors.base import ImportContext, ImportKind
from idsync.connectors.file import ContentRecord, create_connector, read_ldif
from idsync.filedir.dn import normalize_dn
from idsync.filedir.ldif import get_values
from idsync.sample import BUNDLED_SAMPLE, generate_churn, generate_directory, sample_path


def classes(record: ContentRecord) -> set[str]:
    return {str(v).lower() for v in get_values(record.attributes, "objectClass")}


def test_counts_and_shape(tmp_path: Path) -> None:
    path = tmp_path / "s.ldif"
    summary = generate_directory(path, users=400, groups=40, seed=7)
    records = list(read_ldif(path))
    by_class = Counter()
    for record in records:
        for name in ("inetorgperson", "groupofnames", "contact", "organizationalunit"):
            by_class[name] += name in classes(record)
    assert by_class == {"inetorgperson": 400, "groupofnames": 40, "contact": 20,
                        "organizationalunit": 4}
    assert (summary.users, summary.groups, summary.contacts) == (400, 40, 20)
    assert summary.entries == len(records) == 1 + 4 + 400 + 40 + 20
    dns = {normalize_dn(r.dn) for r in records}
    assert len(dns) == len(records)  # unique DNs
    anchors = [get_values(r.attributes, "entryUUID") for r in records[1:]]
    assert all(len(a) == 1 for a in anchors) and len({a[0] for a in anchors}) == len(anchors)
    users = [r for r in records if "inetorgperson" in classes(r)]
    for user in users:
        for name in ("uid", "cn", "sn", "givenName", "displayName", "mail",
                     "userPrincipalName", "employeeID", "department", "title",
                     "telephoneNumber", "entryUUID"):
            assert get_values(user.attributes, name), (user.dn, name)
    # Every reference points at an entry that exists.
    for record in records:
        for name in ("member", "manager"):
            for value in get_values(record.attributes, name):
                assert normalize_dn(str(value)) in dns, (record.dn, value)
    disabled = [u for u in users if ",ou=disabled users," in u.dn.lower()]
    assert summary.disabled_users == len(disabled) > 0
    assert sum(1 for u in users if not get_values(u.attributes, "manager")) == 1  # the CEO
    assert any(not str(v).isascii() for u in users for v in get_values(u.attributes, "cn"))


def test_group_sizes_are_mixed_and_some_nest(tmp_path: Path) -> None:
    path = tmp_path / "s.ldif"
    summary = generate_directory(path, users=1000, groups=100, seed=1)
    sizes = sorted(summary.group_sizes.values())
    active = summary.users - summary.disabled_users
    assert summary.largest_group == active == summary.group_sizes["All Employees"]
    assert sizes[0] == 1  # one nearly empty group
    assert sum(1 for s in sizes if s <= 20) >= 40  # many small groups
    assert sum(1 for s in sizes if s >= 100) >= 5  # a few large ones
    groups = [r for r in read_ldif(path) if "groupofnames" in classes(r)]
    nested = [g for g in groups
              if any(",ou=groups," in str(m).lower() for m in get_values(g.attributes, "member"))]
    assert len(nested) >= 3


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.ldif", tmp_path / "b.ldif", tmp_path / "c.ldif"
    generate_directory(a, users=200, groups=20, seed=5)
    generate_directory(b, users=200, groups=20, seed=5)
    generate_directory(c, users=200, groups=20, seed=6)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_bundled_sample_is_the_generator_output(tmp_path: Path) -> None:
    bundled = Path(sample_path())
    assert bundled.stat().st_size < 1_500_000
    fresh = tmp_path / "contoso.ldif"
    summary = generate_directory(fresh, **BUNDLED_SAMPLE)
    assert fresh.read_bytes() == bundled.read_bytes()
    assert summary.users >= 1000 and summary.groups >= 100


def test_bundled_sample_imports(tmp_path: Path) -> None:
    connector = create_connector("contoso", {"path": sample_path()}, {}, str(tmp_path))
    imported = [r for b in connector.full_import(ImportContext(None)) for r in b.records]
    types = Counter(r.object_type for r in imported)
    assert types == {"user": 1000, "group": 100, "contact": 50}


def test_large_group_size_and_streaming_scale(tmp_path: Path) -> None:
    path = tmp_path / "big.ldif"
    summary = generate_directory(path, users=20_000, groups=30, large_group_size=20_000)
    assert summary.group_sizes["All Employees"] == 20_000
    all_employees = next(r for r in read_ldif(path) if r.dn.startswith("cn=All Employees"))
    assert len(all_employees.attributes["member"]) == 20_000


def test_command_line(tmp_path: Path) -> None:
    out = tmp_path / "cli.ldif"
    done = subprocess.run([sys.executable, "-m", "idsync.sample", "--users", "50", "--groups",
                           "5", "-o", str(out)], capture_output=True, text=True, check=True)
    assert "50 users" in done.stdout and "5 groups" in done.stdout
    generate_directory(tmp_path / "same.ldif", users=50, groups=5)
    assert out.read_bytes() == (tmp_path / "same.ldif").read_bytes()


def test_churn_lands_in_content_and_changelog(tmp_path: Path) -> None:
    path = tmp_path / "s.ldif"
    generate_directory(path, users=1000, groups=50, seed=2)
    connector = create_connector("s", {"path": "s.ldif"}, {}, str(tmp_path))
    watermark = list(connector.full_import(ImportContext(None)))[-1].watermark
    before = {r.dn for r in read_ldif(path)}
    members = {r.dn: set(get_values(r.attributes, "member")) for r in read_ldif(path)}
    churn = generate_churn(path, creates=0.02, deletes=0.01, modifies=0.05,
                           memberships=0.02, moves=0.01, seed=3)
    assert (churn.creates, churn.deletes, churn.modifies, churn.moves) == (20, 10, 50, 10)
    assert churn.member_adds + churn.member_removes == 20
    assert churn.start_offset == watermark["offset"] == 0
    after = {r.dn for r in read_ldif(path)}
    assert len(after) == len(before) + 20 - 10
    delta = [r for b in connector.delta_import(ImportContext(watermark)) for r in b.records]
    assert len(delta) == churn.records
    kinds = Counter(r.kind for r in delta)
    assert kinds == {ImportKind.FULL: 20, ImportKind.DELETE: 10,
                     ImportKind.MODIFY: 50 + 10 + 20}
    assert all(r.anchor for r in delta)
    removes = [(r.dn, m) for r in delta for m in r.value_removes.get("member", [])]
    assert len(removes) == churn.member_removes == len(set(removes))
    assert all(member in members[group] for group, member in removes)  # real edges
    again = generate_churn(path, seed=4)
    assert again.start_offset == churn.end_offset
