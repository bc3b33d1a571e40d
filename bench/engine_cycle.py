"""Engine benchmark through the file connector: the initial cycle and a 1%-churn delta cycle at
several directory sizes, side by side in one run.

    .venv/bin/python bench/engine_cycle.py                 # 10,000 and 100,000 users
    .venv/bin/python bench/engine_cycle.py --sizes 10000   # one size
    .venv/bin/python bench/engine_cycle.py --json out.json
    .venv/bin/python bench/engine_cycle.py --sizes 10000 --database postgresql://u@127.0.0.1:5432/db

Prints one row per stage: objects handled, seconds, objects per second, peak RSS during the
stage. The last table compares the delta cycle across sizes: with the same churn rate its cost
should follow the number of changes, not the size of the directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from idsync.administration.rule_changes import save_rules
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import run_profile
from idsync.model import RunProfile
from idsync.rules.files import builtin_rule_set
from idsync.sample import generate_churn, generate_directory
from idsync.store import Store

TARGET_BASE = "dc=fabrikam,dc=com"


@dataclass
class Row:
    size: int
    cycle: str
    stage: str
    objects: int
    seconds: float
    objects_per_second: float
    peak_rss_mb: float


class PeakRss:
    """Samples this process's resident memory while a stage runs."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self.peak = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def objects_handled(counters: dict[str, int]) -> int:
    keys = ("adds", "updates", "deletes", "renames", "no-change", "mv-updates", "projections",
            "export-adds-staged", "export-modifys-staged", "export-deletes-staged")
    return sum(counters.get(k, 0) for k in keys)


def setup(folder: Path, users: int, database: str | None = None) -> Store:
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "source").mkdir(parents=True)
    (folder / "target").mkdir()
    generate_directory(str(folder / "source" / "directory.ldif"), users=users,
                       groups=max(10, users // 100), seed=1)
    (folder / "target" / "directory.ldif").write_text(
        f"version: 1\n\ndn: {TARGET_BASE}\nobjectClass: dcObject\nobjectClass: organization\n"
        f"dc: fabrikam\no: Fabrikam\n")
    if database:  # a fresh schema per run, so the figures never include an earlier run's rows
        from idsync.store.postgres import schema_url

        database = schema_url(database, f"bench_{users}_{int(time.time())}")
    store = Store.open(folder, database=database)
    store.connectors.add("source", "file", {"path": "source/directory.ldif",
                                            "changes_path": "source/changes.ldif"})
    # The target's export log is its changelog: a delta import confirms the exports.
    store.connectors.add("target", "file", {"path": "target/directory.ldif",
                                            "export_log": "target/changes.ldif",
                                            "changes_path": "target/changes.ldif"})
    # The reference's typical churn deletes 1% of the directory: 1,000 objects at 100,000, over
    # the default accidental-delete threshold of 500. The benchmark means them.
    with store.transaction():
        store.settings.set("export_deletion_threshold", {"enabled": True, "count": 1_000_000})
    save_rules(store, builtin_rule_set("directory-to-directory", source="source",
                                       target="target", target_base=TARGET_BASE),
               installing_builtin=True)
    return store


INITIAL = [("source", RunProfile.FULL_IMPORT), ("target", RunProfile.FULL_IMPORT),
           ("source", RunProfile.FULL_SYNC), ("target", RunProfile.FULL_SYNC),
           ("target", RunProfile.EXPORT), ("target", RunProfile.DELTA_IMPORT),
           ("target", RunProfile.DELTA_SYNC)]
DELTA = [("source", RunProfile.DELTA_IMPORT), ("source", RunProfile.DELTA_SYNC),
         ("target", RunProfile.EXPORT), ("target", RunProfile.DELTA_IMPORT),
         ("target", RunProfile.DELTA_SYNC)]


def run_stages(engine: RunContext, size: int, cycle: str, stages: list) -> list[Row]:
    rows = []
    for connector, profile in stages:
        with PeakRss() as rss:
            started = time.perf_counter()
            result = run_profile(engine, connector, profile)
            seconds = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"{profile.value} on {connector}: {result.status} {result.message}")
        n = objects_handled(result.counters)
        rows.append(Row(size, cycle, f"{connector}: {profile.value}", n, round(seconds, 3),
                        round(n / seconds, 1) if seconds else 0.0,
                        round(rss.peak / 2**20, 1)))
    total = sum(r.seconds for r in rows)
    n = sum(r.objects for r in rows if "source" in r.stage and "Import" in r.stage)
    rows.append(Row(size, cycle, "whole cycle", n, round(total, 3),
                    round(n / total, 1) if total else 0.0, max(r.peak_rss_mb for r in rows)))
    return rows


def bench_size(root: Path, users: int, database: str | None = None) -> list[Row]:
    folder = root / f"engine-{users}"
    store = setup(folder, users, database)
    engine = RunContext(store, str(folder))
    rows = run_stages(engine, users, "initial", INITIAL)
    source = str(folder / "source" / "directory.ldif")
    generate_churn(source, changes_path=folder / "source" / "changes.ldif", seed=2,
                   creates=0.01, deletes=0.01, modifies=0.05, memberships=0.01)
    rows += run_stages(engine, users, "delta 1%", DELTA)
    rows += run_stages(engine, users, "no change", DELTA)
    engine.close()
    store.close()
    return rows


def print_rows(rows: list[Row]) -> None:
    console = Console(width=max(Console().width, 120))
    table = Table(title="idsync engine through the file connector", header_style="bold")
    for col in ("users", "cycle", "stage", "objects", "seconds", "objects/s", "peak RSS MB"):
        table.add_column(col, justify="left" if col in ("cycle", "stage") else "right")
    for r in rows:
        table.add_row(f"{r.size:,}", r.cycle, r.stage, f"{r.objects:,}", f"{r.seconds:.2f}",
                      f"{r.objects_per_second:,.0f}", f"{r.peak_rss_mb:.0f}")
    console.print(table)
    cycles = {(r.size, r.cycle): r for r in rows if r.stage == "whole cycle"}
    sizes = sorted({r.size for r in rows})
    if len(sizes) > 1:
        cmp = Table(title="delta cycle cost across sizes (same 1% churn rate)",
                    header_style="bold")
        for col in ("users", "initial s", "delta 1% s", "no change s", "delta / initial"):
            cmp.add_column(col, justify="right")
        for s in sizes:
            i, d, q = cycles[(s, "initial")], cycles[(s, "delta 1%")], cycles[(s, "no change")]
            cmp.add_row(f"{s:,}", f"{i.seconds:.2f}", f"{d.seconds:.2f}", f"{q.seconds:.2f}",
                        f"{d.seconds / i.seconds:.3f}")
        console.print(cmp)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--json", dest="json_path")
    parser.add_argument("--root", default=os.environ.get("IDSYNC_BENCH_DIR", ".bench"))
    parser.add_argument("--database", metavar="URL", default=None,
                        help="run on PostgreSQL (postgresql://...; a new schema per size) "
                             "instead of a SQLite file in the workspace")
    args = parser.parse_args(argv)
    root = Path(args.root)
    rows: list[Row] = []
    for size in [int(s) for s in args.sizes.split(",")]:
        rows += bench_size(root, size, args.database)
    print_rows(rows)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    sys.exit(main())
