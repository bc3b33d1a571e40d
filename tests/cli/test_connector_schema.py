"""``idsync connector schema`` reads a real slapd's subschema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.harness.slapd import slapd, slapd_factory  # noqa: F401

import idsync.cli.connector  # noqa: F401 - registers the group
from idsync.cli.main import cli
from idsync.store import Store


@pytest.mark.slapd
def test_schema_lists_object_types_and_attributes(slapd, tmp_path: Path) -> None:  # noqa: F811
    store = Store.open(tmp_path)
    store.connectors.add("corp", "ldap", slapd.connector_settings(),
                         {"password": slapd.password})
    store.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["--workspace", str(tmp_path), "connector", "schema", "corp",
                                 "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data, "the subschema names object types"
    names = {a["name"].lower() for attrs in data.values() for a in attrs}
    assert {"member", "mail", "uid"} <= names
    member = next(a for attrs in data.values() for a in attrs if a["name"].lower() == "member")
    assert member["reference"] and member["multivalued"]
    missing = runner.invoke(cli, ["--workspace", str(tmp_path), "connector", "schema", "corp",
                                  "--object-type", "nonesuch"])
    assert missing.exit_code == 2 and "nonesuch" in missing.output
