"""The benchmark suite as one run: real slapd and clouddir on loopback, the out-of-box rules,
an initial cycle per stage, a delta cycle with the reference's typical churn, a 1% churn of
the largest group's members exported under v2 (issue 8's large-group target: its export row,
the minimal delta for that exact change, and their ratio), and the floor (an ``ldapsearch``
paged dump of the same entries) measured in the same run.

    .venv/bin/python -m bench --size S [--json out.json]
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from idsync.administration.outofbox import install_outofbox
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import run_profile
from idsync.lab.clouddir import LocalCloudDir
from idsync.lab.ldapdata import (
    DirectoryShape,
    churn_counts,
    generate,
    group_dn,
    largest_group,
    pick_membership_churn,
    user_dn,
    user_number,
)
from idsync.lab.slapd import SlapdConfig, SlapdServer
from idsync.model import RunProfile
from idsync.rules.outofbox import GROUP_JOIN_RULE
from idsync.store import Store

#: The data sets of issue 8. S and M keep the log-uniform group sizes their earlier figures
#: were measured on; L has Zipf-distributed sizes (s=2 on [2, 250,000]: median 3, a few groups
#: of 10,000-25,000), 5% of its groups containing 1-5 other groups, and the all-staff group.
#: Every size has managers (an org chart ~log8(users) levels deep).
SIZES: dict[str, DirectoryShape] = {
    "S": DirectoryShape(users=10_000, groups=1_000),
    "M": DirectoryShape(users=100_000, groups=10_000, big_group=50_000),
    "L": DirectoryShape(users=250_000, groups=20_000, big_group=250_000, group_sizes="zipf",
                        nested=0.05),
}

#: The churn base of S: at M and L the suite also applies S's absolute churn, so the delta
#: cycle's cost can be read against S's row of the same name (it must not grow with the
#: directory).
S_USERS = SIZES["S"].users


#: The member limit of the v2 bench's rules: the sync API v2 limit. Out of the box the Group
#: Join rule refuses groups of 50,000 members or more (v1's limit), so M's and L's big group
#: would never reach the cloud; raising it is the reference's phase 3 (see raise_member_limit).
V2_MEMBER_LIMIT = 250_000


def raise_member_limit(store: Store, limit: int, precedence: int = 50) -> None:
    """What an administrator does to sync groups above 50,000 members under v2: an editable
    copy of the out-of-box Group Join rule (the original disabled), its member limit raised to
    ``limit`` in both the scoping filter and the member transformation."""
    from idsync.administration.rule_editing import copy_rule, edit_rule
    from idsync.rules.edits import RuleEdit

    copy = copy_rule(store, GROUP_JOIN_RULE, precedence)
    edit_rule(store, copy.name, RuleEdit(
        expressions={"member": f'IIF(ValueCount("member")> {limit},'
                               'Error("Maximum Group member count exceeded"),IgnoreThisFlow)'},
        # "memberCount LESSTHAN n": a group of exactly ``limit`` members needs n = limit + 1
        scope_values={"memberCount": str(limit + 1)}))


@dataclass
class Row:
    scenario: str
    stage: str
    objects: int
    seconds: float
    objects_per_second: float
    requests: int
    bytes_sent: int
    peak_rss_mb: float


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB); the servers are
    separate processes and not counted."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def build_slapd(shape: DirectoryShape, progress: Callable[[str], None] = print,
                config: SlapdConfig | None = None) -> SlapdServer:
    server = SlapdServer(config)
    server.init()
    path = server.dir / "bench.ldif"
    t = time.perf_counter()
    with path.open("w", encoding="utf-8") as out:
        entries = sum(1 for _ in map(out.write, generate(shape)))
    progress(f"  generated {entries:,} entries ({path.stat().st_size / 1e6:,.0f} MB LDIF) "
             f"in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    server.slapadd(path)
    path.unlink()
    server.start()
    progress(f"  slapadd and start in {time.perf_counter() - t:.1f} s")
    return server


class Bench:
    """One workspace wired to one slapd and one clouddir tenant."""

    def __init__(self, root: Path, server: SlapdServer, cloud: LocalCloudDir,
                 api_version: int, database: str | None, profile_dir: Path | None = None
                 ) -> None:
        self.root = root
        self.profile_dir = profile_dir
        self.rows: list[Row] = []
        root.mkdir(parents=True, exist_ok=True)
        self.store = Store.open(root, database=database)
        tenant, token = cloud.create_tenant(f"bench-{root.name}")
        self.store.connectors.add("corp", "ldap", server.connector_settings(
            directory_type="openldap", change_detection="accesslog"),
            {"password": server.password})
        self.store.connectors.add("cloud", "cloud", {
            "url": cloud.url, "tenant_id": tenant, "export_api_version": api_version,
            "import_api_version": api_version}, {"token": token})
        install_outofbox(self.store, onprem="corp", cloud="cloud", flavour="openldap")
        if api_version == 2:
            raise_member_limit(self.store, V2_MEMBER_LIMIT)
        # The churn deletes 1% of the directory: above the default threshold by design.
        self.store.settings.set("export_deletion_threshold",
                                {"enabled": True, "count": 1_000_000})

    def step(self, scenario: str, connector: str, profile: str) -> Row:
        engine = RunContext(self.store, str(self.root))
        try:
            start = time.perf_counter()
            result = run_profile(engine, connector, RunProfile.parse(profile))
            seconds = time.perf_counter() - start
            requests = sent = 0
            inst = engine._instances.get(engine.connector(connector).id)
            traffic = getattr(getattr(inst, "client", None), "traffic", None)
            if traffic is not None:
                requests, sent = traffic.requests, traffic.bytes_sent
        finally:
            engine.close()
        if not result.ok:
            raise SystemExit(f"{scenario} {connector} {profile}: {result.status} "
                             f"{result.message}")
        objects = count_objects(profile, result.counters)
        row = Row(scenario, f"{connector} {profile}", objects, round(seconds, 3),
                  round(objects / seconds, 1) if seconds else 0.0, requests, sent,
                  peak_rss_mb())
        self.rows.append(row)
        print(f"  {row.scenario:<16} {row.stage:<10} {row.objects:>8,} objects "
              f"{row.seconds:8.2f} s", flush=True)
        return row

    def cycle(self, scenario: str, steps: list[tuple[str, str]], profile: bool = False
              ) -> None:
        profiler = None
        if profile and self.profile_dir is not None:
            # Statistical (1 ms samples): cheap enough to leave the cycle's figures usable.
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.001)
            profiler.start()
        start = time.perf_counter()
        before = len(self.rows)
        try:
            for connector, profile_name in steps:
                self.step(scenario, connector, profile_name)
        finally:
            if profiler is not None:
                profiler.stop()
                assert self.profile_dir is not None
                self.profile_dir.mkdir(parents=True, exist_ok=True)
                name = scenario.replace(" ", "-").replace("(", "").replace(")", "")
                (self.profile_dir / f"{name}.txt").write_text(
                    profiler.output_text(unicode=False, color=False))
        seconds = time.perf_counter() - start
        done = self.rows[before:]
        objects = max((r.objects for r in done), default=0)
        self.rows.append(Row(scenario, "total", objects, round(seconds, 3),
                             round(objects / seconds, 1) if seconds else 0.0,
                             sum(r.requests for r in done), sum(r.bytes_sent for r in done),
                             peak_rss_mb()))

    def close(self) -> None:
        self.store.close()


IMPORT_COUNTERS = ("adds", "updates", "no-change", "deletes", "renames")


def count_objects(profile: str, counters: dict[str, Any]) -> int:
    """Objects a run handled: an import's per-object outcomes; for sync and export the sum of
    the run's counters (an object can count under more than one, e.g. a join and an update)."""
    keys = IMPORT_COUNTERS if profile in ("fi", "di") else None
    return sum(v for k, v in counters.items()
               if isinstance(v, int) and (keys is None or k in keys))


