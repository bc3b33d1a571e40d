"""An idsync upgrade (schema migration, then the shipped rule sets installed again) keeps the
API versions, the edited copy of Out to AAD - Group Join with its raised limit, the disabled
default rule, and the writeback configuration with its member limit. The system idsync models
resets them on upgrade (the document: rerun Phase 2 after every upgrade); idsync must not."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from idsync.administration.outofbox import install_outofbox
from idsync.administration.writeback import enable_writeback, writeback_config
from idsync.cli.main import build
from idsync.largegroups.api_versions import set_api_versions
from idsync.rules.outofbox import GROUP_JOIN_RULE
from idsync.store import Store, database
from idsync.writeback.rules import MEMBER_LIMIT_RULE, WritebackConfig

COPY = f"{GROUP_JOIN_RULE} (copy)"
RAISED = ('IIF(ValueCount("member")> 100000,Error("Maximum Group member count exceeded"),'
          'IgnoreThisFlow)')


def _older_database(workspace: Path) -> None:
    store = Store.open(workspace)
    store.connectors.add("corp", "ldap", {"uri": "ldap://127.0.0.1:1", "base_dn": "dc=x",
                                          "bind_dn": "cn=admin,dc=x",
                                          "directory_type": "openldap"}, {"password": "p"})
    store.connectors.add("cloud", "cloud", {"url": "http://127.0.0.1:1", "tenant_id": "t"},
                         {"token": "secret"})
    install_outofbox(store, "corp", "cloud")
    # export v2, import v1: neither is the default, so a reset would show
    plan, changed = set_api_versions(store, "cloud", 2, 1, confirm=False)
    assert changed and plan == []
    enable_writeback(store, WritebackConfig("corp", "cloud", "ou=Writeback,dc=x",
                                            "displayname", 75_000))
    store.close()
    cli = build()
    for args in (["rules", "copy", GROUP_JOIN_RULE, "--precedence", "50"],
                 ["rules", "edit", COPY, "--transformation", f"member={RAISED}",
                  "--scope-value", "memberCount=100000"],
                 ["rules", "disable", MEMBER_LIMIT_RULE]):
        result = CliRunner().invoke(cli, ["--workspace", str(workspace), *args])
        assert result.exit_code == 0, (args, result.output)


def test_upgrade_keeps_api_versions_edited_rules_and_limits(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    _older_database(tmp_path)
    shipped = database.migrations()
    newer = (shipped[-1][0] + 1, f"{shipped[-1][0] + 1:04d}_test_upgrade.sql",
             "CREATE TABLE upgrade_marker (id INTEGER PRIMARY KEY);")
    monkeypatch.setattr(database, "migrations", lambda: [*shipped, newer])

    store = Store.open(tmp_path)  # the upgrade: migrations run
    try:
        assert store.db.schema_version() == newer[0]
        # the new build installs its rule sets again, as an upgrade does
        install_outofbox(store, "corp", "cloud")
        config = writeback_config(store)
        assert config is not None
        enable_writeback(store, config)

        settings = store.connectors.get("cloud").settings
        assert (settings["export_api_version"], settings["import_api_version"]) == (2, 1)
        copy = store.rules.get(COPY)
        assert copy.precedence == 50 and not copy.disabled and not copy.reserved
        member = next(t for t in copy.transformations if t.target == "member")
        assert member.source == RAISED
        values = {c.value for g in copy.scoping for c in g.clauses
                  if c.attribute == "memberCount"}
        assert values == {"100000"}
        assert store.rules.get(GROUP_JOIN_RULE).disabled, "the default rule stays disabled"
        assert store.rules.get(MEMBER_LIMIT_RULE).disabled
        assert config == WritebackConfig("corp", "cloud", "ou=Writeback,dc=x", "displayname",
                                         75_000)
        limit_rules = [t.source for r in store.rules.list() if r.connector == "corp"
                       for t in r.transformations if "Maximum Group" in t.source]
        assert limit_rules and all("75000" in s for s in limit_rules)
    finally:
        store.close()
