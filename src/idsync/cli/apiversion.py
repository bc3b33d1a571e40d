"""``idsync connector set-api-version CONNECTOR --export N --import N [--confirm]``: the
Set-ADSyncAADConnectorExportApiVersion / ImportApiVersion equivalents, with the rollback
deletions listed before anything changes."""

from __future__ import annotations

import sys

import click

from idsync.cli.common import (
    console,
    handle_errors,
    json_option,
    open_store,
    print_json,
    print_table,
    workspace_path,
)
from idsync.cli.connector import connector
from idsync.largegroups.api_versions import (
    V1_MEMBER_LIMIT,
    AtRiskGroup,
    service_v1_limit,
    set_api_versions,
)
from idsync.largegroups.rollback import GroupState


def _show_plan(plan: list[AtRiskGroup]) -> None:
    print_table("groups above the API v1 member limit that idsync holds, and what the rollback "
                "does to each",
                ["name", "members", "state", "what happens", "connector", "dn"],
                [[g.name, g.member_count, g.state, g.fate, g.connector, g.dn] for g in plan])


@connector.command("set-api-version")
@click.argument("name")
@click.option("--export", "export_version", type=click.IntRange(1, 2), required=True,
              help="Sync API version for exports (1 or 2).")
@click.option("--import", "import_version", type=click.IntRange(1, 2), required=True,
              help="Sync API version for imports (1 or 2).")
@click.option("--confirm", is_flag=True,
              help="Go ahead although groups above the v1 limit would be deleted.")
@json_option
@click.pass_context
@handle_errors
def set_api_version(ctx: click.Context, name: str, export_version: int, import_version: int,
                    confirm: bool, as_json: bool) -> None:
    """Set the sync API versions of a cloud connector. Going back to 1 deletes every group
    above 50,000 members that idsync provisioned (in the cloud, and written-back groups
    on-premises) and disconnects the ones it joined: every group above the limit is listed
    first with what happens to it, and nothing changes without --confirm."""
    store = open_store(ctx)
    # Only a switch to v1 needs the service's v1 limit (and so a connection).
    limit = (service_v1_limit(store, name, str(workspace_path(ctx)))
             if 1 in (export_version, import_version) else V1_MEMBER_LIMIT)
    # set_api_versions records the change in the audit log, in the change's transaction.
    plan, changed = set_api_versions(store, name, export_version, import_version,
                                     confirm=confirm, limit=limit)
    if as_json:
        print_json({"changed": changed, "export_api_version": export_version,
                    "import_api_version": import_version,
                    # every group listed, and those deleted (in the cloud or on-premises)
                    "groups": [g.to_dict() for g in plan],
                    "deletions": [g.to_dict() for g in plan
                                  if g.state != GroupState.JOINED.value]})
    else:
        if plan:
            _show_plan(plan)
        deletes = sum(1 for g in plan if g.deleted_in_cloud)
        if changed:
            console.print(f"connector {name}: export API v{export_version}, import API "
                          f"v{import_version}; full import and full sync required")
            if deletes:
                console.print(f"{deletes} cloud delete(s) staged: review them with "
                              "`idsync export preview` before the next export (the deletion "
                              "threshold applies)")
        else:
            console.print(f"{len(plan)} group(s) above the v1 limit listed; nothing changed. "
                          "Run again with --confirm to switch.")
    if not changed:
        sys.exit(3)
