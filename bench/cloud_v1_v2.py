"""Sync API v1 against v2, side by side in one run, through idsync's cloud connector and a
real clouddir server on loopback.

Scenarios (each on a fresh tenant per API version):
  1. initial export of 10,000 users and 1,000 groups (50 members each);
  2. 1% membership churn (250 removed, 250 added) on a 50,000-member group:
     v1 resends the whole list, v2 sends the delta;
  3. a 250,000-member group under v2 (export, 1% churn, full import); v1 refuses it.

Usage: .venv/bin/python bench/cloud_v1_v2.py [--scale 0.1] [--skip-250k] [--db URL]
(``--db postgresql://...`` serves clouddir from PostgreSQL; by default a SQLite file.)
Setup work (creating the member users) is not measured; the measured step is timed alone.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from idsync.connectors.base import ExportChange, ExportRef, ImportContext
from idsync.connectors.cloud import CloudConnector, create_connector
from idsync.lab.clouddir import LocalCloudDir
from idsync.model import ExportKind


@dataclass
class Row:
    scenario: str
    api: str
    seconds: float
    requests: int
    bytes_sent: int
    bytes_received: int
    ok: int
    failed: int
    note: str = ""


class Server(LocalCloudDir):
    """The lab's clouddir with a generous write budget; tenants come from its CLI."""

    def __init__(self, workdir: Path, db_url: str | None = None) -> None:
        super().__init__(workdir, {"write_budget": 100_000_000, "write_window": 1}, db_url)
        self.start()

    def connector(self, version: int) -> CloudConnector:
        tenant_id, token = self.create_tenant(f"bench-v{version}")
        return create_connector("aad", {"url": self.url, "tenant_id": tenant_id,
                                        "export_api_version": version,
                                        "import_api_version": version},
                                {"token": token}, tempfile.gettempdir())


def users(start: int, count: int, prefix: str) -> list[ExportChange]:
    return [ExportChange(i, ExportKind.ADD, f"CN={prefix}{i}", "user", attributes={
        "sourceAnchor": [f"{prefix}{i}"], "userPrincipalName": [f"{prefix}{i}@contoso.test"],
        "displayName": [f"User {i}"], "mailNickname": [f"{prefix}{i}"],
        "proxyAddresses": [f"SMTP:{prefix}{i}@contoso.test"]})
        for i in range(start, start + count)]


def export_all(connector: CloudConnector, changes: Iterable[ExportChange]
               ) -> tuple[dict[int, str], int]:
    anchors: dict[int, str] = {}
    failed = 0
    for result in connector.export(changes):
        if result.anchor:
            anchors[result.cs_id] = result.anchor
        failed += not result.ok
    return anchors, failed


def measure(scenario: str, api: str, connector: CloudConnector,
            step: Callable[[], tuple[int, int]], note: str = "") -> Row:
    traffic = connector.client.traffic
    requests, sent, received = traffic.requests, traffic.bytes_sent, traffic.bytes_received
    started = time.perf_counter()
    ok, failed = step()
    return Row(scenario, api, time.perf_counter() - started, traffic.requests - requests,
               traffic.bytes_sent - sent, traffic.bytes_received - received, ok, failed, note)


def member_refs(anchors: dict[int, str], ids: Iterable[int], prefix: str) -> list[ExportRef]:
    return [ExportRef(f"CN={prefix}{i}", anchors[i]) for i in ids]


def import_all(connector: CloudConnector, watermark: dict | None) -> tuple[int, dict | None]:
    """Run a full (watermark None) or delta import; (member values seen, final watermark)."""
    context = ImportContext(watermark=watermark, batch_size=500)
    batches = (connector.full_import(context) if watermark is None
               else connector.delta_import(context))
    values = 0
    last = None
    for batch in batches:
        for record in batch.records:
            values += len(record.attributes.get("member", []))
            values += len(record.value_adds.get("member", []))
            values += len(record.value_removes.get("member", []))
        last = batch.watermark or last
    return values, last


