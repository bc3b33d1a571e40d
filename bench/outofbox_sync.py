"""A full synchronization through the out-of-box rules: expression evaluations per second and
the share of the sync spent in expressions.

    .venv/bin/python bench/outofbox_sync.py                    # 100,000 users, AD flavour
    .venv/bin/python bench/outofbox_sync.py --users 10000 --flavour openldap
    .venv/bin/python bench/outofbox_sync.py --json out.json --profile-top 25

The on-premises side is the bundled sample generator (``idsync.sample``) through the file
connector; with ``--flavour ad`` each entry also gets AD's attributes (objectGUID from the
entryUUID, sAMAccountName, userAccountControl: 514 in the Disabled Users OU, 512 elsewhere).
The cloud connector is a connector record only: a full synchronization stages pending exports
and never calls the service.

One Full Import, then the Full Synchronization three times on copies of the same imported
workspace: plain (the wall time), with a timer around every expression evaluation (count and
time spent inside expressions), and under cProfile (the breakdown, and the expressions' share
of the profiled time as a cross-check).
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import json
import pstats
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from idsync.administration.outofbox import install_outofbox
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.expressions.compile import CompiledExpression
from idsync.model import RunProfile
from idsync.sample import generate_directory
from idsync.store import Store

console = Console()


# --- the directory --------------------------------------------------------------------------

def _records(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        record: list[str] = []
        for line in f:
            if line == "\n":
                if record:
                    yield "".join(record)
                    record = []
            else:
                record.append(line)
        if record:
            yield "".join(record)


def _value(record: str, name: str) -> str | None:
    for line in record.split("\n"):
        if line.startswith(name + ": "):
            return line[len(name) + 2:]
        if line.startswith(name + ":: "):
            return base64.b64decode(line[len(name) + 3:]).decode("utf-8")
    return None


def add_ad_attributes(source: Path, target: Path) -> None:
    """The sample directory with AD's attributes added to each user, group and contact."""
    with open(target, "w", encoding="utf-8") as out:
        for record in _records(source):
            extra: list[str] = []
            entry_uuid = _value(record, "entryUUID")
            if entry_uuid and "objectClass: organizationalUnit" not in record:
                raw = uuid.UUID(entry_uuid).bytes_le
                extra.append("objectGUID:: " + base64.b64encode(raw).decode())
            if "objectClass: inetOrgPerson" in record:
                extra.append(f"sAMAccountName: {_value(record, 'uid')}")
                disabled = "ou=Disabled Users," in record.split("\n", 1)[0]
                extra.append(f"userAccountControl: {514 if disabled else 512}")
            elif "objectClass: groupOfNames" in record:
                name = (_value(record, "cn") or "").replace(" ", "")[:20]
                extra.append(f"sAMAccountName: {name}")
                extra.append("groupType: -2147483646")
            out.write(record + "".join(line + "\n" for line in extra) + "\n")


# --- runs ------------------------------------------------------------------------------------

class ExpressionTimer:
    """Counts and times every compiled expression evaluation (patches CompiledExpression)."""

    def __init__(self) -> None:
        self.calls = 0
        self.ns = 0
        self._original = CompiledExpression.__call__

    def __enter__(self) -> ExpressionTimer:
        timer, original, clock = self, self._original, time.perf_counter_ns

        def timed(expr: CompiledExpression, context: object) -> object:
            start = clock()
            try:
                return original(expr, context)
            finally:
                timer.ns += clock() - start
                timer.calls += 1

        CompiledExpression.__call__ = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        CompiledExpression.__call__ = self._original  # type: ignore[method-assign]


CPU_SECONDS: dict[str, float] = {}


def run(workspace: Path, connector: str, profile: str) -> tuple[RunResult, float]:
    """Run one profile; returns the result and the wall seconds (CPU seconds of this process
    go to CPU_SECONDS[workspace name]: on a shared machine wall time includes waiting)."""
    store = Store.open(workspace)
    engine = RunContext(store, str(workspace))
    try:
        start, cpu = time.perf_counter(), time.process_time()
        result = run_profile(engine, connector, RunProfile.parse(profile))
        seconds = time.perf_counter() - start
        CPU_SECONDS[workspace.name] = time.process_time() - cpu
    finally:
        engine.close()
        store.close()
    if not result.ok:
        raise SystemExit(f"{connector} {profile}: {result.status} {result.message}")
    return result, seconds


def fresh_copy(imported: Path, name: str) -> Path:
    target = imported.parent / name
    shutil.copytree(imported, target)
    return target


