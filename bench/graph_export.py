"""The initial export of a directory through the graph connector (Microsoft Graph JSON
batches) beside the sync API v2, on the same data, against one clouddir served over HTTPS, and
a 1% membership churn of the largest group through both: requests, bytes and seconds, with
Graph's request floor measured in the same run.

    .venv/bin/python -m bench.graph_export --size S [--json out.json] [--db URL]

The floor of an initial export is ``ceil(objects / 20)`` batches plus ``ceil(memberships /
20)`` member requests (Graph takes at most 20 requests per batch and 20 members per
``members@odata.bind``); the issue's target is a request count within 1.2x of it. Every row
comes from the engine's own run profiles (the out-of-box rules, the scheduler's order), so
the figures are what an administrator's cycle would send.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from bench.suite import (
    DELTA,
    INITIAL,
    SIZES,
    Bench,
    Row,
    build_slapd,
    group_members,
    minimal_membership_delta,
)

from idsync.administration.outofbox import install_outofbox
from idsync.lab.clouddir import LocalCloudDir
from idsync.lab.ldapdata import largest_group, pick_membership_churn, user_dn
from idsync.lab.slapd import SlapdServer
from idsync.lab.tls import make_app_certificate
from idsync.rules.outofbox import Target
from idsync.store import Store

GENEROUS = {"write_budget": 100_000_000, "write_window": 1}


class GraphBench(Bench):
    """A workspace whose cloud connector (named ``cloud``, so the suite's cycles apply) is a
    graph connector authenticated by MSAL with a certificate."""

    def __init__(self, root: Path, server: SlapdServer, cloud: LocalCloudDir,
                 database: str | None) -> None:
        self.root = root
        self.profile_dir = None
        self.rows = []
        root.mkdir(parents=True, exist_ok=True)
        self.store = Store.open(root, database=database)
        self.tenant_id, self.token = cloud.create_tenant(f"bench-{root.name}")
        cert = make_app_certificate(root / "app")
        app = cloud.create_app(self.tenant_id, "idsync-bench", certificate=cert.cert_file)
        self.store.connectors.add("corp", "ldap", server.connector_settings(
            directory_type="openldap", change_detection="accesslog"),
            {"password": server.password})
        self.store.connectors.add("cloud", "graph", {
            "tenant_id": self.tenant_id, "client_id": app["client_id"],
            "authority": cloud.url, "graph_url": f"{cloud.url}/v1.0",
            "tls_ca_file": str(cloud.ca_file),
            # The clouddir of the bench has a generous budget: measure the protocol, not the
            # connector's default pacing (3,000 writes per 150 s, under Entra's throttling).
            "write_budget": 1_000_000, "write_window": 1},
            {"certificate_key": cert.key_pem, "certificate_thumbprint": cert.thumbprint})
        install_outofbox(self.store, onprem="corp", cloud="cloud", flavour="openldap",
                         target=Target.GRAPH)
        self.store.settings.set("export_deletion_threshold",
                                {"enabled": True, "count": 1_000_000})


def graph_counts(cloud: LocalCloudDir, token: str) -> tuple[int, int]:
    """Objects and memberships the tenant holds, read through its Graph face (not measured)."""
    objects = memberships = 0
    with httpx.Client(base_url=f"{cloud.url}/v1.0", verify=cloud.verify(), timeout=120,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        def pages(url: str) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            next_url: str | None = url
            while next_url:
                page = http.get(next_url).json()
                out += page["value"]
                next_url = page.get("@odata.nextLink")
            return out

        objects += len(pages("/users?$select=id&$top=999"))
        groups = pages("/groups?$select=id&$top=999")
        objects += len(groups)
        for group in groups:
            memberships += len(pages(f"/groups/{group['id']}/members?$select=id&$top=999"))
    return objects, memberships


@dataclass
class Figure:
    scenario: str
    api: str
    seconds: float
    requests: int
    bytes_sent: int
    floor_requests: int | None = None
    ratio: float | None = None
    note: str = ""


def export_row(bench: Bench, scenario: str) -> Row:
    return next(r for r in bench.rows if r.scenario == scenario and r.stage == "cloud e")


def churn_largest_group(server: SlapdServer, size: str, seed: int = 99
                        ) -> tuple[list[int], list[int], int]:
    """1% of the largest group's members: half removed, half users not yet members added."""
    shape = SIZES[size]
    dn, _size = largest_group(shape)
    members = group_members(server, dn)
    alive = list(range(1, shape.users + 1))
    removed, added = pick_membership_churn(members, alive, random.Random(seed))
    server.modify(dn, [("delete", "member", [user_dn(shape, n) for n in removed]),
                       ("add", "member", [user_dn(shape, n) for n in added])])
    return removed, added, len(members)


def run(size: str, database: str | None) -> tuple[dict[str, Any], list[Figure], list[Row]]:
    root = Path(tempfile.mkdtemp(prefix=f"idsync-bench-graph-{size}-"))
    server = build_slapd(SIZES[size])
    (root / "clouddir").mkdir()
    cloud = LocalCloudDir(root / "clouddir", GENEROUS, tls=True)
    cloud.start()
    # The sync API connector trusts the lab's CA the way any httpx client does: both APIs
    # are measured over the same HTTPS server.
    os.environ["SSL_CERT_FILE"] = str(cloud.ca_file)
    figures: list[Figure] = []
    rows: list[Row] = []
    head: dict[str, Any] = {"header": True, "size": size, "cpus": os.cpu_count(),
                            "database": database or "sqlite (workspace)",
                            "load_average": [round(x, 2) for x in os.getloadavg()]}
    try:
        v2 = Bench(root / "v2", server, cloud, 2, database)
        graph = GraphBench(root / "graph", server, cloud, database)
        benches = (("sync API v2", v2), ("graph", graph))
        for api, bench in benches:
            bench.cycle(f"initial {api}", INITIAL)
        objects, memberships = graph_counts(cloud, graph.token)
        floor = math.ceil(objects / 20) + math.ceil(memberships / 20)
        head.update(objects=objects, memberships=memberships, graph_floor_requests=floor)
        for api, bench in benches:
            row = export_row(bench, f"initial {api}")
            figures.append(Figure("initial export", api, row.seconds, row.requests,
                                  row.bytes_sent, floor if api == "graph" else None,
                                  round(row.requests / floor, 2) if api == "graph" else None,
                                  f"{objects:,} objects, {memberships:,} memberships"))
            # References exported before their targets existed go out in the next cycle.
            bench.cycle(f"settle {api}", DELTA)
        removed, added, members = churn_largest_group(server, size)
        minimal = minimal_membership_delta({0: {"add": added, "remove": removed}})
        # Graph: one DELETE per removed member, one request per 20 added; 20 to a batch.
        items = len(removed) + math.ceil(len(added) / 20)
        churn_floor = math.ceil(items / 20)
        for api, bench in benches:
            scenario = f"1% churn {api}"
            bench.cycle(scenario, DELTA)
            row = export_row(bench, scenario)
            figures.append(Figure(
                f"1% churn of a {members:,}-member group", api, row.seconds, row.requests,
                row.bytes_sent, churn_floor if api == "graph" else None,
                round(row.requests / churn_floor, 2) if api == "graph" else None,
                f"{len(removed)} removed + {len(added)} added; minimal delta "
                f"{minimal.bytes_sent:,} bytes, {row.bytes_sent / minimal.bytes_sent:.1f}x"))
        for _api, bench in benches:
            rows += bench.rows
            bench.close()
    finally:
        cloud.stop()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    head["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return head, figures, rows


def print_figures(head: dict[str, Any], figures: list[Figure]) -> None:
    print(f"\ngraph connector against the sync API v2, size {head['size']}, {head['cpus']} "
          f"CPUs, {head['database']}, load {head['load_average'][0]:.2f} -> "
          f"{head['load_average_end'][0]:.2f}")
    print("| scenario | API | seconds | requests | bytes sent | Graph floor | x floor | note |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for f in figures:
        floor = f"{f.floor_requests:,}" if f.floor_requests is not None else ""
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        print(f"| {f.scenario} | {f.api} | {f.seconds:.2f} | {f.requests:,} | "
              f"{f.bytes_sent:,} | {floor} | {ratio} | {f.note} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--db", default=None, help="the workspaces' database (PostgreSQL URL)")
    parser.add_argument("--json", default=None, help="write the figures and rows here")
    args = parser.parse_args()
    started = time.perf_counter()
    head, figures, rows = run(args.size, args.db)
    head["seconds"] = round(time.perf_counter() - started, 1)
    print_figures(head, figures)
    if args.json:
        Path(args.json).write_text(json.dumps(
            [head, *(asdict(f) for f in figures), *(asdict(r) for r in rows)], indent=2))


if __name__ == "__main__":
    main()