def scenario_initial(server: Server, version: int, n_users: int, n_groups: int,
                     per_group: int) -> list[Row]:
    connector = server.connector(version)
    rng = random.Random(7)

    def step() -> tuple[int, int]:
        anchors, failed = export_all(connector, users(0, n_users, "u"))
        groups = [ExportChange(1_000_000 + g, ExportKind.ADD, f"CN=g{g}", "group", attributes={
            "sourceAnchor": [f"g{g}"], "displayName": [f"Group {g}"],
            "member": member_refs(anchors, rng.sample(range(n_users), per_group), "u")})
            for g in range(n_groups)]
        group_anchors, group_failed = export_all(connector, groups)
        return len(anchors) + len(group_anchors), failed + group_failed

    row = measure(f"initial export {n_users:,} users + {n_groups:,} groups", f"v{version}",
                  connector, step)
    imported = measure(f"full import {n_users:,} users + {n_groups:,} groups", f"v{version}",
                       connector, lambda: (import_all(connector, None)[0], 0),
                       note="ok = member values")
    connector.close()
    return [row, imported]


def scenario_churn(server: Server, version: int, size: int, churn: float) -> list[Row]:
    connector = server.connector(version)
    changed = int(size * churn / 2)
    anchors, _ = export_all(connector, users(0, size + changed, "m"))
    # Setup (not measured): the group with its first 50,000 members, in each API's own way.
    [created] = list(connector.export([ExportChange(1, ExportKind.ADD, "CN=big", "group",
                                                    attributes={
        "sourceAnchor": ["big"], "displayName": ["Big"],
        "member": member_refs(anchors, range(size), "m")})]))
    assert created.ok, created
    removed = range(changed)
    added = range(size, size + changed)

    def step() -> tuple[int, int]:
        if version == 1:
            change = ExportChange(1, ExportKind.MODIFY, "CN=big", "group", anchor=created.anchor,
                                  attributes={"member": member_refs(
                                      anchors, [*range(changed, size), *added], "m")})
        else:
            change = ExportChange(1, ExportKind.MODIFY, "CN=big", "group", anchor=created.anchor,
                                  value_adds={"member": member_refs(anchors, added, "m")},
                                  value_removes={"member": member_refs(anchors, removed, "m")})
        [result] = list(connector.export([change]))
        return int(result.ok), int(not result.ok)

    _values, watermark = import_all(connector, None)  # setup: the watermark before the churn
    rows = [measure(f"{churn:.0%} churn on a {size:,}-member group", f"v{version}", connector,
                    step, note=f"{changed} removed + {changed} added")]
    rows.append(measure("  then delta import of that churn", f"v{version}", connector,
                        lambda: (import_all(connector, watermark)[0], 0),
                        note="ok = member values"))
    connector.close()
    return rows


