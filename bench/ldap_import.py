"""LDAP connector benchmark against a private slapd, side by side in one run.

1. Full import: idsync's LDAP connector (paged search, records built, values decoded) against
   the C floor, an ``ldapsearch`` paged dump of the same entries and attributes.
2. Delta import: 1,000 changes (modifies, member adds/removes on the big group, renames,
   deletes) in the directory, read back by each change-detection strategy.

usage: .venv/bin/python bench/ldap_import.py [--users 100000] [--groups 2000] [--rounds 3]
       .venv/bin/python -m bench.ldap_import staged --size M [--keep DIR] (see staged_main)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from idsync.connectors.base import ImportContext
from idsync.connectors.ldap import create_connector
from idsync.lab.ldapdata import DirectoryShape, big_group_dn, generate, user_dn
from idsync.lab.slapd import SlapdServer

ATTRS = ["*", "entryUUID", "memberOf"]


def build(shape: DirectoryShape) -> tuple[SlapdServer, float]:
    server = SlapdServer()
    server.init()
    path = server.dir / "bench.ldif"
    with path.open("w", encoding="utf-8") as out:
        out.writelines(generate(shape))
    t = time.perf_counter()
    server.slapadd(path)
    load = time.perf_counter() - t
    path.unlink()
    server.start()
    return server, load


def ldapsearch_dump(server: SlapdServer, filterstr: str) -> tuple[int, float]:
    pw_file = server.dir / "bench.pw"
    pw_file.write_text(server.password)
    pw_file.chmod(0o600)
    argv = ["ldapsearch", "-LLL", "-x", "-H", server.uri, "-D", server.bind_dn, "-y",
            str(pw_file), "-b", server.base_dn, "-E", "pr=1000/noprompt", filterstr, *ATTRS]
    # Count entries as the output streams by: holding the whole dump (~200 MB at L) would
    # put it in the bench process's peak RSS.
    t = time.perf_counter()
    entries, tail = 0, b"\n"
    with subprocess.Popen(argv, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(1 << 20):
            # The previous chunk's last 4 bytes join this one, so a "\ndn: " split across
            # two reads counts once.
            window = tail + chunk
            entries += window.count(b"\ndn: ")
            tail = window[-4:]
    elapsed = time.perf_counter() - t
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, argv)
    return entries, elapsed


def python_ldap_raw(server: SlapdServer, filterstr: str) -> tuple[int, float]:
    """The same paged search in python-ldap with no records built: the library's floor."""
    from idsync.connectors.ldap.paging import paged_search

    conn = server.connect()
    t = time.perf_counter()
    count = sum(len(page) for page in paged_search(conn, server.base_dn, filterstr, ATTRS, 1000))
    elapsed = time.perf_counter() - t
    conn.unbind_s()
    return count, elapsed


def connector(server: SlapdServer, strategy: str):  # type: ignore[no-untyped-def]
    return create_connector("bench", server.connector_settings(change_detection=strategy),
                            {"password": server.password}, tempfile.gettempdir())


def idsync_full(server: SlapdServer, strategy: str = "syncrepl") -> tuple[int, float, dict]:
    conn = connector(server, strategy)
    t = time.perf_counter()
    count = 0
    watermark = None
    for batch in conn.full_import(ImportContext(watermark=None, batch_size=1000)):
        count += len(batch.records)
        watermark = batch.watermark or watermark
    elapsed = time.perf_counter() - t
    conn.close()
    return count, elapsed, watermark or {}


