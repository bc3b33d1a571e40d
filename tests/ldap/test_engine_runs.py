"""The LDAP connector under the engine's run profiles, on a real slapd: full and delta import
staged into the connector space, a filter change that would delete most objects stopped by the
deletion threshold, a wrong password ending the run stopped-connectivity with nothing staged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.ldap.helpers import person

from idsync.engine.core import RunContext
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.lab.ldapdata import DirectoryShape, generate
from idsync.lab.slapd import SlapdServer
from idsync.model import RunProfile
from idsync.store import Store

pytestmark = pytest.mark.slapd


class Workspace:
    def __init__(self, path: Path, server: SlapdServer, **settings: object) -> None:
        self.path = path
        self.server = server
        self.store = Store.open(path)
        self.store.settings.set("export_deletion_threshold", {"enabled": True, "count": 20})
        self.record = self.store.connectors.add("corp", "ldap",
                                                server.connector_settings(**settings),
                                                {"password": server.password})

    def run(self, profile: RunProfile) -> RunResult:
        engine = RunContext(self.store, str(self.path))
        try:
            return run_profile(engine, "corp", profile)
        finally:
            engine.close()

    def objects(self) -> int:
        return self.store.cs.count(self.record.id)


@pytest.fixture
def workspace(slapd_factory, tmp_path: Path) -> Iterator[Workspace]:  # type: ignore[no-untyped-def]
    server = slapd_factory(ldif="".join(generate(DirectoryShape(users=60, groups=4))))
    ws = Workspace(tmp_path, server, change_detection="accesslog")
    yield ws
    ws.store.close()


def test_full_then_delta_import_through_the_engine(workspace: Workspace) -> None:
    result = workspace.run(RunProfile.FULL_IMPORT)
    assert result.ok, result.message
    assert workspace.objects() == 64
    s = workspace.server
    s.add(f"uid=new,ou=People,{s.base_dn}", person("new"))
    ((user_dn, _),) = s.search(s.base_dn, "(uid=u0000002)", attrs=["1.1"])
    s.modify(user_dn, [("replace", "title", ["Chief"])])
    result = workspace.run(RunProfile.DELTA_IMPORT)
    assert result.ok, result.message
    assert result.counters.get("adds") == 1 and result.counters.get("updates") == 1
    assert workspace.objects() == 65


def test_filter_change_that_would_delete_most_objects_is_stopped(workspace: Workspace) -> None:
    assert workspace.run(RunProfile.FULL_IMPORT).ok
    store = workspace.store
    pending = store.cs.count(workspace.record.id, pending_only=True)
    settings = dict(workspace.record.settings)
    settings["include_containers"] = [f"ou=Groups,{workspace.server.base_dn}"]  # oops
    store.connectors.update(workspace.record.id, settings=settings)
    result = workspace.run(RunProfile.FULL_IMPORT)
    assert result.status == "stopped-deletion-threshold-exceeded"
    assert "60 objects" in (result.message or "")
    # nothing staged: the same objects, with the same pending imports (the adds)
    assert store.cs.count(workspace.record.id, pending_only=True) == pending
    assert workspace.objects() == 64


def test_wrong_password_stops_the_run_and_stages_nothing(workspace: Workspace) -> None:
    workspace.store.connectors.update(workspace.record.id, secrets={"password": "wrong"})
    result = workspace.run(RunProfile.FULL_IMPORT)
    assert result.status == "stopped-connectivity"
    assert "Invalid credentials" in (result.message or "")
    assert workspace.objects() == 0


def test_delta_before_any_full_import_asks_for_one(workspace: Workspace) -> None:
    result = workspace.run(RunProfile.DELTA_IMPORT)
    assert result.status == "stopped-configuration-error"
    assert "full import" in (result.message or "")