def scenario_250k(server: Server, size: int) -> list[Row]:
    connector = server.connector(2)
    anchors, _ = export_all(connector, users(0, size + size // 200, "x"))
    rows: list[Row] = []
    group_anchor: list[str] = []

    def create() -> tuple[int, int]:
        [result] = list(connector.export([ExportChange(1, ExportKind.ADD, "CN=huge", "group",
                                                       attributes={
            "sourceAnchor": ["huge"], "displayName": ["Huge"],
            "member": member_refs(anchors, range(size), "x")})]))
        group_anchor.append(result.anchor or "")
        return int(result.ok), int(not result.ok)

    rows.append(measure(f"export a {size:,}-member group", "v2", connector, create))
    changed = size // 200

    def churn() -> tuple[int, int]:
        [result] = list(connector.export([ExportChange(
            1, ExportKind.MODIFY, "CN=huge", "group", anchor=group_anchor[0],
            value_adds={"member": member_refs(anchors, range(size, size + changed), "x")},
            value_removes={"member": member_refs(anchors, range(changed), "x")})]))
        return int(result.ok), int(not result.ok)

    rows.append(measure(f"1% churn on the {size:,}-member group", "v2", connector, churn,
                        note=f"{changed} removed + {changed} added"))

    def full_import() -> tuple[int, int]:
        members = 0
        for batch in connector.full_import(ImportContext(watermark=None, batch_size=500)):
            for record in batch.records:
                members += len(record.attributes.get("member", []))
                members += len(record.value_adds.get("member", []))
        return members, 0

    rows.append(measure("  then full import", "v2", connector, full_import,
                        note="ok = member values"))
    connector.close()
    v1 = server.connector(1)
    refused = measure(f"export a {size:,}-member group", "v1", v1, lambda: _v1_attempt(
        v1, server, size))
    refused.note = ("refused: LargeObject" if refused.failed
                    else "accepted: below the v1 limit at this --scale")
    rows.append(refused)
    v1.close()
    return rows


def _v1_attempt(connector: CloudConnector, server: Server, size: int) -> tuple[int, int]:
    # Member references the v1 tenant does not have: the size check comes first anyway.
    refs = [ExportRef(f"CN=x{i}", f"00000000-0000-0000-0000-{i:012d}") for i in range(size)]
    [result] = list(connector.export([ExportChange(1, ExportKind.ADD, "CN=huge", "group",
                                                   attributes={"sourceAnchor": ["huge"],
                                                               "member": refs})]))
    return int(result.ok), int(result.error_code == "LargeObject")


def print_table(rows: list[Row]) -> None:
    header = f"| {'scenario':<44} | api | {'wall s':>7} | {'requests':>8} | {'MB sent':>8} | " \
             f"{'MB recv':>8} | {'ok':>7} | {'failed':>6} | note"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:]))
    for r in rows:
        print(f"| {r.scenario:<44} | {r.api:<3} | {r.seconds:>7.2f} | {r.requests:>8,} | "
              f"{r.bytes_sent / 1e6:>8.2f} | {r.bytes_received / 1e6:>8.2f} | {r.ok:>7,} | "
              f"{r.failed:>6,} | {r.note}")


def ratios(v1: Row, v2: Row) -> str:
    return (f"v1/v2 for '{v1.scenario}': time x{v1.seconds / max(v2.seconds, 1e-9):.1f}, "
            f"requests x{v1.requests / max(v2.requests, 1):.1f}, "
            f"bytes sent x{v1.bytes_sent / max(v2.bytes_sent, 1):.1f}, "
            f"bytes received x{v1.bytes_received / max(v2.bytes_received, 1):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every size (0.1 for a quick run)")
    parser.add_argument("--skip-250k", action="store_true")
    parser.add_argument("--db", metavar="URL",
                        help="clouddir's database (postgresql://...); default: a SQLite file")
    args = parser.parse_args()
    s = args.scale
    workdir = Path(tempfile.mkdtemp(prefix="bench-cloud-"))
    server = Server(workdir, args.db)
    rows: list[Row] = []
    notes: list[str] = []
    try:
        initial = [scenario_initial(server, v, int(10_000 * s), int(1_000 * s), 50)
                   for v in (1, 2)]
        rows += [initial[0][0], initial[1][0], initial[0][1], initial[1][1]]
        notes += [ratios(initial[0][0], initial[1][0]), ratios(initial[0][1], initial[1][1])]
        churn = [scenario_churn(server, v, int(50_000 * s), 0.01) for v in (1, 2)]
        rows += [churn[0][0], churn[1][0], churn[0][1], churn[1][1]]
        notes += [ratios(churn[0][0], churn[1][0]), ratios(churn[0][1], churn[1][1])]
        if not args.skip_250k:
            rows += scenario_250k(server, int(250_000 * s))
    finally:
        server.stop()
    print_table(rows)
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