def make_changes(server: SlapdServer, shape: DirectoryShape, n: int) -> None:
    """n changes: 80% modifies, 10% member adds/removes on the big group, 5% renames, 5%
    deletes (of users not in the big group's first members)."""
    conn = server.connect()
    import ldap

    big = big_group_dn(shape)
    mods, members, renames = int(n * 0.8), int(n * 0.1), int(n * 0.05)
    deletes = n - mods - members - renames
    for i in range(mods):
        conn.modify_s(user_dn(shape, 1 + i), [(ldap.MOD_REPLACE, "title", [b"Changed"])])
    half = members // 2
    for i in range(members):
        # remove the last `half` users from the big group, then add them back
        op = ldap.MOD_DELETE if i < half else ldap.MOD_ADD
        who = user_dn(shape, shape.big_group - (i % half if half else 0))
        conn.modify_s(big, [(op, "member", [who.encode()])])
    for i in range(renames):
        conn.rename_s(user_dn(shape, shape.users // 2 + i), f"uid=renamed{i}", None, delold=1)
    for i in range(deletes):
        conn.delete_s(user_dn(shape, shape.users * 9 // 10 + i))
    conn.unbind_s()


def idsync_delta(server: SlapdServer, strategy: str, watermark: dict) -> tuple[int, float]:
    conn = connector(server, strategy)
    conn.test_connection()  # bind outside the timing, as a scheduled run has it open
    t = time.perf_counter()
    count = sum(len(b.records) for b in conn.delta_import(ImportContext(watermark=watermark)))
    elapsed = time.perf_counter() - t
    conn.close()
    return count, elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--groups", type=int, default=2000)
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    shape = DirectoryShape(users=a.users, groups=a.groups, big_group=min(a.users, 100_000))
    print(f"building: {a.users} users, {a.groups} groups + all-staff "
          f"({shape.big_group} members) ...", file=sys.stderr)
    server, load = build(shape)
    try:
        flt = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group)" \
              "(objectClass=inetOrgPerson)(objectClass=user)(objectClass=contact))"
        floor, raw, ours = [], [], []
        entries = 0
        watermarks: dict[str, dict] = {}
        for _ in range(a.rounds):
            n_floor, t_floor = ldapsearch_dump(server, flt)
            floor.append(t_floor)
            raw.append(python_ldap_raw(server, flt)[1])
            n_ours, t_ours, _ = idsync_full(server)
            ours.append(t_ours)
            if n_floor != n_ours:
                print(f"MISMATCH: ldapsearch {n_floor} entries, idsync {n_ours}", file=sys.stderr)
                return 1
            entries = n_ours
        # A live directory has recent writes; without one the modifyTimestamp watermark is the
        # slapadd second, and the >= search (1 s resolution) re-reads that whole second.
        server.modify(user_dn(shape, shape.users), [("replace", "description", ["tick"])])
        time.sleep(1.1)
        for strategy in ("syncrepl", "accesslog", "modify_timestamp"):
            watermarks[strategy] = idsync_full(server, strategy)[2]
        time.sleep(1.1)  # modify_timestamp has one-second resolution
        t = time.perf_counter()
        make_changes(server, shape, a.changes)
        write = time.perf_counter() - t
        deltas = {s: idsync_delta(server, s, w) for s, w in watermarks.items()}

        f_med, o_med = statistics.median(floor), statistics.median(ours)
        r_med = statistics.median(raw)
        print(f"\n## LDAP full import, {entries:,} entries (slapadd load {load:.1f} s), "
              f"median of {a.rounds}\n")
        print("| reader | seconds (median) | entries/s | ratio to ldapsearch |")
        print("|---|---|---|---|")
        print(f"| ldapsearch -E pr=1000 (C floor) | {f_med:.2f} | {entries / f_med:,.0f} | 1.00 |")
        print(f"| python-ldap paged search, no records | {r_med:.2f} | {entries / r_med:,.0f} | "
              f"{r_med / f_med:.2f}x slower |")
        print(f"| idsync LDAP connector full import | {o_med:.2f} | {entries / o_med:,.0f} | "
              f"{o_med / f_med:.2f}x slower |")
        print(f"\n## Delta import of {a.changes:,} changes in a {a.users:,}-user directory "
              f"(writing them took {write:.2f} s)\n")
        print("| strategy | records | seconds |")
        print("|---|---|---|")
        for strategy, (count, secs) in deltas.items():
            print(f"| {strategy} | {count:,} | {secs:.3f} |")
        print(f"\nhost: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
              f"python {sys.version.split()[0]}, "
              f"slapd at {server.uri} ({Path(server.dir).name})")
    finally:
        server.close()
    return 0


# --- the suite's "corp fi" stage alone, for profiling (issue 8's 4x-the-floor target) --------
#
#   .venv/bin/python -m bench.ldap_import staged --size M --keep /tmp/slapd-M.json [--rounds 2]
#       [--pyinstrument out.txt] [--py-spy out.txt]
#
# Builds the size's slapd the suite's way (bench.suite.build_slapd); with --keep the server
# is kept (recorded in that file) and reused by later runs (generating and loading M takes
# minutes).
# Each round is a fresh workspace set up by the suite's own Bench class and timed as its
# "corp fi" row, next to an ldapsearch paged dump of the same entries (the suite's floor).


def _kept_server(keep: Path, shape: DirectoryShape) -> SlapdServer:
    """The slapd recorded in ``keep`` (started again), or a new one built the suite's way
    and recorded there. Its folder stays where build_slapd made it: slapd's cn=config holds
    the database paths, so it cannot move."""
    import json

    from bench.suite import build_slapd

    from idsync.lab.slapd import SlapdConfig

    if keep.exists():
        saved = json.loads(keep.read_text())
        server = SlapdServer(SlapdConfig(password=saved["password"]), workdir=saved["dir"])
        server._initialised = True  # its cn=config and databases are in the folder already
        server.start()
        return server
    server = build_slapd(shape, lambda m: print(m, file=sys.stderr))
    server._own_dir = False  # kept for the next run
    keep.write_text(json.dumps({"password": server.password, "dir": str(server.dir)}))
    return server


def staged_main(argv: list[str]) -> int:
    import shutil
    from dataclasses import replace

    from bench.suite import SIZES, Bench, build_slapd, ldapsearch_floor

    from idsync.lab.clouddir import LocalCloudDir

    ap = argparse.ArgumentParser(prog="python -m bench.ldap_import staged")
    ap.add_argument("--size", choices=sorted(SIZES), default="M")
    ap.add_argument("--keep", type=Path,
                    help="file recording the built slapd, reused when it exists")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--pyinstrument", type=Path, help="write a pyinstrument profile (text)")
    ap.add_argument("--py-spy", type=Path, dest="py_spy",
                    help="sample every thread with py-spy, write its top functions here")
    a = ap.parse_args(argv)
    shape = replace(SIZES[a.size])
    server = (_kept_server(a.keep, shape) if a.keep
              else build_slapd(shape, lambda m: print(m, file=sys.stderr)))
    root = Path(tempfile.mkdtemp(prefix=f"idsync-staged-{a.size}-"))
    (root / "clouddir").mkdir()
    cloud = LocalCloudDir(root / "clouddir")
    cloud.start()
    try:
        floor = ldapsearch_floor(server)
        print(f"ldapsearch paged dump: {floor.objects:,} entries {floor.seconds:.2f} s",
              flush=True)
        for i in range(a.rounds):
            bench = Bench(root / f"ws{i}", server, cloud, 2, None)
            spy = None
            try:
                if a.py_spy and i == 0:
                    # --idle off: a thread waiting on slapd or the queue is not work.
                    spy = subprocess.Popen(
                        [str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
                         str(os.getpid()), "--rate", "200", "--format", "raw", "--threads",
                         "--output", str(a.py_spy.with_suffix(".raw"))],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1.0)
                profiler = None
                if a.pyinstrument and i == 0:
                    from pyinstrument import Profiler

                    profiler = Profiler(interval=0.001)
                    profiler.start()
                cpu = time.process_time()
                row = bench.step("staged", "corp", "fi")
                cpu = time.process_time() - cpu
                if profiler is not None:
                    profiler.stop()
                    a.pyinstrument.write_text(profiler.output_text(unicode=False, color=False))
            finally:
                if spy is not None:
                    spy.send_signal(2)  # SIGINT: py-spy writes what it has sampled
                    spy.wait(30)
                bench.close()
            # CPU seconds (both threads) too: on a shared machine the wall time follows the
            # load; the CPU time says what a change bought.
            print(f"round {i + 1}: corp fi {row.objects:,} objects {row.seconds:.2f} s = "
                  f"{row.seconds / floor.seconds:.1f}x the floor, {cpu:.1f} s CPU, peak RSS "
                  f"{row.peak_rss_mb:.0f} MB, load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        cloud.stop()
        if a.keep:
            server.stop()
        else:
            server.close()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["staged"]:
        sys.exit(staged_main(sys.argv[2:]))
    sys.exit(main())
