"""Export cost of the file connector: before (every export call rewrites the content file) and
after (export calls append to the journal, found through the DN index; the content file is
compacted when the journal passes a quarter of its size).

    .venv/bin/python bench/file_export.py [--sizes 10000,100000] [--changes 100,841,8000]

For each size, one sample directory (bench/engine_cycle.py's shape: ``users // 100`` groups,
"All Employees" holding every user) is copied twice, and both copies take the same sequence of
change sets, each sent as the engine sends it: the adds in a first export call, the rest in a
second. Per change set: 1/8 adds (with a manager reference), 1/8 deletes, 5/8 attribute
replacements, 1/8 membership changes (a third of them on "All Employees"). The "after" copy
builds its index on a first one-change export, timed on its own row. Wall seconds; the machine
is shared, so the load average is printed with the table.

``--before-rev REV`` takes the "before" column from the file connector's directory.py as it was
at git revision REV (e.g. the commit before the journal) instead of today's code with the
journal turned off.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from idsync.connectors.base import ExportChange, ExportRef
from idsync.connectors.file import ContentRecord, FileConnector, read_ldif
from idsync.model import ExportKind
from idsync.sample.generator import generate_directory


@dataclass
class Row:
    users: int
    megabytes: float
    step: str
    before: float | None
    after: float | None


def connector(path: Path, *, journal: bool, old: object = None) -> FileConnector:
    made = FileConnector("bench", str(path))
    if old is not None:
        # Same constructor and apply() as today's FileDirectory.
        made.directory = old.FileDirectory(  # type: ignore[attr-defined]
            str(path), made.anchor_attribute, made._binary, made._references)
    elif not journal:
        made.directory.journal_min_bytes = 1 << 62  # the rewrite on every export call
    return made


def old_directory_module(rev: str) -> object:
    """directory.py at git revision ``rev``, importable beside today's package."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(["git", "show", f"{rev}:src/idsync/connectors/file/directory.py"],
                            cwd=root, check=True, capture_output=True, text=True).stdout
    # Its helpers (dn, ldif) have since moved from the connector to the file directory.
    source = source.replace("idsync.connectors.file.", "idsync.filedir.")
    folder = Path(tempfile.mkdtemp(prefix="idsync-old-directory-"))
    (folder / "old_directory.py").write_text(source)
    spec = importlib.util.spec_from_file_location("old_directory", folder / "old_directory.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_directory"] = module
    spec.loader.exec_module(module)
    return module


