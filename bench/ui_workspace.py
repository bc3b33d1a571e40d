"""The workspace the page-time benchmark (bench/ui_pages.py) serves: the demo's two file
connectors after a real initial cycle, then grown directly in the store to N users in the
source connector space (each linked to its metaverse person), a group of N members (in the
connector space and the metaverse), N/10 target objects with pending exports, 1% of the users
pending import, 1% of the target objects in export error, and a week of run history.

The rows go in through the store's bulk write paths (``insert_rows``: COPY on PostgreSQL, a
multi-row insert on SQLite), not through the engine: the engine's own speed is bench/suite.py's
subject, and a 250,000-object initial cycle takes minutes this benchmark does not need. A
built workspace is kept (``built.json`` beside it names its ids) and reused by the next run of
the same size and store.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from tests.harness.postgres import prepare_workspace
from tests.harness.workspace import group_entry, ldif, make_workspace, user_entry

from idsync import values
from idsync.administration.admin_accounts import add_admin
from idsync.dn import normalize_dn
from idsync.error_codes import Stage
from idsync.model import ExportKind, ExportState, PendingExport, RunProfile
from idsync.store import Store, database_url
from idsync.store.connector_space.objects import reversed_dn

ADMIN = ("bench", "bench admin's long password")
CHUNK = 25_000
SOURCE_BASE = "ou=Users,dc=contoso,dc=com"
TARGET_BASE = "ou=People,dc=fabrikam,dc=com"
RUN_HISTORY = 2000
ERROR_CODES = ("dn-attributes-failure", "constraint-violation", "no-such-object")


@dataclass
class Built:
    """The ids the page list is built from."""

    objects: int
    source: str
    target: str
    user_cs: int
    user_dn: str
    user_rdn: str
    group_cs: int
    group_mv: int
    #: the group's object in the target connector space, its add pending with N/10 members
    group_target: int
    user_mv: int
    member_after: int
    account: str
    run_id: int
    rule_id: int
    seconds: float


def _anchor(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def _user_attrs(i: int) -> dict[str, list[Any]]:
    uid = f"u{i:07d}"
    return {"cn": [f"User {i}"], "entryUUID": [_anchor(i)], "givenName": ["Bench"],
            "mail": [f"{uid}@contoso.com"], "objectClass": ["inetOrgPerson"],
            "sn": [f"Number{i}"], "uid": [uid]}


CS_COLUMNS = ("id", "connector_id", "anchor", "dn", "dn_norm", "dn_rev", "object_type",
              "placeholder",
              "attributes", "pending_import", "mv_id", "link_type", "link_rule_id",
              "link_direction", "created_at")
CS_TYPES = ("INTEGER", "INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "INTEGER", "TEXT",
            "TEXT", "INTEGER", "TEXT", "INTEGER", "TEXT", "TEXT")


def _grow(store: Store, n: int, log: Any) -> dict[str, int]:
    db = store.db
    source = store.connectors.get("source")
    target = store.connectors.get("target")
    rules = {r.name: r for r in store.rules.list()}
    inbound = next(r for r in rules.values() if r.direction == "inbound")
    outbound = next(r for r in rules.values() if r.direction == "outbound")
    group_cs = store.cs_objects.find_dn(source.id, "cn=staff,ou=Groups,dc=contoso,dc=com")
    assert group_cs is not None and group_cs.mv_id is not None
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    first_user = last_user = 0
    target_users: list[int] = []
    for start in range(0, n, CHUNK):
        count = min(CHUNK, n - start)
        with store.transaction():
            mv_ids = db.reserve_ids("mv_objects", count)
            cs_ids = db.reserve_ids("cs_objects", count)
            mv_rows, cs_rows, members, mv_members = [], [], [], []
            for k in range(count):
                i = start + k
                attrs = _user_attrs(i)
                uid = attrs["uid"][0]
                mv_attrs = {"accountName": [uid], "cn": attrs["cn"], "displayName":
                            [f"Bench Number{i}"], "givenName": ["Bench"], "mail": attrs["mail"],
                            "sn": attrs["sn"], "sourceAnchor": [_anchor(i)]}
                lineage = {a: {"connector": source.id, "rule": inbound.id, "precedence": 100}
                           for a in mv_attrs}
                mv_rows.append((mv_ids[k], "person", values.dumps_attributes(mv_attrs),
                                values.dumps(lineage), now, now))
                dn = f"uid={uid},{SOURCE_BASE}"
                cs_rows.append((cs_ids[k], source.id, _anchor(i), dn, normalize_dn(dn),
                                reversed_dn(normalize_dn(dn)), "user",
                                0, values.dumps_attributes(attrs), None, mv_ids[k], "Provision",
                                inbound.id, "inbound", now))
                members.append((group_cs.id, "member", cs_ids[k]))
                mv_members.append((group_cs.mv_id, "member", mv_ids[k]))
            db.insert_rows("mv_objects", ("id", "object_type", "attributes", "lineage",
                                          "created_at", "updated_at"),
                           ("INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"), mv_rows)
            db.insert_rows("cs_objects", CS_COLUMNS, CS_TYPES, cs_rows)
            store.cs_refs.change_refs_many([], [], fresh=members)
            store.mv.change_refs_many(mv_members, [])
            # 1%: a change imported, not synchronized yet
            store.cs_objects.mark_pending_update(cs_ids[::100])
            first_user = first_user or cs_ids[0]
            last_user = cs_ids[-1]
            # a tenth provisioned to the target, pending export, 1% of those in error
            t_count = count // 10
            t_ids = db.reserve_ids("cs_objects", t_count)
            t_rows = []
            for k in range(t_count):
                i = start + k * 10
                attrs = _user_attrs(i)
                dn = f"uid={attrs['uid'][0]},{TARGET_BASE}"
                t_rows.append((t_ids[k], target.id, None if k % 2 else f"t-{_anchor(i)}", dn,
                               normalize_dn(dn), reversed_dn(normalize_dn(dn)), "user", 0,
                               "{}" if k % 2 else values.dumps_attributes(attrs), None,
                               mv_ids[k * 10],
                               "Provision", outbound.id, "outbound", now))
            db.insert_rows("cs_objects", CS_COLUMNS, CS_TYPES, t_rows)
            target_users.extend(t_ids)
            store.exports.stage_many([PendingExport(
                cs_id=t_ids[k], connector_id=target.id,
                kind=ExportKind.ADD if k % 2 else ExportKind.MODIFY, new_dn=None,
                attributes={"description": [f"changed {k}"]}, state=ExportState.PENDING,
                attempts=0) for k in range(t_count)])
            for k in range(0, t_count, 100):
                store.errors.record(t_ids[k], target.id, Stage.EXPORT,
                                    ERROR_CODES[(k // 100) % len(ERROR_CODES)],
                                    "generated by bench/ui_workspace.py", None)
        log(f"  {start + count:,} / {n:,} users")
    # The group provisioned to the target, its add pending with every target user as a member
    # (N/10 values): the pending export view of a large group.
    with store.transaction():
        [group_target] = db.reserve_ids("cs_objects", 1)
        dn = "cn=staff,ou=Groups,dc=fabrikam,dc=com"
        db.insert_rows("cs_objects", CS_COLUMNS, CS_TYPES, [(
            group_target, target.id, None, dn, normalize_dn(dn), reversed_dn(normalize_dn(dn)),
            "group", 0, "{}", None, group_cs.mv_id, "Provision", outbound.id, "outbound", now)])
        store.exports.stage_many([PendingExport(
            cs_id=group_target, connector_id=target.id, kind=ExportKind.ADD, new_dn=None,
            attributes={"cn": ["staff"]}, state=ExportState.PENDING, attempts=0,
            ref_adds={"member": set(target_users)})])
    return {"first_user": first_user, "last_user": last_user, "group_cs": group_cs.id,
            "group_mv": group_cs.mv_id, "group_target": group_target}


def _run_history(store: Store, count: int) -> None:
    """A week of runs: a cycle of the demo's five profiles every few minutes."""
    source = store.connectors.get("source")
    target = store.connectors.get("target")
    cycle = [(source.id, RunProfile.DELTA_IMPORT), (source.id, RunProfile.DELTA_SYNC),
             (target.id, RunProfile.EXPORT), (target.id, RunProfile.DELTA_IMPORT),
             (target.id, RunProfile.DELTA_SYNC)]
    end = datetime.now(UTC) - timedelta(hours=1)
    at = end - timedelta(days=7)
    step = timedelta(days=7) / (count / len(cycle))
    rows = []
    ids = store.db.reserve_ids("runs", count)
    for n, run_id in enumerate(ids):
        connector, profile = cycle[n % len(cycle)]
        seconds = 0.5 + (n % 17) * 0.3
        counters = {"updates": 50 + n % 40, "no-change": 10} if "Import" in profile else {
            "updates": 40 + n % 30}
        started = at + step * (n // len(cycle)) + timedelta(seconds=30 * (n % len(cycle)))
        rows.append((run_id, connector, profile.value, "success",
                     started.isoformat(timespec="milliseconds"),
                     (started + timedelta(seconds=seconds)).isoformat(timespec="milliseconds"),
                     values.dumps(counters)))
    with store.transaction():
        store.db.insert_rows("runs", ("id", "connector_id", "profile", "status", "started_at",
                                      "ended_at", "counters"),
                             ("INTEGER", "INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"), rows)


def settle(url: str) -> None:
    """VACUUM ANALYZE, as autovacuum does some time after a bulk load (an insert-only table
    is vacuumed after 1,000 rows plus 20% of its size): the visibility map lets counts read
    an index alone. A server that has run a while is in that state; one measured seconds after
    its load is not."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def build(folder: Path, n: int, postgres_url: str | None, log: Any) -> Built:
    """The workspace in ``folder`` (reused when ``built.json`` says it holds ``n`` users)."""
    marker = folder / "built.json"
    if marker.exists():
        recorded = json.loads(marker.read_text())
        if set(recorded) != {f.name for f in fields(Built)}:
            raise SystemExit(f"{folder} was built by an older bench/ui_workspace.py: remove it")
        built = Built(**recorded)
        if built.objects == n:
            log(f"reusing {folder} ({n:,} users, built in {built.seconds:.0f} s)")
            return built
    if folder.exists():
        raise SystemExit(f"{folder} exists but holds no finished build: remove it first")
    started = time.monotonic()
    folder.mkdir(parents=True)
    if postgres_url:
        prepare_workspace(folder, postgres_url)
    ws = make_workspace(folder, ldif(
        user_entry("ann", mail="ann@contoso.com"), user_entry("bob", sn="Jones"),
        group_entry("staff", ["ann", "bob"])))
    ws.initial_cycle()
    store = ws.store
    log(f"building {n:,} users in {folder} ({store.dialect})")
    ids = _grow(store, n, log)
    _run_history(store, RUN_HISTORY)
    store.db.refresh_statistics()
    if store.dialect == "postgresql":
        settle(database_url(folder))
    add_admin(store, *ADMIN)
    user = store.cs_objects.get(ids["first_user"] + (12345 % max(n, 1)))
    assert user is not None and user.mv_id is not None
    rule = store.rules.list()[0]
    run = store.runs.list(limit=1)[0]
    built = Built(objects=n, source="source", target="target", user_cs=user.id, user_dn=user.dn,
                  user_rdn=user.dn.split(",", 1)[0], group_cs=ids["group_cs"],
                  group_mv=ids["group_mv"], group_target=ids["group_target"],
                  user_mv=user.mv_id,
                  member_after=ids["first_user"] + n // 2,
                  account=str(user.attributes["uid"][0]), run_id=run.id, rule_id=rule.id,
                  seconds=time.monotonic() - started)
    store.close()
    marker.write_text(json.dumps(asdict(built), indent=1))
    log(f"built in {built.seconds:.0f} s")
    return built
