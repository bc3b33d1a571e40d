"""A two-directory workspace on the file connector: ``source`` (LDIF with a changelog) and
``target`` (LDIF the export writes), plus helpers to run profiles and read the target back."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from idsync.administration.rule_changes import save_rules
from idsync.demo import TARGET_SKELETON as DEMO_TARGET_SKELETON
from idsync.dn import normalize_dn
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.filedir.ldif import read_ldif
from idsync.model import RunProfile
from idsync.rules.files import builtin_rule_set, load_rules_text
from idsync.scheduler.cycle import CycleRunner
from idsync.scheduler.settings import set_staging_mode
from idsync.store import Store

TARGET_BASE = "dc=fabrikam,dc=com"
SOURCE_BASE = "dc=contoso,dc=com"


def user_entry(uid: str, *, cn: str | None = None, sn: str = "Smith", given: str = "Ann",
               mail: str | None = None, manager: str | None = None,
               extra: dict[str, list[str]] | None = None, anchor: str | None = None) -> str:
    lines = [f"dn: uid={uid},ou=Users,{SOURCE_BASE}", "objectClass: inetOrgPerson",
             f"uid: {uid}", f"cn: {cn or uid}", f"sn: {sn}", f"givenName: {given}",
             f"entryUUID: {anchor or uuid.uuid5(uuid.NAMESPACE_DNS, uid)}"]
    if mail:
        lines.append(f"mail: {mail}")
    if manager:
        lines.append(f"manager: uid={manager},ou=Users,{SOURCE_BASE}")
    for k, vs in (extra or {}).items():
        lines += [f"{k}: {v}" for v in vs]
    return "\n".join(lines) + "\n"


def group_entry(cn: str, members: list[str], *, description: str | None = None) -> str:
    lines = [f"dn: cn={cn},ou=Groups,{SOURCE_BASE}", "objectClass: groupOfNames", f"cn: {cn}",
             f"entryUUID: {uuid.uuid5(uuid.NAMESPACE_DNS, 'group-' + cn)}"]
    if description:
        lines.append(f"description: {description}")
    lines += [f"member: uid={m},ou=Users,{SOURCE_BASE}" for m in members]
    return "\n".join(lines) + "\n"


def ldif(*entries: str) -> str:
    return "version: 1\n\n" + "\n".join(entries)


@dataclass
class Workspace:
    path: Path
    store: Store

    @property
    def source_file(self) -> Path:
        return self.path / "source" / "directory.ldif"

    @property
    def source_changes(self) -> Path:
        return self.path / "source" / "changes.ldif"

    @property
    def target_file(self) -> Path:
        return self.path / "target" / "directory.ldif"

    def engine(self) -> RunContext:
        return RunContext(self.store, str(self.path))

    def run(self, connector: str, profile: RunProfile | str, **kwargs: Any) -> RunResult:
        engine = self.engine()
        try:
            if isinstance(profile, str):
                profile = RunProfile.parse(profile)
            return run_profile(engine, connector, profile, **kwargs)
        finally:
            engine.close()

    def initial_cycle(self) -> list[RunResult]:
        results = [self.run("source", "fi"), self.run("target", "fi"), self.run("source", "fs"),
                   self.run("target", "fs"), self.run("target", "e"), self.run("target", "fi"),
                   self.run("target", "ds")]
        assert all(r.ok for r in results), [(r.profile, r.status, r.message) for r in results]
        return results

    def delta_cycle(self, *, source_import: str = "di") -> list[RunResult]:
        results = [self.run("source", source_import), self.run("source", "ds"),
                   self.run("target", "e"), self.run("target", "fi"), self.run("target", "ds")]
        assert all(r.ok for r in results), [(r.profile, r.status, r.message) for r in results]
        return results

    def change_source(self, change_ldif: str) -> None:
        """Apply LDIF change records to the source directory and its changelog."""
        from idsync.connectors.file import apply_changes

        records = list(read_ldif(io.BytesIO(change_ldif.encode("utf-8"))))
        apply_changes(self.source_file, records, changes_path=self.source_changes)

    def target_entries(self) -> dict[str, dict[str, list[Any]]]:
        """The target directory: normalised DN -> attributes (lower-case names)."""
        out = {}
        with open(self.target_file, "rb") as f:
            for rec in read_ldif(f):
                attrs = {k.lower(): list(v) for k, v in rec.attributes.items()}
                out[normalize_dn(rec.dn)] = attrs
        return out

    def pending_exports(self, connector: str = "target") -> int:
        return self.store.exports.count(self.store.connectors.get(connector).id)

    def stage_held_changes(self) -> None:
        """The export preview's recipe (small_workspace): an initial cycle, staging mode on,
        then ann's mail changed and bob deleted in the source and a cycle that synchronizes
        them but exports nothing. A full import of the target first confirms the initial
        exports, so the hologram is what an import saw."""
        CycleRunner(self.store, str(self.path)).run()
        set_staging_mode(self.store, True)
        self.change_source("dn: uid=ann,ou=Users,dc=contoso,dc=com\nchangetype: modify\n"
                           "replace: mail\nmail: ann.new@contoso.com\n-\n")
        self.change_source("dn: uid=bob,ou=Users,dc=contoso,dc=com\nchangetype: delete\n")
        target = self.store.connectors.get("target")
        self.store.connectors.set_required(target.id, full_import=True)
        CycleRunner(self.store, str(self.path)).run()


# The target directory starts as the demo's does: the base and its two OUs.
TARGET_SKELETON = DEMO_TARGET_SKELETON


def make_workspace(path: Path, source_ldif: str, *, rules: str | None = None,
                   builtin: bool = True,
                   reference_delta_threshold: int | None = None) -> Workspace:
    (path / "source").mkdir(parents=True)
    (path / "target").mkdir()
    (path / "source" / "directory.ldif").write_text(source_ldif)
    (path / "target" / "directory.ldif").write_text(TARGET_SKELETON)
    store = Store.open(path)
    store.connectors.add("source", "file", {"path": "source/directory.ldif",
                                            "changes_path": "source/changes.ldif"})
    store.connectors.add("target", "file", {"path": "target/directory.ldif",
                                            "export_log": "target/exports.ldif"})
    if reference_delta_threshold is not None:
        # 1: every reference list is compared in the store (idsync.store.references).
        with store.transaction():
            store.settings.set("reference_delta_threshold", reference_delta_threshold)
    if builtin:
        save_rules(store, builtin_rule_set("directory-to-directory", source="source",
                                           target="target", target_base=TARGET_BASE),
                   installing_builtin=True)
    if rules:
        save_rules(store, load_rules_text(rules))
    return Workspace(path, store)


@pytest.fixture(params=["in-memory", "in-store"])
def workspace_factory(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Each test runs twice: reference lists compared in memory (the default for lists under
    the threshold) and compared in the store (what large groups get)."""
    made: list[Workspace] = []
    threshold = 1 if request.param == "in-store" else None

    def factory(source_ldif: str, **kwargs: Any) -> Workspace:
        kwargs.setdefault("reference_delta_threshold", threshold)
        ws = make_workspace(tmp_path / f"ws{len(made)}", source_ldif, **kwargs)
        made.append(ws)
        return ws

    yield factory
    for ws in made:
        ws.store.close()


def target_dn(uid: str) -> str:
    return normalize_dn(f"uid={uid},ou=People,{TARGET_BASE}")


def target_group_dn(cn: str) -> str:
    return normalize_dn(f"cn={cn},ou=Groups,{TARGET_BASE}")
