"""The benchmark suite as one run: real slapd and clouddir on loopback, the out-of-box rules,
an initial cycle per stage, a delta cycle with the reference's typical churn, and the floor
(an ``ldapsearch`` paged dump of the same entries) measured in the same run.

    .venv/bin/python -m bench --size S [--json out.json]
"""

from __future__ import annotations

import json
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from idsync.engine.core import Engine
from idsync.engine.runner import run_profile
from idsync.model import RunProfile
from idsync.rules.outofbox import install_outofbox
from idsync.store import Store
from idsync.testing.clouddir import LocalCloudDir
from idsync.testing.ldapdata import DirectoryShape, generate, group_dn, user_dn
from idsync.testing.slapd import SlapdServer

#: users, groups, largest group per size (issue 8). L's Zipf sizes and nesting are not in
#: idsync.testing.ldapdata yet: L uses its log-uniform sizes plus the one big group.
SIZES: dict[str, tuple[int, int, int]] = {
    "S": (10_000, 1_000, 0),
    "M": (100_000, 10_000, 50_000),
    "L": (250_000, 20_000, 250_000),
}


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


def build_slapd(shape: DirectoryShape) -> SlapdServer:
    server = SlapdServer()
    server.init()
    path = server.dir / "bench.ldif"
    with path.open("w", encoding="utf-8") as out:
        out.writelines(generate(shape))
    server.slapadd(path)
    path.unlink()
    server.start()
    return server


class Bench:
    """One workspace wired to one slapd and one clouddir tenant."""

    def __init__(self, root: Path, server: SlapdServer, cloud: LocalCloudDir,
                 api_version: int, database: str | None) -> None:
        self.root = root
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
        # The churn deletes 1% of the directory: above the default threshold by design.
        self.store.settings.set("export_deletion_threshold",
                                {"enabled": True, "count": 1_000_000})

    def step(self, scenario: str, connector: str, profile: str) -> Row:
        engine = Engine(self.store, str(self.root))
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

    def cycle(self, scenario: str, steps: list[tuple[str, str]]) -> None:
        start = time.perf_counter()
        before = len(self.rows)
        for connector, profile in steps:
            self.step(scenario, connector, profile)
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


