"""Connectors, connector spaces and the metaverse in a real browser: find a user by RDN and by
subtree, open it, follow its lineage to the metaverse and to the object in the other connector;
a group's members page by page; a metaverse search with two clauses; a pending export's old ->
new values and member adds and removes. Both file connectors, source -> metaverse -> target,
after a synchronization cycle."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect
from tests.harness.browser import add_test_admins
from tests.harness.commands import idsync
from tests.harness.workspace import (
    Workspace,
    group_entry,
    ldif,
    make_workspace,
    user_entry,
)

from idsync.administration.object_pages import parse_after, shown
from idsync.errors import ConfigurationError
from idsync.store.metaverse import AttributeClause, ClauseOperator
from idsync.web.pages.metaverse import parse_clauses

MEMBERS = 60  # more than a page (50)


def test_search_input_is_checked_before_any_query():
    assert shown(b"\x01\xff") == "0x01ff" and shown(7) == "7"
    assert shown(bytes(100)).endswith("... (100 bytes)")
    assert parse_after(None) is None and parse_after("") is None and parse_after("42") == 42
    with pytest.raises(ConfigurationError, match="not an object id"):
        parse_after("-1")
    assert parse_clauses({"attr1": "sn", "op1": "equals", "value1": "Smith",
                          "attr2": "", "value2": "ignored",
                          "attr3": "mail", "op3": "present"}) == [
        AttributeClause("sn", ClauseOperator.EQUALS, "Smith"),
        AttributeClause("mail", ClauseOperator.PRESENT, "")]
    with pytest.raises(ConfigurationError, match="unknown operator"):
        parse_clauses({"attr1": "sn", "op1": "contains", "value1": "x"})
    with pytest.raises(ConfigurationError, match="Give a value"):
        parse_clauses({"attr1": "sn", "op1": "starts-with"})


def _serve(ws: Workspace, serve_factory, ui_factory):
    """The workspace served quietly (no scheduled cycle), ann signed in."""
    idsync(ws.path, "scheduler", "set", "--sync-cycle-enabled", "false")
    add_test_admins(ws.store)
    ui = ui_factory(serve_factory(ws.path))
    ui.sign_in()
    return ui


@pytest.fixture
def synced_workspace(small_workspace: Workspace) -> Workspace:
    small_workspace.initial_cycle()
    return small_workspace


@pytest.fixture
def big_group_workspace(tmp_path: Path) -> Iterator[Workspace]:
    users = [f"user{i:03d}" for i in range(MEMBERS)]
    ws = make_workspace(tmp_path / "big", ldif(
        *(user_entry(u, mail=f"{u}@contoso.com", sn="Sales" if i % 2 else "Ops")
          for i, u in enumerate(users)),
        group_entry("everyone", users)))
    ws.initial_cycle()
    yield ws
    ws.store.close()


def test_find_a_user_and_follow_its_lineage(synced_workspace, serve_factory, ui_factory):
    ui = _serve(synced_workspace, serve_factory, ui_factory)
    page = ui.visit("/connectors", "connectors")
    rows = page.locator("#connectors tbody tr")
    expect(rows).to_have_count(2)
    source_row = rows.filter(has_text="source")
    expect(source_row).to_contain_text("file")
    expect(source_row).to_contain_text("idle")
    expect(source_row.locator("td").nth(3)).to_contain_text("3")  # objects
    # the last run links to its page (Operations)
    assert re.fullmatch(r"/runs/\d+", source_row.get_by_role("link", name="Full Synchronization")
                        .get_attribute("href") or "")

    source_row.get_by_role("link", name="source").click()
    page.wait_for_url("**/connectors/source")
    page.get_by_label("RDN").fill("UID=ann")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(1)
    expect(results).to_contain_text("uid=ann,ou=Users,dc=contoso,dc=com")
    ui.shot("search by RDN")

    page.get_by_label("RDN").fill("")
    page.get_by_label("Subtree").fill("ou=users,dc=contoso,dc=com")
    page.get_by_role("button", name="Search").click()
    expect(results).to_have_count(2)  # ann and bob, not the group in ou=Groups
    expect(page.locator("#results")).not_to_contain_text("cn=staff")
    ui.shot("search by subtree")

    results.get_by_role("link", name="uid=ann,ou=Users,dc=contoso,dc=com").click()
    page.wait_for_url(re.compile(r".*/cs/\d+$"))
    ui.shot("source object")
    expect(page.locator("#hologram")).to_contain_text("ann@contoso.com")
    expect(page.locator("#pending-export")).to_contain_text("None.")
    preview = urlparse(page.get_by_role("link", name="Preview this object").get_attribute("href"))
    assert preview.path == "/preview"
    assert parse_qs(preview.query) == {"connector": ["source"],
                                       "dn": ["uid=ann,ou=Users,dc=contoso,dc=com"]}
    lineage = page.locator("#lineage")
    expect(lineage).to_contain_text("In from source - User Join")
    target_link = page.locator("#linked").get_by_role(
        "link", name="uid=ann,ou=People,dc=fabrikam,dc=com")
    target_href = target_link.get_attribute("href")

    page.locator("#mv-link").click()
    page.wait_for_url(re.compile(r".*/mv/\d+$"))
    ui.shot("metaverse object")
    mail = page.locator("#attributes tr").filter(
        has=page.get_by_role("rowheader", name="mail", exact=True))
    expect(mail).to_contain_text("ann@contoso.com")
    expect(mail).to_contain_text("source")
    expect(mail).to_contain_text("In from source - User Join")
    expect(page.locator("#connectors tbody tr")).to_have_count(2)

    page.locator("#connectors").get_by_role(
        "link", name="uid=ann,ou=People,dc=fabrikam,dc=com").click()
    page.wait_for_url("**" + (target_href or "/none"))
    ui.shot("target object")
    expect(page.locator("#cs-summary")).to_contain_text("target")
    expect(page.locator("#lineage")).to_contain_text("Out to target - User Join")
    expect(page.locator("#lineage")).to_contain_text("Provision")

    # a narrow window: nothing wider than the screen but the tables' own scrolling
    page.set_viewport_size({"width": 420, "height": 800})
    page = ui.visit(target_href or "/", "target object, narrow window")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.set_viewport_size({"width": 1280, "height": 800})

    # bad input: a clear message, not a stack trace
    page = ui.visit("/connectors/source?rdn=ann", "RDN without =")
    expect(page.locator("main")).to_contain_text("has no '='")
    page = ui.visit("/connectors/source?after=x", "bad after")
    expect(page.locator("main")).to_contain_text("is not an object id")


def test_group_members_paged_and_metaverse_search(big_group_workspace, serve_factory,
                                                  ui_factory):
    ui = _serve(big_group_workspace, serve_factory, ui_factory)
    page = ui.visit("/connectors/source?object_type=group", "groups in source")
    page.locator("#results").get_by_role("link", name=re.compile("^cn=everyone")).click()
    page.wait_for_url(re.compile(r".*/cs/\d+$"))
    ui.shot("group object")
    member = page.locator("#hologram tr").filter(
        has=page.get_by_role("rowheader", name="member", exact=True))
    expect(member).to_contain_text(f"{MEMBERS} values")
    expect(member.locator("ul.values li")).to_have_count(10)
    member.get_by_role("link", name=f"All {MEMBERS} values of member").click()
    page.wait_for_url("**/values/member")
    ui.shot("members page 1")
    expect(page.locator("#values tbody tr")).to_have_count(50)
    first_page = set(page.locator("#values tbody td:nth-child(2)").all_inner_texts())
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(r".*after=\d+"))
    ui.shot("members page 2")
    expect(page.locator("#values tbody tr")).to_have_count(MEMBERS - 50)
    second_page = set(page.locator("#values tbody td:nth-child(2)").all_inner_texts())
    assert not first_page & second_page
    assert len(first_page | second_page) == MEMBERS
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)

    # the metaverse: two clauses ANDed
    page = ui.visit("/metaverse", "metaverse search")
    page.get_by_label("Object type").fill("person")
    page.locator("#f-attr1").fill("sn")
    page.locator("#f-op1").select_option("equals")
    page.locator("#f-value1").fill("Sales")
    page.locator("#f-attr2").fill("mail")
    page.locator("#f-op2").select_option("starts-with")
    page.locator("#f-value2").fill("USER00")  # user000..user009, any case
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r".*attr2=mail.*"))
    ui.shot("metaverse two clauses")
    found = page.locator("#results tbody tr")
    expect(found).to_have_count(5)  # the odd ones of user000..user009 have sn Sales
    expect(page.locator("#results")).to_contain_text("Ann Sales")

    page = ui.visit("/metaverse?object_type=group", "metaverse groups")
    page.locator("#results").get_by_role("link", name="everyone").click()
    page.wait_for_url(re.compile(r".*/mv/\d+$"))
    ui.shot("metaverse group")
    members = page.locator("#attributes tr").filter(
        has=page.get_by_role("rowheader", name="member", exact=True))
    expect(members).to_contain_text(f"{MEMBERS} values")
    members.get_by_role("link", name=f"All {MEMBERS} values of member").click()
    ui.shot("metaverse members")
    expect(page.locator("#values tbody tr")).to_have_count(50)

    page = ui.visit("/metaverse?attr1=mail&op1=equals", "clause without a value")
    expect(page.locator("main")).to_contain_text("Give a value")


def test_pending_export_shows_old_new_and_member_changes(synced_workspace, serve_factory,
                                                         ui_factory):
    ws = synced_workspace
    ws.change_source(
        "dn: uid=ann,ou=Users,dc=contoso,dc=com\nchangetype: modify\nreplace: sn\nsn: Brown\n"
        "-\n\n"
        + user_entry("carol").replace("objectClass", "changetype: add\nobjectClass", 1)
        + "\ndn: cn=staff,ou=Groups,dc=contoso,dc=com\nchangetype: modify\n"
        "delete: member\nmember: uid=bob,ou=Users,dc=contoso,dc=com\n-\n"
        "add: member\nmember: uid=carol,ou=Users,dc=contoso,dc=com\n-\n")
    assert ws.run("source", "di").ok and ws.run("source", "ds").ok  # no export
    assert ws.pending_exports() == 3  # ann modified, carol added, the group's members
    ui = _serve(ws, serve_factory, ui_factory)
    page = ui.visit("/connectors", "connectors with pending exports")
    expect(page.locator("#connectors tbody tr", has_text="target")
           .locator("td").nth(5)).to_have_text("3")
    page = ui.visit("/connectors/target?pending_export=on", "pending exports of target")
    expect(page.locator("#results tbody tr")).to_have_count(3)

    page.locator("#results").get_by_role("link", name=re.compile("^uid=ann")).click()
    page.wait_for_url(re.compile(r".*/cs/\d+$"))
    ui.shot("ann's pending export")
    sn = page.locator("#export-changes tr").filter(
        has=page.get_by_role("rowheader", name="sn", exact=True))
    expect(sn.locator("td").nth(0)).to_have_text("Smith")
    expect(sn.locator("td").nth(1)).to_have_text("Brown")
    expect(page.locator("#pending-export")).to_contain_text("modify")

    page = ui.visit("/connectors/target?rdn=cn%3Dstaff", "the group in target")
    page.locator("#results").get_by_role("link", name=re.compile("^cn=staff")).click()
    page.wait_for_url(re.compile(r".*/cs/\d+$"))
    ui.shot("group's pending export")
    change = page.locator("#export-member")
    expect(change).to_contain_text("member: 1 added, 1 removed")
    expect(change).to_contain_text("uid=carol,ou=People,dc=fabrikam,dc=com")
    expect(change).to_contain_text("uid=bob,ou=People,dc=fabrikam,dc=com")
    page = ui.visit(change.get_by_role("link", name=re.compile("carol")).get_attribute("href")
                    or "/", "carol's pending add")
    expect(page.locator("#pending-export")).to_contain_text("add")