INITIAL = [("corp", "fi"), ("cloud", "fi"), ("corp", "fs"), ("cloud", "fs"), ("cloud", "e"),
           ("cloud", "fi"), ("cloud", "fs")]
DELTA = [("corp", "di"), ("corp", "ds"), ("cloud", "e"), ("cloud", "di"), ("cloud", "ds")]


def churn_label(base: int) -> str:
    """How a churn base names its rows: ``(10k)`` is the churn of a 10,000-user directory."""
    return f"({base // 1000:,}k)" if base % 1000 == 0 else f"({base:,})"


@dataclass
class ChurnState:
    """What earlier churns in the same run did, so a later one neither re-creates nor touches
    their users."""

    created: int = 0
    deleted: set[int] = field(default_factory=set)


def add_user(conn: Any, shape: DirectoryShape, state: ChurnState) -> int:
    """Create the next new user (numbered after the generated ones); returns its number."""
    import ldap.modlist

    state.created += 1
    n = shape.users + state.created
    conn.add_s(user_dn(shape, n), ldap.modlist.addModlist({
        "objectClass": [b"top", b"person", b"organizationalPerson", b"inetOrgPerson"],
        "uid": [f"u{n:07d}".encode()], "cn": [f"New User{n}".encode()],
        "sn": [b"User"], "givenName": [b"New"],
        "mail": [f"u{n:07d}@example.com".encode()]}))
    return n


