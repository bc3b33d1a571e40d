"""Page times of the web UI at scale (issue 17: every page under 300 ms p95 with 250,000
objects in a connector space and a 250,000-member group, on SQLite and PostgreSQL).

    .venv/bin/python -m bench.ui_pages --objects 250000 [--database sqlite|postgres|both]
        [--postgres-url URL] [--requests 20] [--cache DIR] [--json FILE]

For each store: builds (or reuses) the workspace of bench/ui_workspace.py, starts
``idsync serve`` on it (scheduled cycles off), signs in with httpx and GETs each page of
``PAGES`` ``--requests`` times after a warm-up, then prints one table: page, then p50, p95
and max in milliseconds per store. A page that answers 404 is reported "not built" (the
pages are built in parallel branches; the list is data: each URL is formed from the
generated workspace's ids, so the table runs unchanged after the merge); another non-200
answer is reported with its status. PostgreSQL: ``--postgres-url`` or, without it, a private
server started for the run (tests/harness/postgres.py) and stopped after it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from bench.ui_workspace import ADMIN, Built, build
from tests.harness.postgres import PostgresServer, start_postgres

#: (page, URL template): each placeholder is a field of ``Built``. Edit here when a page's
#: query parameters settle.
PAGES = (
    # not a page: what any answer costs (the service's health check, no session, no store)
    ("/health (floor, not a page)", "/health"),
    ("/dashboard", "/dashboard"),
    ("/operations", "/operations"),
    ("/runs/{id}", "/runs/{run_id}"),
    ("/connectors", "/connectors"),
    ("/connectors/{name}", "/connectors/{source}"),
    ("/connectors/{name} search by RDN", "/connectors/{source}?rdn={user_rdn_q}"),
    ("/connectors/{name} search by subtree",
     "/connectors/{source}?subtree=ou%3DUsers%2Cdc%3Dcontoso%2Cdc%3Dcom"),
    ("/connectors/{name} pending export", "/connectors/{target}?pending_export=on"),
    ("/cs/{id} user", "/cs/{user_cs}"),
    ("/cs/{id} 250k-member group", "/cs/{group_cs}"),
    ("/cs/{id}/values/member?after=", "/cs/{group_cs}/values/member?after={member_after}"),
    ("/cs/{id} group with a large pending add", "/cs/{group_target}"),
    ("/cs/{id}/export/member/add", "/cs/{group_target}/export/member/add"),
    ("/metaverse search",
     "/metaverse?object_type=person&attr1=accountName&op1=equals&value1={account}"),
    ("/mv/{id} user", "/mv/{user_mv}"),
    ("/mv/{id} 250k-member group", "/mv/{group_mv}"),
    ("/rules", "/rules"),
    ("/rules/{id}", "/rules/{rule_id}"),
    ("/settings", "/settings"),
    ("/settings/limits", "/settings/limits"),
    ("/settings/exports/{name}", "/settings/exports/{target}"),
    ("/settings/exports/{name} with the large group",
     "/settings/exports/{target}?after={before_group_target}"),
    ("/settings/api-versions", "/settings/api-versions"),
    ("/preview (the form)", "/preview"),
    ("/audit", "/audit"),
    ("/admins", "/admins"),
)
WARM_UP = 2
TIMEOUT = 120.0


@dataclass
class Timing:
    page: str
    url: str
    status: int
    p50: float = 0.0
    p95: float = 0.0
    max: float = 0.0

    def cells(self) -> list[str]:
        if self.status == 404:
            return ["not built", "", ""]
        if self.status != 200:
            return [f"HTTP {self.status}", "", ""]
        return [f"{self.p50:.0f}", f"{self.p95:.0f}", f"{self.max:.0f}"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest rank: the smallest sample at or above ``fraction`` of them."""
    ordered = sorted(samples)
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


def urls(built: Built) -> list[tuple[str, str]]:
    fields = {**asdict(built), "user_rdn_q": quote(built.user_rdn, safe=""),
              # the export preview's page that starts with the large group's pending add
              "before_group_target": built.group_target - 1}
    return [(page, template.format(**fields)) for page, template in PAGES]


def start_server(workspace: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    env = {**os.environ}
    subprocess.run([sys.executable, "-m", "idsync", "--workspace", str(workspace), "scheduler",
                    "set", "--sync-cycle-enabled", "false"], check=True, capture_output=True,
                   env=env)
    err = workspace / "serve-bench.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "idsync", "--workspace", str(workspace), "serve", "--port", "0"],
        stdout=subprocess.DEVNULL, stderr=open(err, "wb"), env=env)  # noqa: SIM115
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"idsync serve ended:\n{err.read_text()}")
        for line in err.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("message") == "service started":
                    return process, entry["url"], err
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("idsync serve did not start in 120 s")


