"""``idsync demo --target graph``: the sample directory into a local clouddir through its
Microsoft Graph API, the graph connector authenticated by MSAL with an app's certificate, and a
delta cycle that exports only the churn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from idsync.cli.main import cli


def stage(data: dict[str, Any], cycle: str, connector: str, profile: str) -> dict[str, Any]:
    return next(s for s in data["stages"] if (s["cycle"], s["connector"], s["profile"])
                == (cycle, connector, profile))


@pytest.mark.sqlite_only  # the demo keeps its own SQLite file whatever names a database
def test_demo_into_graph_exports_everything_then_only_the_churn(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "demo"), "demo",
                                      "--target", "graph", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert all(s["status"] == "success" for s in data["stages"])
    # 1,000 users and 100 groups (contacts have no Graph object), all created through Graph,
    # confirmed by the Graph delta import that follows, nothing left pending or in error.
    assert stage(data, "initial", "entra", "Export")["counters"] == {"adds": 1100}
    confirm = stage(data, "initial", "entra", "Delta Import")["counters"]
    assert confirm["exports-confirmed"] == 1100 and "exports-unconfirmed" not in confirm
    assert data["totals"]["entra_objects"] == 1100
    assert data["totals"]["pending_exports"] == 0 and data["totals"]["errors"] == 0
    # The delta cycle: what the source's delta import brought, and no more, goes out.
    source = stage(data, "delta", "contoso", "Delta Import")["counters"]
    export = stage(data, "delta", "entra", "Export")["counters"]
    assert export.get("adds") == source["adds"] and export.get("deletes") == source["deletes"]
    assert 0 < export.get("updates", 0) < 200
