"""The issue's lineage flow on the real parts: a user found in the LDAP connector space (a real
slapd), followed through its lineage to the metaverse and to its object in the cloud
connector space, which is the object the cloud directory (a real clouddir) holds."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from tests.harness.browser import add_test_admins
from tests.harness.clouddir_server import clouddir_factory, clouddir_shared
from tests.harness.commands import idsync
from tests.harness.hybrid import FULL, make_hybrid
from tests.harness.slapd import slapd, slapd_factory

# the fixtures this test needs (a real slapd, a real clouddir)
__all__ = ["clouddir_factory", "clouddir_shared", "slapd", "slapd_factory"]

USERS = ["ann", "bob", "carol"]


def test_a_user_in_ldap_followed_to_the_metaverse_and_the_cloud(
        slapd, clouddir_factory, serve_factory, ui_factory, tmp_path: Path):
    tenant = clouddir_factory()
    h = make_hybrid(tmp_path / "ws", slapd, tenant, USERS)
    try:
        h.steps(*FULL)
        idsync(h.workspace, "scheduler", "set", "--sync-cycle-enabled", "false")
        add_test_admins(h.store)
        cloud = h.store.connectors.get("cloud")
        corp = h.store.connectors.get("corp")
        [bob] = h.store.cs.search(corp.id, dn=f"uid=bob,ou=People,{h.base}", limit=1)
        [in_cloud] = [o for o in h.store.cs.linked_to([bob.mv_id]) if o.connector_id == cloud.id]
        # the cloud directory holds it under the anchor its connector space object names
        entries, _token, _pages = h.tenant.import_all(2)
        assert in_cloud.anchor in {e["id"] for e in entries}
    finally:
        h.store.close()

    ui = ui_factory(serve_factory(h.workspace))
    ui.sign_in()
    page = ui.visit("/connectors/corp", "the LDAP connector space")
    page.get_by_label("RDN").fill("uid=bob")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(1)
    results.get_by_role("link", name=re.compile("^uid=bob,ou=People")).click()
    page.wait_for_url(re.compile(r".*/cs/\d+$"))
    ui.shot("bob in the LDAP connector space")
    expect(page.locator("#hologram")).to_contain_text("bob@example.com")

    page.locator("#mv-link").click()
    page.wait_for_url(re.compile(rf".*/mv/{bob.mv_id}$"))
    ui.shot("bob in the metaverse")
    expect(page.locator("#connectors tbody tr")).to_have_count(2)
    expect(page.locator("#connectors")).to_contain_text("cloud")

    page.locator("#connectors").get_by_role("link", name=in_cloud.dn).click()
    page.wait_for_url(re.compile(rf".*/cs/{in_cloud.id}$"))
    ui.shot("bob in the cloud connector space")
    expect(page.locator("#cs-summary")).to_contain_text("cloud")
    expect(page.locator("#cs-summary")).to_contain_text(in_cloud.anchor)
    expect(page.locator("#lineage")).to_contain_text("Provision")
    expect(page.locator("#lineage")).to_contain_text("outbound")