def time_pages(url: str, built: Built, requests: int) -> list[Timing]:
    out = []
    with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        answer = client.post("/signin", data={"name": ADMIN[0], "password": ADMIN[1],
                                              "next": "/"})
        if answer.status_code != 303:
            raise SystemExit(f"sign-in failed: HTTP {answer.status_code}")
        for page, path in urls(built):
            status = 0
            for _ in range(WARM_UP):
                status = client.get(path).status_code
            if status != 200:
                out.append(Timing(page, path, status))
                log(f"  {page}: HTTP {status}")
                continue
            samples = []
            for _ in range(requests):
                started = time.perf_counter()
                answer = client.get(path)
                samples.append((time.perf_counter() - started) * 1000)
                status = answer.status_code
            timing = Timing(page, path, status, percentile(samples, 0.5),
                            percentile(samples, 0.95), max(samples))
            out.append(timing)
            log(f"  {page}: p50 {timing.p50:.0f} ms, p95 {timing.p95:.0f} ms")
    return out


def run_store(store: str, n: int, requests: int, cache: Path, postgres_url: str | None
              ) -> list[Timing]:
    # A PostgreSQL workspace lives in a schema of one server: its cache is per server.
    server = "" if store == "sqlite" or not postgres_url else "-" + hashlib.sha1(
        postgres_url.encode()).hexdigest()[:8]
    folder = cache / f"{store}-{n}{server}"
    if store == "postgres" and folder.exists() and not (folder / "built.json").exists():
        shutil.rmtree(folder)
    built = build(folder, n, postgres_url if store == "postgres" else None, log)
    process, url, _err = start_server(folder)
    try:
        log(f"timing {store} at {url}")
        return time_pages(url, built, requests)
    finally:
        process.terminate()
        process.wait(30)


def print_table(n: int, results: dict[str, list[Timing]]) -> None:
    stores = list(results)
    pages = [t.page for t in next(iter(results.values()))]
    width = max(len(p) for p in pages)
    head = f"| {'page':<{width}} |" + "".join(
        f" {s + ' p50':>12} | {'p95':>9} | {'max':>9} |" for s in stores)
    print(f"\nWeb UI page times, ms ({n:,} objects in a connector space, a {n:,}-member group)")
    print(head)
    print("|" + "-" * (width + 2) + "|" + "|".join(
        ["-" * 14 + "|" + "-" * 11 + "|" + "-" * 11] * len(stores)) + "|")
    for i, page in enumerate(pages):
        cells = []
        for s in stores:
            a, b, c = results[s][i].cells()
            cells.append(f" {a:>12} | {b:>9} | {c:>9} |")
        print(f"| {page:<{width}} |" + "".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ui_pages",
                                     description="web UI page times at scale (issue 17)")
    parser.add_argument("--objects", type=int, default=10_000,
                        help="users in the connector space and members of the group")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", help="a PostgreSQL server to create a schema in "
                                               "(default: start a private one for the run)")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "idsync-bench-ui",
                        help="where built workspaces are kept and reused")
    parser.add_argument("--json", type=Path, help="also write the timings to this file")
    args = parser.parse_args()
    stores = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results: dict[str, list[Timing]] = {}
    server: PostgresServer | None = None
    pg_folder: Path | None = None
    try:
        for store in stores:
            url = None
            cache = args.cache
            if store == "postgres":
                url = args.postgres_url
                if url is None:
                    pg_folder = Path(tempfile.mkdtemp(prefix="idsync-bench-pg-"))
                    os.chmod(pg_folder, 0o755)
                    server = start_postgres(pg_folder)
                    url = server.url
                    # a private server dies with the run: its workspace cannot be reused
                    cache = pg_folder / "workspaces"
            results[store] = run_store(store, args.objects, args.requests, cache, url)
    finally:
        if server is not None:
            server.stop()
        if pg_folder is not None:
            shutil.rmtree(pg_folder, ignore_errors=True)
    print_table(args.objects, results)
    if args.json:
        args.json.write_text(json.dumps({s: [asdict(t) for t in ts]
                                         for s, ts in results.items()}, indent=1))


if __name__ == "__main__":
    main()
