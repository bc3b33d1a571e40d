"""Configuration preview: what the current configuration would stage, computed by running the
real engine in a transaction that is rolled back, and the guard that holds a configuration
change whose preview deletes more than the deletion limits allow.

The simulation runs the same run profiles a sync cycle would (a Full Import where a connector's
scope changed and it was imported before, then a Full Synchronization) through
``engine.run_profiles.run_profile``, inside ``BaseDatabase.discarded``: every write the engine makes
joins that one transaction and is undone at the end, run records and watermarks included. Only
import and synchronization run: nothing is exported and no connected directory is written (a
Full Import reads). The differences against what is pending now are counted in the database
(idsync.store.simulation) and a few objects of each group are sampled. See
docs/decisions/configuration-preview.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from idsync.engine import deletion_limits
from idsync.engine.core import RunContext
from idsync.engine.deletion_limits import Breach
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.errors import ConfigurationError, IdsyncError
from idsync.events import EventId, level_of
from idsync.locks import live_holders
from idsync.model import ConnectorRecord, RunProfile
from idsync.scheduler.cycle import CLOUD_TYPES
from idsync.scheduler.lock import CycleLock
from idsync.store import Store
from idsync.store.simulation import SampleRow, SimulationDiff

T = TypeVar("T")

DEFAULT_SAMPLES = 5


class Change(StrEnum):
    """What the simulation would change on one object of a connector space."""

    ADD = "add"
    UPDATE = "update"
    RENAME = "rename"
    DELETE = "delete"
    DISCONNECT = "disconnect"
    CANCEL_ADD = "cancelled add"
    CANCEL_UPDATE = "cancelled update"
    CANCEL_RENAME = "cancelled rename"
    CANCEL_DELETE = "cancelled delete"


#: the store's names (export kinds, ``cancel-<kind>``, ``disconnect``) -> Change
_CHANGE_OF = {"add": Change.ADD, "modify": Change.UPDATE, "rename": Change.RENAME,
              "delete": Change.DELETE, "disconnect": Change.DISCONNECT,
              "cancel-add": Change.CANCEL_ADD, "cancel-modify": Change.CANCEL_UPDATE,
              "cancel-rename": Change.CANCEL_RENAME, "cancel-delete": Change.CANCEL_DELETE}


#: Attributes that name an object for a person, in order of preference: a cloud DN
#: (``CN={hex of the anchor}``) says nothing by itself.
NAMING_ATTRIBUTES = ("displayName", "userPrincipalName", "mail", "cn", "uid")


@dataclass
class Sample:
    dn: str
    new_dn: str | None = None
    attributes: list[str] = field(default_factory=list)
    #: what the object is called (displayName, userPrincipalName...), where known
    name: str | None = None

    @classmethod
    def of(cls, row: SampleRow) -> Sample:
        refs = [f"{a} (+{n_add} -{n_rem})" for a, (n_add, n_rem) in sorted(row.references.items())]
        name = next((str(row.shown[a][0]) for a in NAMING_ATTRIBUTES
                     if isinstance(row.shown.get(a), list) and row.shown[a]), None)
        return cls(row.dn, row.new_dn, [*row.attributes, *refs], name)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dn": self.dn}
        if self.name:
            out["name"] = self.name
        if self.new_dn:
            out["new_dn"] = self.new_dn
        if self.attributes:
            out["attributes"] = self.attributes
        return out


@dataclass
class TypeEffect:
    """The changes on one object type of one connector space."""

    object_type: str | None
    counts: dict[Change, int] = field(default_factory=dict)
    samples: dict[Change, list[Sample]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"counts": {c.value: n for c, n in self.counts.items()},
                "samples": {c.value: [s.to_dict() for s in ss]
                            for c, ss in self.samples.items() if ss}}


@dataclass
class SimulatedRun:
    connector: str
    profile: str
    status: str
    message: str | None
    counters: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.status.startswith(("stopped", "no-start"))

    @classmethod
    def of(cls, run: RunResult) -> SimulatedRun:
        return cls(run.connector, run.profile, run.status, run.message, run.counters)


@dataclass
class ConnectorEffect:
    name: str
    types: dict[str | None, TypeEffect] = field(default_factory=dict)
    #: pending deletes once the simulated runs staged theirs (the export threshold sees these)
    pending_deletes: int = 0

    def total(self, change: Change) -> int:
        return sum(t.counts.get(change, 0) for t in self.types.values())

    def by_type(self, change: Change) -> dict[str | None, int]:
        return {t: e.counts[change] for t, e in self.types.items() if e.counts.get(change)}


@dataclass
class ConfigurationPreview:
    connectors: dict[str, ConnectorEffect]
    runs: list[SimulatedRun]
    metaverse_before: int
    metaverse_after: int

    @property
    def complete(self) -> bool:
        """Every simulated run finished: the counts are the whole effect."""
        return all(r.ok for r in self.runs)

    @property
    def nothing_to_do(self) -> bool:
        return (self.metaverse_before == self.metaverse_after
                and not any(e.types for e in self.connectors.values()))

    def totals(self) -> dict[Change, int]:
        out: dict[Change, int] = defaultdict(int)
        for effect in self.connectors.values():
            for t in effect.types.values():
                for change, n in t.counts.items():
                    out[change] += n
        return dict(out)

    def failures(self) -> list[SimulatedRun]:
        return [r for r in self.runs if not r.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "complete": self.complete,
            "nothing_to_do": self.nothing_to_do,
            "totals": {c.value: n for c, n in self.totals().items()},
            "metaverse": {"before": self.metaverse_before, "after": self.metaverse_after},
            "connectors": {name: {"pending_deletes": e.pending_deletes,
                                  "object_types": {t or "": te.to_dict()
                                                   for t, te in e.types.items()}}
                           for name, e in self.connectors.items()},
            "runs": [{"connector": r.connector, "profile": r.profile, "status": r.status,
                      "message": r.message, "counters": r.counters} for r in self.runs],
        }


# --- the simulation ---------------------------------------------------------------------------


def simulate(store: Store, workspace: str, *, connector: str | None = None,
             required_only: bool = False, samples: int = DEFAULT_SAMPLES
             ) -> ConfigurationPreview:
    """The effect of the configuration as the store holds it now (inside a transaction: with
    that transaction's uncommitted changes), nothing kept. ``connector``: only that connector's
    runs. ``required_only``: only connectors marked for a full import or synchronization (what
    the next cycle runs in full after a configuration change)."""
    _refuse_during_cycle(store)
    connectors = store.connectors.list()
    if not SimulationDiff(store.db).metaverse_size() and not any(
            store.cs.count(c.id) for c in connectors):
        # Nothing imported yet: nothing to change or delete, and nothing to run (a connector
        # whose settings are still being written need not even build).
        return ConfigurationPreview({c.name: ConnectorEffect(c.name) for c in connectors},
                                    [], 0, 0)
    with store.db.discarded():
        diff = SimulationDiff(store.db)
        diff.snapshot()
        before = diff.metaverse_size()
        engine = RunContext(store, workspace)
        try:
            runs = [SimulatedRun.of(run_profile(engine, record.name, profile,
                                                accept_deletes=True))
                    for record, profile in plan(store, engine, connector, required_only)]
        finally:
            engine.close()
        return _collect(store, diff, runs, before, samples)


def plan(store: Store, engine: RunContext, connector: str | None, required_only: bool
         ) -> list[tuple[ConnectorRecord, RunProfile]]:
    """The simulated runs, in a sync cycle's order (on-premises connectors, then cloud)."""
    records = engine.connectors()
    if connector is not None:
        records = [store.connectors.get(connector)]
    records = ([c for c in records if c.type not in CLOUD_TYPES]
               + [c for c in records if c.type in CLOUD_TYPES])
    if required_only:
        records = [c for c in records if c.full_import_required or c.full_sync_required]
    steps: list[tuple[ConnectorRecord, RunProfile]] = []
    for c in records:
        # Never imported: nothing of it is in the store to change or delete, and reading a
        # whole directory for the first time is the initial cycle's work, not a preview's.
        if c.full_import_required and (c.watermark is not None or store.cs.count(c.id)):
            steps.append((c, RunProfile.FULL_IMPORT))
    steps += [(c, RunProfile.FULL_SYNC) for c in records]
    return steps


def refuse_during_runs(store: Store) -> None:
    """Refuse to start while a sync cycle or a run holds the store (a rolled-back preview
    holds the write lock until it ends)."""
    _refuse_during_cycle(store)


def _refuse_during_cycle(store: Store) -> None:
    # The simulation holds the store's write lock until it ends: a cycle's next batch would
    # wait for it (and give up after 60 s), so the two never overlap.
    holder = CycleLock(store).holder()
    if holder is not None:
        raise ConfigurationError(
            f"a sync cycle is running (started {holder.get('started_at')} by pid "
            f"{holder.get('pid')} on {holder.get('host')}); preview or change the "
            "configuration once it ends (`idsync cycle status`)")
    # A run started by hand holds its connector the same way (idsync.locks).
    for running in live_holders(store):
        raise ConfigurationError(f"{running} is running; preview or change the configuration "
                                 "once it ends (`idsync runs locks`)")


def _collect(store: Store, diff: SimulationDiff, runs: list[SimulatedRun], before: int,
             samples: int) -> ConfigurationPreview:
    names = {c.id: c.name for c in store.connectors.list()}
    effects = {name: ConnectorEffect(name) for name in names.values()}
    for cid, object_type, change, n in diff.counts():
        effect = effects[names[cid]]
        te = effect.types.setdefault(object_type, TypeEffect(object_type))
        kind = _CHANGE_OF[change]
        te.counts[kind] = n
        te.samples[kind] = [Sample.of(r) for r in diff.samples(cid, object_type, change,
                                                               samples)]
    for cid, _object_type, export_kind, n in diff.pending_counts():
        if export_kind == "delete":
            effects[names[cid]].pending_deletes += n
    return ConfigurationPreview(effects, runs, before, diff.metaverse_size())


# --- deletion limits ----------------------------------------------------------------------------


def limit_breaches(store: Store, record: ConnectorRecord,
                   deletes_by_object_type: dict[str | None, int]) -> list[Breach]:
    """The deletion limits (per connector and object type, idsync.engine.deletion_limits) the
    deletes a preview would stage break, as the export would judge them."""
    return deletion_limits.limit_breaches(
        store, record, {t or "": n for t, n in deletes_by_object_type.items()})


def breaches_of(store: Store, preview: ConfigurationPreview) -> list[Breach]:
    out: list[Breach] = []
    for name, effect in preview.connectors.items():
        deletes = effect.by_type(Change.DELETE)
        if deletes:
            out += limit_breaches(store, store.connectors.get(name), deletes)
    return out


# --- the guard on configuration changes ---------------------------------------------------------

#: Connector settings that change how a directory is reached, read in pages or written, never
#: which objects or attributes a full import returns. Any other setting (partitions,
#: containers, object types, attributes, the server, the bind account, the anchor...) may
#: change the scope, so changing it is previewed: a setting added later is guarded by default.
OPERATIONAL_SETTINGS = frozenset({
    "start_tls", "tls_ca_file", "change_detection", "accesslog_base", "page_size",
    "max_values_per_request", "range_step", "timeout", "max_retries", "batch_size",
    "export_api_version", "export_log", "changes_path", "create_if_missing",
})


def changes_scope(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether a change of a connector's settings may change what its full import returns."""
    return any(old.get(k) != new.get(k) for k in (set(old) | set(new)) - OPERATIONAL_SETTINGS)



@dataclass
class GuardedChange(Generic[T]):
    result: T
    preview: ConfigurationPreview
    #: limits the applied change breaks (only with confirm)
    breaches: list[Breach]


class ChangeHeld(IdsyncError):
    """A configuration change was not kept: its preview breaks the deletion limits or could
    not be computed."""

    def __init__(self, preview: ConfigurationPreview, breaches: list[Breach]) -> None:
        self.preview = preview
        self.breaches = breaches
        super().__init__(held_message(preview, breaches))


def held_message(preview: ConfigurationPreview, breaches: list[Breach]) -> str:
    if breaches:
        parts = []
        for b in breaches:
            types = preview.connectors[b.connector].by_type(Change.DELETE)
            shown = ", ".join(f"{t or 'untyped'}: {n}" for t, n in sorted(
                types.items(), key=lambda kv: -kv[1]))
            scope = f" of {b.object_type}" if b.object_type else ""
            parts.append(f"{b.deletes} deletes on {b.connector} ({shown}), over the deletion "
                         f"limit{scope} ({b.limit.describe()}, {b.limit.source.value})")
        return ("held: this change would stage " + "; ".join(parts) + ". Nothing was "
                "changed: review the samples above, or re-run with --confirm to apply it (then "
                "`idsync preview` shows what the next sync cycle stages)")
    failed = "; ".join(f"{r.connector}: {r.profile} {r.status}"
                       + (f" ({r.message})" if r.message else "") for r in preview.failures())
    return (f"held: the effect of this change could not be computed ({failed}). Nothing was "
            "changed: fix the cause and run it again, or re-run with --confirm to apply it "
            "without a complete preview")


def guard_change(store: Store, workspace: str, what: str, change: Callable[[], T], *,
                 confirm: bool, samples: int = DEFAULT_SAMPLES) -> GuardedChange[T]:
    """Apply ``change`` (a function writing the store), preview its effect in the same
    transaction, and keep it only if the preview stays within the deletion limits and could
    be computed, or ``confirm``. Raises ChangeHeld otherwise (nothing kept but an event)."""
    try:
        with store.transaction():
            result = change()
            preview = simulate(store, workspace, required_only=True, samples=samples)
            breaches = breaches_of(store, preview) if preview.complete else []
            if not confirm and (breaches or not preview.complete):
                raise ChangeHeld(preview, breaches)
            _record(store, EventId.CONFIGURATION_PREVIEWED,
                    f"{what}: applied{' with --confirm' if confirm else ''} after a preview: "
                    + totals_text(preview), preview)
    except ChangeHeld as held:
        with store.transaction():
            _record(store, EventId.CONFIGURATION_CHANGE_HELD, f"{what}: {held}", held.preview)
        raise
    return GuardedChange(result, preview, breaches)


def preview_and_record(store: Store, workspace: str, *, connector: str | None = None,
                       samples: int = DEFAULT_SAMPLES) -> ConfigurationPreview:
    """``idsync preview``: the simulation, then an event saying it was done."""
    preview = simulate(store, workspace, connector=connector, samples=samples)
    with store.transaction():
        _record(store, EventId.CONFIGURATION_PREVIEWED,
                "configuration preview" + (f" of {connector}" if connector else "") + ": "
                + totals_text(preview), preview)
    return preview


def totals_text(preview: ConfigurationPreview) -> str:
    totals = preview.totals()
    text = ", ".join(f"{n} {c.value}" for c, n in totals.items() if n) or "nothing to do"
    if not preview.complete:
        text += " (incomplete: " + ", ".join(f"{r.connector} {r.profile} {r.status}"
                                              for r in preview.failures()) + ")"
    return text


def _record(store: Store, event_id: EventId, message: str,
            preview: ConfigurationPreview) -> None:
    data = {"totals": {c.value: n for c, n in preview.totals().items()},
            "by_connector": {name: {f"{t or ''}:{c.value}": n for t, te in e.types.items()
                                    for c, n in te.counts.items()}
                             for name, e in preview.connectors.items() if e.types},
            "complete": preview.complete}
    store.events.add(int(event_id), level_of(event_id), message, data=data)