class Changes:
    """Change sets over one directory; each user is deleted or renamed at most once."""

    def __init__(self, path: Path, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.users: list[str] = []
        self.groups: list[str] = []
        for record in read_ldif(path):
            assert isinstance(record, ContentRecord)
            classes = {str(v).lower() for v in record.attributes.get("objectClass", [])}
            if "inetorgperson" in classes:
                self.users.append(record.dn)
            elif "groupofnames" in classes:
                self.groups.append(record.dn)
        self.rng.shuffle(self.users)
        self.all_employees = next(g for g in self.groups if g.startswith("cn=All Employees"))
        self.added = 0
        self.cs = 0

    def _id(self) -> int:
        self.cs += 1
        return self.cs

    def calls(self, count: int) -> list[list[ExportChange]]:
        rng = self.rng
        adds, deletes, members = count // 8, count // 8, count // 8
        modifies = count - adds - deletes - members
        first: list[ExportChange] = []
        base = self.users[0].split(",", 1)[1]
        new_users = []
        for _ in range(adds):
            self.added += 1
            dn = f"uid=bench.{self.added},{base}"
            new_users.append(dn)
            # A given anchor (else the directory draws a uuid4): both copies stay equal.
            first.append(ExportChange(self._id(), ExportKind.ADD, dn, "user",
                                      anchor=f"bench-{self.added}", attributes={
                "cn": [f"Bench {self.added}"], "sn": ["Bench"],
                "manager": [ExportRef(rng.choice(self.users))]}))
        rest: list[ExportChange] = []
        for _ in range(deletes):
            rest.append(ExportChange(self._id(), ExportKind.DELETE, self.users.pop(), "user"))
        for _ in range(modifies):
            rest.append(ExportChange(self._id(), ExportKind.MODIFY, rng.choice(self.users),
                                     "user", attributes={"title": [f"T{rng.randrange(99)}"]}))
        for i in range(members):
            group = self.all_employees if i % 3 == 0 else rng.choice(self.groups)
            member = new_users[i] if i < len(new_users) else rng.choice(self.users)
            rest.append(ExportChange(self._id(), ExportKind.MODIFY, group, "group",
                                     value_adds={"member": [ExportRef(member)]},
                                     value_removes={"member": [ExportRef(
                                         rng.choice(self.users))]}))
        self.users.extend(new_users)
        return [first, rest]


def export(made: FileConnector, calls: list[list[ExportChange]]) -> float:
    started = time.perf_counter()
    for changes in calls:
        results = list(made.export(changes))
        assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
    return time.perf_counter() - started


def bench_size(root: Path, users: int, counts: list[int], old: object = None) -> list[Row]:
    folder = root / str(users)
    (folder / "before").mkdir(parents=True)
    (folder / "after").mkdir()
    source = folder / "generated.ldif"
    generate_directory(str(source), users=users, groups=max(10, users // 100), seed=1)
    megabytes = source.stat().st_size / 1e6
    for mode in ("before", "after"):
        shutil.copyfile(source, folder / mode / "d.ldif")
    before = connector(folder / "before" / "d.ldif", journal=False, old=old)
    after = connector(folder / "after" / "d.ldif", journal=True)
    rows = []
    # The index is built once, on the first export that finds none (after this, the
    # compactions rebuild it from the offsets they write).
    changes = Changes(source)
    first = [[ExportChange(0, ExportKind.MODIFY, changes.users[0], "user",
                           attributes={"title": ["warm"]})]]
    rows.append(Row(users, megabytes, "first export (1 change), builds the index (once)",
                    export(before, first), export(after, first)))
    for count in counts:
        calls = changes.calls(count)
        journal_before = _size(folder / "after" / "d.ldif.journal")
        t_before, t_after = export(before, calls), export(after, calls)
        journal_after = _size(folder / "after" / "d.ldif.journal")
        note = " (compacted)" if journal_after < journal_before else ""
        rows.append(Row(users, megabytes, f"export {count:,} changes, 2 calls{note}",
                        t_before, t_after))
    started = time.perf_counter()
    after.compact()
    rows.append(Row(users, megabytes, "compact (fold the journal)", None,
                    time.perf_counter() - started))
    assert (folder / "before" / "d.ldif").read_bytes() == (
        folder / "after" / "d.ldif").read_bytes(), "the two directories differ"
    return rows


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--changes", default="100,841,8000")
    parser.add_argument("--keep", help="work in this folder and keep it")
    parser.add_argument("--before-rev", help="git revision whose directory.py gives the "
                        "'before' column (default: today's code, journal off)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    counts = [int(c) for c in args.changes.split(",")]
    root = Path(args.keep or tempfile.mkdtemp(prefix="idsync-file-export-"))
    old = old_directory_module(args.before_rev) if args.before_rev else None
    loads = [os.getloadavg()[0]]
    rows: list[Row] = []
    try:
        for users in sizes:
            rows.extend(bench_size(root, users, counts, old))
            loads.append(os.getloadavg()[0])
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    before = f"directory.py at {args.before_rev}" if args.before_rev else "journal off"
    table = Table(title="file connector export: before (rewrite per call: "
                        f"{before}) / after (journal)", header_style="bold")
    for name in ("users", "content MB", "step", "before s", "after s", "speed-up"):
        table.add_column(name, justify="left" if name == "step" else "right")
    for row in rows:
        speedup = (f"{row.before / row.after:.0f}x" if row.before and row.after else "")
        table.add_row(f"{row.users:,}", f"{row.megabytes:.1f}", row.step,
                      f"{row.before:.3f}" if row.before is not None else "",
                      f"{row.after:.3f}" if row.after is not None else "", speedup)
    Console(width=130).print(table)
    print(f"load average (1 min) during the run: {min(loads):.1f}-{max(loads):.1f}, "
          f"{os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
