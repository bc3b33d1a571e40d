"""Source of authority through the graph connector (issue 18, item 6): the out-of-box rules for
Graph export an AD-shaped directory into clouddir through its Graph face (MSAL, an app
certificate, HTTPS); an administrator moves a user's and a group's authority to the cloud
(PATCH onPremisesSyncBehavior); their on-premises changes are held (event 6956 once per
object, no export error, the run a success) while another user's go out; when the authority
moves back, the held changes go out on the next cycle and the cloud matches.

Graph itself never refuses these writes (the objects are cloud objects to it): the hold rests
on the graph connector's delta import reading ``onPremisesSyncBehavior``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.harness.clouddir_server import (  # noqa: F401
    CloudDirTenant,
    clouddir_tls,
    clouddir_tls_shared,
    https_client,
    register_app,
)
from tests.rules.conftest import ad_group, ad_user, ldif

from idsync.administration.outofbox import install_outofbox
from idsync.engine.core import RunContext
from idsync.engine.run_profiles import run_profile
from idsync.events import EventId
from idsync.lab.tls import make_app_certificate
from idsync.model import ExportState, RunProfile
from idsync.rules.outofbox import Target
from idsync.store import Store

INITIAL = (("AD", "fi"), ("entra", "fi"), ("AD", "fs"), ("entra", "fs"), ("entra", "e"),
           ("entra", "di"), ("entra", "ds"))
#: The cloud's delta import first, as a scheduler cycle runs it: the switch is known before
#: the export.
DELTA = (("entra", "di"), ("entra", "ds"), ("AD", "fi"), ("AD", "ds"), ("entra", "e"),
         ("entra", "di"), ("entra", "ds"))


class Lab:
    def __init__(self, root: Path, tenant: CloudDirTenant) -> None:
        self.root = root
        self.tenant = tenant
        self.write_source(ann_title="Engineer", bob_title="Engineer", staff=["ann", "boss"])
        self.store = Store.open(root)
        self.store.connectors.add("AD", "file", {"path": "directory.ldif",
                                                 "anchor_attribute": "objectGUID"})
        cert = make_app_certificate(root / "app")
        app = register_app(tenant, certificate=cert)
        server: Any = tenant.server
        self.store.connectors.add("entra", "graph", {
            "tenant_id": tenant.tenant_id, "client_id": app["client_id"],
            "authority": tenant.url, "graph_url": f"{tenant.url}/v1.0",
            "tls_ca_file": str(server.ca_file)},
            {"certificate_key": cert.key_pem, "certificate_thumbprint": app["thumbprint"]})
        install_outofbox(self.store, "AD", "entra", "ad", target=Target.GRAPH)
        self.entra = self.store.connectors.get("entra").id

    def write_source(self, ann_title: str, bob_title: str, staff: list[str]) -> None:
        (self.root / "directory.ldif").write_text(ldif(
            ad_user("boss"), ad_user("ann", extra={"title": [ann_title]}),
            ad_user("bob", extra={"title": [bob_title]}), ad_group("Staff", staff)))

    def cycle(self, runs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        engine = RunContext(self.store, str(self.root))
        try:
            results = [run_profile(engine, c, RunProfile.parse(p)) for c, p in runs]
        finally:
            engine.close()
        assert all(r.status == "success" for r in results), [
            (r.connector, r.profile, r.status, r.message) for r in results]
        return [r for r in results if r.profile == "Export"][-1].counters

    def graph(self) -> httpx.Client:
        return https_client(self.tenant)

    def cloud(self) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """Users by display name, and the Staff group's member ids, as Graph shows them."""
        with self.graph() as http:
            users = http.get("/v1.0/users", params={"$select": "id,displayName,jobTitle"})
            groups = http.get("/v1.0/groups", params={"$select": "id,displayName"})
            by_name = {u["displayName"]: u for u in users.json()["value"]}
            [staff] = [g for g in groups.json()["value"] if g["displayName"] == "Staff"]
            members = http.get(f"/v1.0/groups/{staff['id']}/members",
                               params={"$select": "id"}).json()["value"]
        by_name["Staff"] = staff
        return by_name, {m["id"] for m in members}

    def switch(self, collection: str, object_id: str, to_cloud: bool) -> None:
        with self.graph() as http:
            answer = http.patch(f"/v1.0/{collection}/{object_id}/onPremisesSyncBehavior",
                                json={"isCloudManaged": to_cloud})
        assert answer.status_code == 204, answer.text

    def events(self) -> list[Any]:
        return self.store.events.list(event_id=int(EventId.CLOUD_MANAGED_SKIPPED))

    def cs_ids(self, *graph_ids: str) -> list[int]:
        found = self.store.cs_objects.by_anchors(self.entra, list(graph_ids))
        return [found[g].id for g in graph_ids]


@pytest.fixture
def lab(tmp_path: Path, clouddir_tls: CloudDirTenant) -> Iterator[Lab]:  # noqa: F811
    lab = Lab(tmp_path, clouddir_tls)
    yield lab
    lab.store.close()


def test_cloud_authority_holds_graph_exports_until_it_returns(lab: Lab) -> None:
    lab.cycle(INITIAL)
    objects, members = lab.cloud()
    ann, bob, boss, staff = (objects[n]["id"] for n in ("ann", "bob", "boss", "Staff"))
    assert members == {ann, boss}
    lab.switch("users", ann, True)
    lab.switch("groups", staff, True)
    lab.write_source(ann_title="Manager", bob_title="Lead", staff=["ann", "boss", "bob"])

    counters = lab.cycle(DELTA)
    assert counters.get("updates") == 1  # bob
    assert counters.get("cloud-managed-held") == 2
    assert not counters.get("export-errors")
    events = lab.events()
    assert sorted(e.data["cs_id"] for e in events) == sorted(lab.cs_ids(ann, staff))
    objects, members = lab.cloud()
    assert objects["bob"]["jobTitle"] == "Lead"
    assert objects["ann"]["jobTitle"] == "Engineer" and members == {ann, boss}
    pending = lab.store.exports.get_many(lab.cs_ids(ann, staff))
    assert {p.state for p in pending.values()} == {ExportState.PENDING}
    assert not lab.store.errors.holders(lab.cs_ids(ann, staff))

    # Still held on the next cycle, without a second event.
    counters = lab.cycle(DELTA)
    assert counters.get("cloud-managed-held") == 2 and not counters.get("updates")
    assert len(lab.events()) == 2

    # The authority moves back: the held changes go out on the next cycle.
    lab.switch("users", ann, False)
    lab.switch("groups", staff, False)
    counters = lab.cycle(DELTA)
    assert counters.get("updates") == 2 and not counters.get("cloud-managed-held")
    assert not counters.get("export-errors")
    objects, members = lab.cloud()
    assert objects["ann"]["jobTitle"] == "Manager" and members == {ann, boss, bob}
    assert lab.store.exports.count(lab.entra, state=ExportState.PENDING) == 0
    assert len(lab.events()) == 2
