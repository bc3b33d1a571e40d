"""``idsync cs search --rdn/--subtree/--export-errors``: the web UI's connector space clauses on
the command line, in id order."""

from __future__ import annotations

import json
from pathlib import Path

from tests.harness.commands import idsync
from tests.harness.workspace import group_entry, ldif, make_workspace, user_entry


def test_cs_search_by_rdn_and_subtree(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", ldif(user_entry("ann"), user_entry("bob"),
                                              group_entry("staff", ["ann"])))
    try:
        assert ws.run("source", "fi").ok
    finally:
        ws.store.close()

    def dns(*args: str) -> list[str]:
        out = idsync(ws.path, "cs", "search", "source", *args, "--json").stdout
        return [o["dn"] for o in json.loads(out)]

    assert dns("--subtree", "OU=Users,dc=contoso,dc=com") == [
        "uid=ann,ou=Users,dc=contoso,dc=com", "uid=bob,ou=Users,dc=contoso,dc=com"]
    assert dns("--rdn", "uid=bob") == ["uid=bob,ou=Users,dc=contoso,dc=com"]
    assert dns("--subtree", "ou=groups,dc=contoso,dc=com", "--rdn", "cn=staff") == [
        "cn=staff,ou=Groups,dc=contoso,dc=com"]
    assert dns("--export-errors") == []