def churn(server: SlapdServer, shape: DirectoryShape, base: int, seed: int = 7
          ) -> tuple[int, dict[int, dict[str, list[int]]]]:
    """The reference's typical churn on ``base`` objects: 1% creates, 1% deletes, 5% attribute
    changes, 1% membership changes. Returns the number of LDAP operations and the membership
    changes per group ({group: {"add": [user], "remove": [user]}})."""
    import ldap.modlist

    import ldap

    rng = random.Random(seed)
    one = max(1, base // 100)
    conn = server.connect()
    ops = 0
    membership: dict[int, dict[str, list[int]]] = {}
    try:
        for i in range(one):
            n = shape.users + 1 + i
            conn.add_s(user_dn(shape, n), ldap.modlist.addModlist({
                "objectClass": [b"top", b"person", b"organizationalPerson", b"inetOrgPerson"],
                "uid": [f"u{n:07d}".encode()], "cn": [f"New User{n}".encode()],
                "sn": [b"User"], "givenName": [b"New"],
                "mail": [f"u{n:07d}@example.com".encode()]}))
            ops += 1
        picked = rng.sample(range(1, shape.users + 1), min(shape.users, 7 * one))
        deleted, modified, moved = picked[:one], picked[one:6 * one], picked[6 * one:]
        for n in modified:
            conn.modify_s(user_dn(shape, n), [(ldap.MOD_REPLACE, "title",
                                               [f"Title {rng.randrange(1000)}".encode()])])
            ops += 1
        for n in moved:
            g = rng.randrange(1, shape.groups + 1)
            try:
                conn.modify_s(group_dn(shape, g),
                              [(ldap.MOD_ADD, "member", [user_dn(shape, n).encode()])])
                membership.setdefault(g, {"add": [], "remove": []})["add"].append(n)
            except ldap.TYPE_OR_VALUE_EXISTS:
                conn.modify_s(group_dn(shape, g),
                              [(ldap.MOD_DELETE, "member", [user_dn(shape, n).encode()])])
                membership.setdefault(g, {"add": [], "remove": []})["remove"].append(n)
            ops += 1
        for n in deleted:
            conn.delete_s(user_dn(shape, n))
            ops += 1
    finally:
        conn.unbind_s()
    return ops, membership


def minimal_membership_delta(membership: dict[int, dict[str, list[int]]]) -> Row:
    """The export floor for the membership part of the churn: per changed group, its id and
    the added and removed member ids (36-character UUIDs, as the cloud's object ids), compact
    JSON, no envelope. Compare with bytes_sent of a membership-only export, not the whole
    churn's export (which also carries creates, deletes and attribute changes)."""
    uid = "0" * 36
    size = sum(len(json.dumps({"id": uid, "members": {
        "add": [uid] * len(c["add"]), "remove": [uid] * len(c["remove"])}},
        separators=(",", ":"))) for c in membership.values())
    changes = sum(len(c["add"]) + len(c["remove"]) for c in membership.values())
    return Row("floor", "minimal membership delta", changes, 0.0, 0.0, 0, size,
               peak_rss_mb())


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


def header(size: str, database: str | None) -> dict[str, Any]:
    import subprocess

    def version(argv: list[str]) -> str:
        try:
            # ldapsearch -VV prints its version on stderr.
            proc = subprocess.run(argv, capture_output=True, text=True)
            return (proc.stdout + proc.stderr).strip().splitlines()[0].strip()
        except (OSError, IndexError):
            return "?"

    return {"header": True, "size": size, "machine": platform.machine(),
            "cpus": __import__("os").cpu_count(), "platform": platform.platform(),
            "python": sys.version.split()[0], "idsync": _package_version("idsync"),
            "python-ldap": _package_version("python-ldap"),
            "ldapsearch": version(["ldapsearch", "-VV"]),
            "database": database or "sqlite (workspace)",
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def run_suite(size: str, database: str | None = None,
              churn_base: int | None = None, with_v1: bool = True,
              progress: Callable[[str], None] = print) -> tuple[dict[str, Any], list[Row]]:
    """Run every scenario at ``size``; returns the header and the rows."""
    users, groups, big = SIZES[size]
    shape = DirectoryShape(users=users, groups=groups, big_group=big)
    root = Path(tempfile.mkdtemp(prefix=f"idsync-bench-{size}-"))
    head = header(size, database)
    rows: list[Row] = []
    progress(f"building slapd with {users:,} users, {groups:,} groups ...")
    t = time.perf_counter()
    server = build_slapd(shape)
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
                          database if version == 2 else None)
            try:
                bench.cycle(f"initial v{version}", INITIAL)
                if version == 2:
                    # The first delta cycle after an initial one still carries the
                    # references exported before their targets existed: "settle".
                    bench.cycle("settle v2", DELTA)
                    bench.cycle("no-change v2", DELTA)
                    ops, membership = churn(server, shape, churn_base or users)
                    progress(f"  churn: {ops:,} LDAP changes")
                    rows.append(minimal_membership_delta(membership))
                    bench.cycle("delta v2", DELTA)
                    rows.append(ldapsearch_floor(server))
            finally:
                bench.close()
            rows.extend(bench.rows)
    finally:
        cloud.stop()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return head, rows


def print_table(head: dict[str, Any], rows: list[Row]) -> None:
    print(f"\nidsync bench, size {head['size']}, {head['cpus']} CPUs, Python {head['python']},"
          f" {head['database']}")
    print(f"| {'scenario':<14} | {'stage':<24} | {'objects':>8} | {'seconds':>8} | "
          f"{'obj/s':>9} | {'requests':>8} | {'bytes sent':>11} | {'RSS MB':>7} |")
    print("|" + "|".join("-" * w for w in (16, 26, 10, 10, 11, 10, 13, 9)) + "|")
    for r in rows:
        print(f"| {r.scenario:<14} | {r.stage:<24} | {r.objects:>8,} | {r.seconds:>8.2f} | "
              f"{r.objects_per_second:>9,.0f} | {r.requests:>8,} | {r.bytes_sent:>11,} | "
              f"{r.peak_rss_mb:>7.1f} |")


def write_json(path: str, head: dict[str, Any], rows: list[Row]) -> None:
    Path(path).write_text(json.dumps([head, *(asdict(r) for r in rows)], indent=2))