def churn(server: SlapdServer, shape: DirectoryShape, base: int, seed: int = 7,
          state: ChurnState | None = None) -> tuple[int, dict[int, dict[str, list[int]]]]:
    """The reference's typical churn on ``base`` objects: 1% creates, 1% deletes, 5% attribute
    changes, 1% membership changes. Returns the number of LDAP operations and the membership
    changes per group ({group: {"add": [user], "remove": [user]}})."""
    import ldap

    state = state if state is not None else ChurnState()
    rng = random.Random(seed)
    one = max(1, base // 100)
    conn = server.connect()
    ops = 0
    membership: dict[int, dict[str, list[int]]] = {}
    try:
        for _ in range(one):
            add_user(conn, shape, state)
            ops += 1
        alive = [n for n in range(1, shape.users + 1) if n not in state.deleted]
        picked = rng.sample(alive, min(len(alive), 7 * one))
        deleted, modified, moved = picked[:one], picked[one:6 * one], picked[6 * one:]
        state.deleted.update(deleted)
        for n in modified:
            conn.modify_s(user_dn(shape, n), [(ldap.MOD_REPLACE, "title",
                                               [f"Title {rng.randrange(1000)}".encode()])])
            ops += 1
        for n in moved:
            member = [user_dn(shape, n).encode()]
            while True:
                g = rng.randrange(1, shape.groups + 1)
                try:
                    conn.modify_s(group_dn(shape, g), [(ldap.MOD_ADD, "member", member)])
                    membership.setdefault(g, {"add": [], "remove": []})["add"].append(n)
                except ldap.TYPE_OR_VALUE_EXISTS:
                    try:
                        conn.modify_s(group_dn(shape, g), [(ldap.MOD_DELETE, "member", member)])
                    except ldap.OBJECT_CLASS_VIOLATION:
                        continue  # n is the group's last member (groupOfNames needs one)
                    membership.setdefault(g, {"add": [], "remove": []})["remove"].append(n)
                break
            ops += 1
        for n in deleted:
            conn.delete_s(user_dn(shape, n))
            ops += 1
    finally:
        conn.unbind_s()
    return ops, membership


def minimal_membership_delta(membership: dict[int, dict[str, list[int]]], label: str = ""
                             ) -> Row:
    """The export floor for the membership part of the churn: per changed group, its id and
    the added and removed member ids (36-character UUIDs, as the cloud's object ids), compact
    JSON, no envelope. Compare with bytes_sent of a membership-only export, not the whole
    churn's export (which also carries creates, deletes and attribute changes)."""
    uid = "0" * 36
    size = sum(len(json.dumps({"id": uid, "members": {
        "add": [uid] * len(c["add"]), "remove": [uid] * len(c["remove"])}},
        separators=(",", ":"))) for c in membership.values())
    changes = sum(len(c["add"]) + len(c["remove"]) for c in membership.values())
    return Row("floor", f"minimal membership delta {label}".strip(), changes, 0.0, 0.0, 0,
               size, peak_rss_mb())


#: Issue 8's target for a 1% churn of the 250,000-member group exported under v2.
BIG_GROUP_SECONDS = 2.0
BIG_GROUP_BYTES_RATIO = 2.0


def group_members(server: SlapdServer, dn: str) -> set[int]:
    """The user numbers among a group's members, as slapd holds them now."""
    ((_dn, attrs),) = server.search(dn, scope="base", attrs=["member"])
    return {n for v in attrs.get("member", [])
            if (n := user_number(v.decode("utf-8"))) is not None}


def big_group_cycle(bench: Bench, server: SlapdServer, shape: DirectoryShape,
                    state: ChurnState, seed: int = 99,
                    progress: Callable[[str], None] = print) -> tuple[Row, dict[str, Any]]:
    """Issue 8's large-group export target: 1% of the members of the size's largest group
    churned in slapd (half removed, half users not yet members added, in one modify), then a
    v2 delta cycle. Returns the floor row for that exact change and the figures of the cloud
    export stage against the targets (seconds, bytes sent / minimal bytes).

    When too few users are outside the group (L's all-staff holds every generated user; only
    the churns' new users are not in it), the missing ones are created first and exported by
    a delta cycle of their own ("big group setup v2"), so the measured export carries the
    membership change alone."""
    dn, _size = largest_group(shape)
    members = group_members(server, dn)
    _removes, adds = churn_counts(len(members))
    alive = [n for n in range(1, shape.users + state.created + 1) if n not in state.deleted]
    outside = sum(1 for n in alive if n not in members)
    if outside < adds:
        conn = server.connect()
        try:
            alive += [add_user(conn, shape, state) for _ in range(adds - outside)]
        finally:
            conn.unbind_s()
        bench.cycle("big group setup v2", DELTA)
    removed, added = pick_membership_churn(members, alive, random.Random(seed))
    label = f"(1% of {len(members):,})"
    t = time.perf_counter()
    server.modify(dn, [("delete", "member", [user_dn(shape, n) for n in removed]),
                       ("add", "member", [user_dn(shape, n) for n in added])])
    progress(f"  {dn.split(',')[0]}: {len(removed):,} members removed, {len(added):,} added "
             f"in slapd in {time.perf_counter() - t:.1f} s")
    floor = minimal_membership_delta({0: {"add": added, "remove": removed}}, label)
    scenario = f"big group v2 {label}"
    bench.cycle(scenario, DELTA)
    export = next(r for r in bench.rows if r.scenario == scenario and r.stage == "cloud e")
    figures = {
        "group": dn, "members": len(members), "removed": len(removed), "added": len(added),
        "seconds": export.seconds, "target_seconds": BIG_GROUP_SECONDS,
        "requests": export.requests, "bytes_sent": export.bytes_sent,
        "minimal_bytes": floor.bytes_sent,
        "bytes_ratio": round(export.bytes_sent / floor.bytes_sent, 2) if floor.bytes_sent
        else None,
        "target_bytes_ratio": BIG_GROUP_BYTES_RATIO}
    progress("  " + big_group_line(figures))
    return floor, figures


def big_group_line(f: dict[str, Any]) -> str:
    ratio = f"{f['bytes_ratio']:.2f}x" if f["bytes_ratio"] is not None else "n/a"
    return (f"big group export (v2): {f['removed'] + f['added']:,} member changes of a "
            f"{f['members']:,}-member group in {f['seconds']:.2f} s (target < "
            f"{f['target_seconds']:g} s), {f['requests']:,} requests, {f['bytes_sent']:,} "
            f"bytes = {ratio} the minimal delta's {f['minimal_bytes']:,} (target < "
            f"{f['target_bytes_ratio']:g}x)")


def ldapsearch_floor(server: SlapdServer) -> Row:
    from bench.ldap_import import ldapsearch_dump

    entries, seconds = ldapsearch_dump(server, "(objectClass=*)")
    return Row("floor", "ldapsearch paged dump", entries, round(seconds, 3),
               round(entries / seconds, 1), 0, 0, peak_rss_mb())


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def header(size: str, database: str | None, shape: DirectoryShape | None = None,
           churn_bases: list[int] | None = None) -> dict[str, Any]:
    import subprocess

    def version(argv: list[str]) -> str:
        try:
            # ldapsearch -VV prints its version on stderr.
            proc = subprocess.run(argv, capture_output=True, text=True)
            return (proc.stdout + proc.stderr).strip().splitlines()[0].strip()
        except (OSError, IndexError):
            return "?"

    head: dict[str, Any] = {
        "header": True, "size": size, "machine": platform.machine(),
        "cpus": os.cpu_count(), "platform": platform.platform(),
        "python": sys.version.split()[0], "idsync": _package_version("idsync"),
        "python-ldap": _package_version("python-ldap"),
        "ldapsearch": version(["ldapsearch", "-VV"]),
        "database": database or "sqlite (workspace)",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        # The machine is shared: a figure means little without the load it was taken under.
        "load_average": [round(x, 2) for x in os.getloadavg()]}
    if shape is not None:
        head["shape"] = {k: getattr(shape, k) for k in (
            "users", "groups", "big_group", "group_sizes", "zipf_exponent", "nested", "seed")}
    if churn_bases is not None:
        head["churn_bases"] = churn_bases
    return head


def default_churn_bases(size: str) -> list[int]:
    """S's absolute churn at every size, then (above S) the size's own 1% churn."""
    users = SIZES[size].users
    return [S_USERS] if users == S_USERS else [S_USERS, users]


def run_suite(size: str, database: str | None = None,
              churn_bases: list[int] | int | None = None, with_v1: bool = True,
              progress: Callable[[str], None] = print, profile_dir: str | None = None
              ) -> tuple[dict[str, Any], list[Row]]:
    """Run every scenario at ``size``; returns the header and the rows. Each churn base gets
    its own delta cycle, rows named by :func:`churn_label` (e.g. ``delta v2 (10k)``). With
    ``profile_dir`` each delta cycle's pyinstrument profile is written there as text."""
    shape = replace(SIZES[size])
    if isinstance(churn_bases, int):
        churn_bases = [churn_bases]
    bases = list(churn_bases or default_churn_bases(size))
    users, groups, big = shape.users, shape.groups, shape.big_group
    root = Path(tempfile.mkdtemp(prefix=f"idsync-bench-{size}-"))
    head = header(size, database, shape, bases)
    rows: list[Row] = []
    progress(f"building slapd with {users:,} users, {groups:,} groups "
             f"({shape.group_sizes} sizes, {shape.nested:.0%} nesting) ...")
    t = time.perf_counter()
    server = build_slapd(shape, progress)
    progress(f"  loaded in {time.perf_counter() - t:.1f} s")
    cloud = LocalCloudDir(root / "clouddir", limits={"write_budget": 100_000_000,
                                                    "write_window": 1})
    (root / "clouddir").mkdir()
    cloud.start()
    try:
        rows.append(ldapsearch_floor(server))
        for version in (2, 1):
            if version == 1 and not with_v1:
                continue
            if version == 1 and big > 50_000:
                progress("v1: skipped, the largest group is over v1's 50,000 limit")
                continue
            bench = Bench(root / f"v{version}", server, cloud, version,
                          database if version == 2 else None,
                          Path(profile_dir) if profile_dir else None)
            try:
                bench.cycle(f"initial v{version}", INITIAL)
                if version == 2:
                    # The first delta cycle after an initial one still carries the
                    # references exported before their targets existed: "settle".
                    bench.cycle("settle v2", DELTA)
                    bench.cycle("no-change v2", DELTA)
                    state = ChurnState()
                    for i, base in enumerate(bases):
                        label = churn_label(base)
                        t = time.perf_counter()
                        ops, membership = churn(server, shape, base, seed=7 + i, state=state)
                        # Not a row: slapd's own cost (deleting a member of the 250,000-member
                        # group rewrites that group), but it decides how long an L run takes.
                        progress(f"  churn {label}: {ops:,} LDAP changes applied in "
                                 f"{time.perf_counter() - t:.1f} s")
                        rows.append(minimal_membership_delta(membership, label))
                        bench.cycle(f"delta v2 {label}", DELTA, profile=True)
                    floor, head["big_group_export"] = big_group_cycle(
                        bench, server, shape, state, progress=progress)
                    rows.append(floor)
                    rows.append(ldapsearch_floor(server))
            finally:
                bench.close()
            rows.extend(bench.rows)
    finally:
        cloud.stop()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    head["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    head["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return head, rows


def print_table(head: dict[str, Any], rows: list[Row]) -> None:
    load = head.get("load_average")
    print(f"\nidsync bench, size {head['size']}, {head['cpus']} CPUs, Python {head['python']},"
          f" {head['database']}" + (f", load at start {load[0]:.2f}" if load else "")
          + (f", at end {head['load_average_end'][0]:.2f}" if head.get("load_average_end")
             else ""))
    if head.get("churn_bases"):
        print("delta v2 (Nk): the reference's typical churn of an N,000-user directory "
              "(1% creates, 1% deletes, 5% attribute and 1% membership changes); compare "
              "(10k) rows across sizes: the same absolute churn should cost the same")
    sw = max([14, *(len(r.scenario) for r in rows)])
    tw = max([24, *(len(r.stage) for r in rows)])
    print(f"| {'scenario':<{sw}} | {'stage':<{tw}} | {'objects':>8} | {'seconds':>8} | "
          f"{'obj/s':>9} | {'requests':>8} | {'bytes sent':>11} | {'RSS MB':>7} |")
    print("|" + "|".join("-" * w for w in (sw + 2, tw + 2, 10, 10, 11, 10, 13, 9)) + "|")
    for r in rows:
        print(f"| {r.scenario:<{sw}} | {r.stage:<{tw}} | {r.objects:>8,} | {r.seconds:>8.2f} | "
              f"{r.objects_per_second:>9,.0f} | {r.requests:>8,} | {r.bytes_sent:>11,} | "
              f"{r.peak_rss_mb:>7.1f} |")
    if head.get("big_group_export"):
        print(big_group_line(head["big_group_export"]))


def write_json(path: str, head: dict[str, Any], rows: list[Row]) -> None:
    Path(path).write_text(json.dumps([head, *(asdict(r) for r in rows)], indent=2))
