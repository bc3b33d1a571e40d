"""``idsync doctor``: validate an installation before and after a change.

Each check gives OK, WARN or FAIL with one line of detail: the database, each connector
(reachable and bound), the schema attributes the rules name, every rule compiles, the scheduler
state, pending exports and errors, API versions, the service. FAIL means a sync cycle would not
work as configured.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

from idsync.administration.certificates import (
    CertificateUnavailable,
    expiry_status,
    server_certificate,
)
from idsync.administration.cleartext import cleartext_warning, is_loopback
from idsync.administration.doctor_check import FAIL, OK, WARN, Check, Status, advice
from idsync.administration.doctor_ldap import ldap_checks
from idsync.connectors import registry
from idsync.connectors.base import ConnectionTester, SchemaProvider
from idsync.engine.ruleset import RuleSet
from idsync.error_codes import INFORMATIONAL_CODES
from idsync.errors import IdsyncError
from idsync.locks import CYCLE_LOCK, Liveness, describe_holder, held_locks
from idsync.model import ConnectorRecord
from idsync.rules.model import DN_TARGET, Direction, FlowType, SyncRule
from idsync.scheduler.settings import (
    CYCLE_COMPLETED_WITH_WARNINGS,
    MAX_SYNC_GAP,
    is_staging_mode,
    load_settings,
    load_state,
    now,
    parse_iso,
    service_record,
)
from idsync.store import Store
from idsync.store.database import migrations

__all__ = ["FAIL", "OK", "WARN", "Check", "Status", "exit_code", "run_checks"]

#: V1 of the sync API refuses groups above this many members.
V1_MEMBER_LIMIT = 50_000
#: Names every LDAP-like directory has without a schema entry.
IMPLICIT_ATTRIBUTES = frozenset({"dn", "objectclass", "entryuuid", "objectguid"})


def run_checks(store: Store, workspace: str, *, connectivity: bool = True) -> list[Check]:
    checks: list[Check] = []
    for check in (_database, _rules_compile, _scheduler, _service):
        checks.extend(_guard(check.__name__.strip("_"), functools.partial(check, store)))
    for record in store.connectors.list():
        checks.extend(_guard(f"connector {record.name}",
                             functools.partial(_connector, store, record, workspace,
                                               connectivity)))
    return checks


def _guard(name: str, fn: Callable[[], list[Check]]) -> list[Check]:
    """A check that breaks is a FAIL of that check, not a crash of the doctor."""
    try:
        return fn()
    except Exception as exc:
        return [Check(name, FAIL, f"{type(exc).__name__}: {exc}")]


def _database(store: Store) -> list[Check]:
    version = store.db.schema_version()
    newest = migrations()[-1][0]
    result = store.db.integrity_check()
    if result != "ok":
        return [Check("database", FAIL, f"integrity check: {result}")]
    if version != newest:
        return [Check("database", WARN, f"schema version {version}, this idsync ships {newest}: "
                      f"upgrade it ({advice('init')})")]
    return [Check("database", OK, f"schema version {version}, integrity ok, {store.db.path}")]


def _rules_compile(store: Store) -> list[Check]:
    rules = store.rules.list()
    ids = {c.name: c.id for c in store.connectors.list()}
    try:
        RuleSet.build(rules, ids)
    except IdsyncError as exc:
        return [Check("sync rules", FAIL, str(exc))]
    enabled = sum(not r.disabled for r in rules)
    if not rules:
        return [Check("sync rules", WARN, "no sync rules: a cycle would change nothing")]
    return [Check("sync rules", OK, f"{enabled} enabled of {len(rules)}, all compile")]


def _scheduler(store: Store) -> list[Check]:
    settings = load_settings(store)
    state = load_state(store)
    staging = is_staging_mode(store)
    out: list[Check] = []
    if settings.suspended:
        out.append(Check("scheduler", WARN, "suspended: no cycle runs, scheduled or on "
                         f"demand ({advice('scheduler_resume')})"))
    elif not settings.sync_cycle_enabled:
        out.append(Check("scheduler", WARN, "sync cycles disabled "
                         f"({advice('scheduler_enable')})"))
    else:
        out.append(Check("scheduler", OK, f"enabled, next {settings.next_cycle_policy} cycle; "
                         f"staging mode {'on' if staging else 'off'}"))
    last_ok = parse_iso(state.last_successful_cycle_end)
    if last_ok is None:
        out.append(Check("last sync cycle", WARN, "no sync cycle has run yet (runs started "
                         f"one by one, as the demo's, are not cycles): {advice('cycle_start')} "
                         "runs one"))
    elif now() - last_ok > timedelta(seconds=MAX_SYNC_GAP):
        out.append(Check("last sync cycle", WARN,
                         f"last completed {state.last_successful_cycle_end}: more than 7 days "
                         "ago, a full synchronization is required"))
    else:
        status = state.last_cycle_status or "unknown"
        fine = status in ("success", CYCLE_COMPLETED_WITH_WARNINGS)
        out.append(Check("last sync cycle", OK if fine else WARN,
                         f"{status}, ended {state.last_cycle_end}"))
    for view in held_locks(store):
        if view.state is not Liveness.ALIVE:
            what = "cycle lock" if view.row.name == CYCLE_LOCK else f"run lock {view.connector}"
            out.append(Check(what, WARN, f"left by {describe_holder(view.row)} ({view.state}); "
                             "the next run or cycle takes it over"))
    return out


def _service(store: Store) -> list[Check]:
    record = service_record(store)
    if record:
        return [Check("service", OK, f"idsync serve runs (pid {record['pid']}, "
                      f"{record.get('url')})")]
    return [Check("service", WARN, "idsync serve is not running: no scheduled cycles "
                  f"(start it: {advice('serve')})")]


def _connector(store: Store, record: ConnectorRecord, workspace: str,
               connectivity: bool) -> list[Check]:
    name = f"connector {record.name}"
    out: list[Check] = []
    warning = cleartext_warning(record.type, record.settings, record.secrets)
    if warning:
        out.append(Check(f"transport {record.name}", WARN, warning))
    if connectivity and record.type == "ldap":
        found = ldap_checks(record.name, record.settings, record.secrets.get("password", ""),
                            store.cs.count(record.id))
        # A scope that fails stops the connector before it reads the schema (the connector
        # checks its scope when it first reads): the scope line says what to correct.
        if any(c.status is FAIL and c.name in (name, f"scope {record.name}") for c in found):
            return found + out
        out = found + out
        instance = registry.create(record, workspace)
        try:
            # An LDAP connector reads its schema (connectors.ldap: a SchemaProvider).
            out.append(_schema_check(store, record.name, cast(SchemaProvider, instance)))
        finally:
            with contextlib.suppress(Exception):
                instance.close()
        out.extend(_counts(store, record))
        return out
    if record.type == "cloud":
        # One attempt: doctor reports an unreachable cloud now, not after the run's retries.
        record = dataclasses.replace(record, settings={**record.settings, "max_retries": 0})
    instance = registry.create(record, workspace)
    try:
        if connectivity and isinstance(instance, ConnectionTester):
            try:
                instance.test_connection()
                out.insert(0, Check(name, OK, f"{record.type}: reachable and bound"))
            except IdsyncError as exc:
                out.insert(0, _unreachable(record, workspace, exc))
                return out
            if record.type == "cloud":
                out.extend(_cloud_certificate(record))
        else:
            out.insert(0, Check(name, OK, f"{record.type}: settings valid (not contacted)"))
        if connectivity and isinstance(instance, SchemaProvider):
            # An LDAP connector reads its schema (connectors.ldap: a SchemaProvider).
            out.append(_schema_check(store, record.name, cast(SchemaProvider, instance)))
        out.extend(_counts(store, record))
        if record.type == "cloud":
            out.append(_api_versions(store, record))
    finally:
        with contextlib.suppress(Exception):
            instance.close()
    return out


def _unreachable(record: ConnectorRecord, workspace: str, exc: IdsyncError) -> Check:
    name = f"connector {record.name}"
    if record.type != "cloud":
        return Check(name, FAIL, f"{record.type}: {exc}")
    parts = urlsplit(str(record.settings.get("url", "")))
    demo_db = Path(workspace) / "clouddir" / "clouddir.db"
    if "cannot reach" in str(exc) and is_loopback(parts.hostname) and demo_db.exists():
        # `idsync demo` runs its own clouddir only while it runs and keeps its database: the
        # installation is fine, the demo's cloud is just stopped.
        return Check(name, WARN, "cloud: the demo's local cloud directory is not running "
                     "(the demo stops it when it ends); start it to use this connector: "
                     + advice("clouddir_serve", port=parts.port or 80,
                              db=f"sqlite:///{demo_db}"))
    if "cannot reach" in str(exc):
        return Check(name, FAIL, f"cloud: cannot reach {parts.hostname}:{parts.port or ''} "
                     f"({exc}): start the cloud directory or correct the url "
                     f"({advice('set_url', connector=record.name)})")
    if "refused the token" in str(exc) or "belongs to tenant" in str(exc):
        return Check(name, FAIL, f"cloud: {exc}: set the tenant's token as the connector's "
                     f"token secret ({advice('set_secret_help')})")
    return Check(name, FAIL, f"cloud: {exc}")


def _cloud_certificate(record: ConnectorRecord) -> list[Check]:
    parts = urlsplit(str(record.settings.get("url", "")))
    if parts.scheme != "https" or not parts.hostname:
        return []
    try:
        status, detail = expiry_status(server_certificate(parts.hostname, parts.port or 443))
    except CertificateUnavailable as exc:
        return [Check(f"certificate {record.name}", WARN, f"cannot read it: {exc}")]
    return [Check(f"certificate {record.name}", status, detail)]


def rule_attributes(rule: SyncRule) -> set[str]:
    """The connector-side attribute names a rule reads or writes by name."""
    names: set[str] = set()
    names |= {c.attribute for g in rule.scoping for c in g.clauses} \
        if rule.direction is Direction.INBOUND else set()
    names |= {c.cs_attribute for g in rule.join for c in g.conditions}
    for t in rule.transformations:
        if rule.direction is Direction.INBOUND and t.flow_type is FlowType.DIRECT:
            names.add(t.source)
        elif rule.direction is Direction.OUTBOUND and t.target != DN_TARGET:
            names.add(t.target)
    return {n for n in names if n}


def _schema_check(store: Store, connector: str, instance: SchemaProvider) -> Check:
    schema = instance.schema()
    known = {a.name.lower() for attrs in schema.object_types.values() for a in attrs}
    missing: dict[str, set[str]] = {}
    for rule in store.rules.list():
        if rule.connector != connector or rule.disabled:
            continue
        for attr in rule_attributes(rule):
            if attr.lower() not in known and attr.lower() not in IMPLICIT_ATTRIBUTES:
                missing.setdefault(attr, set()).add(rule.name)
    name = f"schema {connector}"
    if missing:
        return Check(name, FAIL, "; ".join(f"{a} (rules: {', '.join(sorted(r))})"
                                           for a, r in sorted(missing.items()))
                     + " not in the directory's schema")
    return Check(name, OK, f"every attribute the rules name exists ({len(known)} known)")


def _counts(store: Store, record: ConnectorRecord) -> list[Check]:
    rid, name = record.id, record.name
    by_kind = store.exports.counts_by_kind(rid)
    pending = sum(by_kind.values())
    codes = sorted(INFORMATIONAL_CODES)
    errors = store.errors.count(rid, except_codes=codes)
    informational = store.errors.count(rid, codes=codes)
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())) or "none"
    out = [Check(f"pending exports {name}", OK, f"{pending} ({kinds})"
                 + (" held by staging mode" if pending and is_staging_mode(store) else ""))]
    out.append(Check(f"errors {name}", WARN if errors else OK,
                     f"{errors} object error(s)"
                     + (f", {informational} informational ({', '.join(codes)})"
                        if informational else "")
                     + (f" (see {advice('errors', connector=name)})" if errors else "")))
    return out


def _api_versions(store: Store, record: ConnectorRecord) -> Check:
    settings = record.settings
    export_v = int(settings.get("export_api_version", 2))
    import_v = int(settings.get("import_api_version", 2))
    detail = f"export API v{export_v}, import API v{import_v}"
    if export_v != import_v:
        return Check(f"api versions {record.name}", WARN,
                     detail + ": set both to the same version "
                     f"({advice('api_version', connector=record.name)})")
    if export_v == 1:
        detail += f" (groups above {V1_MEMBER_LIMIT} members are not synchronized)"
    return Check(f"api versions {record.name}", OK, detail)


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status is FAIL for c in checks) else 0
