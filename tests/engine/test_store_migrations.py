"""Schema migrations: an upgrade keeps every setting and every object; a database newer than
the build is refused instead of being damaged."""

from __future__ import annotations

from pathlib import Path

import pytest

from idsync.administration.rule_changes import save_rules
from idsync.errors import ConfigurationError
from idsync.rules.files import builtin_rule_set
from idsync.store import Store, database


def test_fresh_database_is_at_the_newest_version(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    assert store.db.schema_version() == database.migrations()[-1][0]
    assert store.db.migrate() == []           # migrating again does nothing
    store.close()


def test_upgrade_keeps_settings_rules_and_objects(tmp_path: Path, monkeypatch) -> None:
    store = Store.open(tmp_path)
    connector = store.connectors.add("cloud", "file", {"path": "x.ldif", "api": 2},
                                     {"token": "secret"})
    store.connectors.add("target", "file", {"path": "y.ldif"})
    with store.transaction():
        store.settings.set("export_deletion_threshold", {"enabled": True, "count": 1234})
        store.connectors.set_watermark(connector.id, {"offset": 42})
        cs_id = store.cs.insert(connector.id, anchor="a1", dn="cn=x,dc=y", object_type="user",
                                attributes={"cn": ["x"], "photo": [b"\x00\x01"]})
        group = store.cs.insert(connector.id, anchor="g1", dn="cn=g,dc=y", object_type="group")
        store.cs.change_refs(group, "member", [cs_id], [])
    save_rules(store, builtin_rule_set("directory-to-directory", source="cloud",
                                       target="target", target_base="dc=t"),
               installing_builtin=True)
    store.close()

    shipped = database.migrations()
    newer = (shipped[-1][0] + 1, f"{shipped[-1][0] + 1:04d}_test_upgrade.sql",
             "ALTER TABLE connectors ADD COLUMN description TEXT NOT NULL DEFAULT '';"
             "CREATE TABLE upgrade_marker (id INTEGER PRIMARY KEY);")
    monkeypatch.setattr(database, "migrations", lambda: [*shipped, newer])
    store = Store.open(tmp_path)
    assert store.db.schema_version() == newer[0]
    upgraded = store.connectors.get("cloud")
    assert upgraded.settings == {"path": "x.ldif", "api": 2}
    assert upgraded.secrets == {"token": "secret"}
    assert upgraded.watermark == {"offset": 42}
    assert store.settings.get("export_deletion_threshold") == {"enabled": True, "count": 1234}
    assert store.cs.get(cs_id).attributes == {"cn": ["x"], "photo": [b"\x00\x01"]}
    assert store.cs.ref_targets(group, "member") == {cs_id}
    assert len(store.rules.list()) == 4
    store.close()

    # the older build (without the new migration) refuses the newer database
    monkeypatch.setattr(database, "migrations", lambda: shipped)
    with pytest.raises(ConfigurationError, match="newer than this idsync"):
        Store.open(tmp_path)