@dataclass
class Figures:
    users: int
    flavour: str
    objects_synced: int
    import_seconds: float
    sync_seconds: float
    sync_cpu_seconds: float
    sync_objects_per_second: float
    evaluations: int
    evaluations_per_sync_object: float
    expression_seconds: float
    evaluations_per_second: float
    expression_share: float
    timed_sync_seconds: float
    profiled_sync_seconds: float
    profiled_expression_share: float
    counters: dict[str, int]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=None,
                        help="groups in the sample (default users // 100)")
    parser.add_argument("--flavour", choices=("ad", "openldap"), default="ad")
    parser.add_argument("--workdir", help="keep the workspaces here (default: a temp folder)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--profile-top", type=int, default=15)
    args = parser.parse_args()

    root = Path(args.workdir or tempfile.mkdtemp(prefix="idsync-outofbox-"))
    imported = root / "imported"
    (imported / "onprem").mkdir(parents=True)
    sample = root / "sample.ldif"
    summary = generate_directory(sample, users=args.users,
                                 groups=args.groups or max(10, args.users // 100))
    source = imported / "onprem" / "directory.ldif"
    if args.flavour == "ad":
        add_ad_attributes(sample, source)
    else:
        shutil.copy(sample, source)
    store = Store.open(imported)
    store.connectors.add("AD", "file", {
        "path": "onprem/directory.ldif",
        "anchor_attribute": "objectGUID" if args.flavour == "ad" else "entryUUID"})
    store.connectors.add("AAD", "cloud", {"url": "http://127.0.0.1:9", "tenant_id": "bench"},
                         {"token": "never-used"})
    install_outofbox(store, "AD", "AAD", args.flavour)
    store.close()
    console.print(f"sample: {summary.users:,} users, {summary.groups:,} groups, "
                  f"{summary.contacts:,} contacts, {summary.memberships:,} memberships "
                  f"(largest group {summary.largest_group:,}); flavour {args.flavour}")

    result, import_seconds = run(imported, "AD", "fi")
    objects = sum(v for k, v in result.counters.items() if k in ("adds", "no-change",
                                                                   "updates"))
    console.print(f"full import: {objects:,} objects in {import_seconds:.1f} s")

    plain, sync_seconds = run(fresh_copy(imported, "plain"), "AD", "fs")
    console.print(f"full sync (plain): {sync_seconds:.1f} s {plain.counters}")
    with ExpressionTimer() as timer:
        _timed, timed_seconds = run(fresh_copy(imported, "timed"), "AD", "fs")
    console.print(f"full sync (timed expressions): {timed_seconds:.1f} s")
    profiled_ws = fresh_copy(imported, "profiled")
    profiler = cProfile.Profile()
    profiler.enable()
    _profiled, profiled_seconds = run(profiled_ws, "AD", "fs")
    profiler.disable()
    stats = pstats.Stats(profiler)
    expr_cumulative = sum(v[3] for k, v in stats.stats.items()  # type: ignore[attr-defined]
                          if k[2] == "__call__" and k[0].endswith("expressions/compile.py"))
    profiled_share = expr_cumulative / stats.total_tt  # type: ignore[attr-defined]

    expression_seconds = timer.ns / 1e9
    # The timer's own cost (two clock reads per call) is inside timed_seconds, not in the
    # plain run: the share is expression time over the timed run's wall time.
    figures = Figures(
        users=args.users, flavour=args.flavour, objects_synced=objects,
        import_seconds=round(import_seconds, 2), sync_seconds=round(sync_seconds, 2),
        sync_cpu_seconds=round(CPU_SECONDS["plain"], 2),
        sync_objects_per_second=round(objects / sync_seconds, 1),
        evaluations=timer.calls,
        evaluations_per_sync_object=round(timer.calls / max(1, objects), 2),
        expression_seconds=round(expression_seconds, 2),
        evaluations_per_second=round(timer.calls / expression_seconds) if expression_seconds
        else 0,
        expression_share=round(expression_seconds / timed_seconds, 4),
        timed_sync_seconds=round(timed_seconds, 2),
        profiled_sync_seconds=round(profiled_seconds, 2),
        profiled_expression_share=round(profiled_share, 4),
        counters={k: int(v) for k, v in plain.counters.items() if isinstance(v, int)})

    table = Table(title=f"Full synchronization through the out-of-box rules "
                        f"({args.users:,} users, {args.flavour})", header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("objects in the connector space", f"{objects:,}"),
        ("full import (s)", f"{import_seconds:.1f}"),
        ("full sync, plain (s)", f"{sync_seconds:.1f}"),
        ("full sync, plain, CPU (s)", f"{CPU_SECONDS['plain']:.1f}"),
        ("full sync, objects/s", f"{objects / sync_seconds:,.0f}"),
        ("expression evaluations", f"{timer.calls:,}"),
        ("evaluations per object", f"{figures.evaluations_per_sync_object}"),
        ("full sync with expression timer (s)", f"{timed_seconds:.1f}"),
        ("time inside expressions (s)", f"{expression_seconds:.1f}"),
        ("expression evaluations/s", f"{figures.evaluations_per_second:,}"),
        ("share of sync in expressions (timer)", f"{figures.expression_share:.1%}"),
        ("share of sync in expressions (cProfile)", f"{profiled_share:.1%}"),
        ("full sync under cProfile (s)", f"{profiled_seconds:.1f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.profile_top)
    console.print("cProfile, by cumulative time:", highlight=False)
    print("\n".join(out.getvalue().splitlines()[:args.profile_top + 12]))
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.profile_top)
    console.print("cProfile, by own time:", highlight=False)
    print("\n".join(out.getvalue().splitlines()[:args.profile_top + 12]))
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(figures), indent=2))
    if not args.workdir:
        shutil.rmtree(root, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
