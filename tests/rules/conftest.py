"""Fixtures for the rule tests: a workspace with an on-premises file connector (AD-like or
OpenLDAP-like entries) and a cloud connector on a real clouddir server, with the out-of-box
rules installed."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.harness.clouddir_server import (
    CloudDirTenant,
    clouddir,
    clouddir_factory,
    clouddir_shared,
)

from idsync.administration.outofbox import install_outofbox
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import RunResult, run_profile
from idsync.model import RunProfile
from idsync.store import Store

__all__ = ["clouddir", "clouddir_factory", "clouddir_shared"]

BASE = "DC=contoso,DC=com"


def guid(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_DNS, name)


def ad_user(sam: str, *, disabled: bool = False, extra: dict[str, list[str]] | None = None
            ) -> str:
    """An AD-shaped user entry: objectGUID (binary), sAMAccountName, userAccountControl."""
    lines = [f"dn: CN={sam},OU=Users,{BASE}", "objectClass: user", f"cn: {sam}",
             f"sAMAccountName: {sam}", f"userPrincipalName: {sam}@contoso.test",
             f"givenName: {sam.title()}", "sn: Tester", f"mail: {sam}@contoso.test",
             f"userAccountControl: {514 if disabled else 512}",
             "objectGUID:: " + base64.b64encode(guid(sam).bytes_le).decode()]
    for name, values in (extra or {}).items():
        lines += [f"{name}: {v}" for v in values]
    return "\n".join(lines) + "\n"


def ad_group(name: str, members: list[str], *, mail: bool = False) -> str:
    lines = [f"dn: CN={name},OU=Groups,{BASE}", "objectClass: group", f"cn: {name}",
             f"sAMAccountName: {name}", "groupType: -2147483646",
             "objectGUID:: " + base64.b64encode(guid("group-" + name).bytes_le).decode()]
    if mail:
        lines.append(f"mail: {name}@contoso.test")
    lines += [f"member: CN={m},OU=Users,{BASE}" for m in members]
    return "\n".join(lines) + "\n"


def ldif(*entries: str) -> str:
    return "version: 1\n\n" + "\n".join(entries)


@dataclass
class HybridWorkspace:
    path: Path
    store: Store
    tenant: CloudDirTenant | None

    @property
    def source_file(self) -> Path:
        return self.path / "onprem" / "directory.ldif"

    def run(self, connector: str, profile: str) -> RunResult:
        engine = RunContext(self.store, str(self.path))
        try:
            result = run_profile(engine, connector, RunProfile.parse(profile))
        finally:
            engine.close()
        return result

    def cycle(self) -> list[RunResult]:
        """Import both, sync both, export to the cloud, confirm by import, sync again."""
        results = [self.run(c, p) for c, p in (("AD", "fi"), ("AAD", "fi"), ("AD", "fs"),
                                                ("AAD", "fs"), ("AAD", "e"), ("AAD", "fi"),
                                                ("AAD", "fs"))]
        for r in results:
            assert r.status in ("success", "completed-export-errors",
                                "completed-sync-errors"), (r.profile, r.status, r.message)
        return results

    def write_source(self, text: str) -> None:
        self.source_file.write_text(text)

    def cloud_objects(self) -> dict[str, dict[str, Any]]:
        """Cloud objects by source anchor (synchronized objects only)."""
        assert self.tenant is not None
        entries, _token, _pages = self.tenant.import_all(2)
        out: dict[str, dict[str, Any]] = {}
        for e in entries:
            if e.get("source_anchor"):
                found = out.setdefault(e["source_anchor"], {**e, "member_ids": set()})
                found["member_ids"] |= set((e.get("members") or {}).get("add") or [])
        return out


def make_hybrid(path: Path, source_ldif: str, tenant: CloudDirTenant | None, *,
                flavour: str = "ad", install: bool = True) -> HybridWorkspace:
    (path / "onprem").mkdir(parents=True)
    (path / "onprem" / "directory.ldif").write_text(source_ldif)
    store = Store.open(path)
    store.connectors.add("AD", "file", {
        "path": "onprem/directory.ldif", "changes_path": "onprem/changes.ldif",
        "anchor_attribute": "objectGUID" if flavour == "ad" else "entryUUID"})
    if tenant is not None:
        store.connectors.add("AAD", "cloud", tenant.connector_settings(), tenant.secrets())
    else:
        # Never contacted: rules and dry runs need the connector record only.
        store.connectors.add("AAD", "cloud", {"url": "http://127.0.0.1:9",
                                              "tenant_id": "none"}, {"token": "none"})
    if install:
        install_outofbox(store, "AD", "AAD", flavour)
    return HybridWorkspace(path, store, tenant)


@pytest.fixture
def hybrid_factory(tmp_path: Path) -> Iterator[Any]:
    made: list[HybridWorkspace] = []

    def factory(source_ldif: str, tenant: CloudDirTenant | None = None,
                **kwargs: Any) -> HybridWorkspace:
        ws = make_hybrid(tmp_path / f"ws{len(made)}", source_ldif, tenant, **kwargs)
        made.append(ws)
        return ws

    yield factory
    for ws in made:
        ws.store.close()
