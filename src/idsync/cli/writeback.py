"""``idsync writeback enable|disable|show``: Microsoft 365 group writeback."""

from __future__ import annotations

import sys

import click

from idsync.administration.writeback import (
    disable_writeback,
    enable_writeback,
    writeback_config,
    writeback_preview,
)
from idsync.cli.common import (
    console,
    handle_errors,
    json_option,
    open_store,
    print_json,
    print_table,
)
from idsync.cli.root import cli
from idsync.cli.simulate import apply_guarded, confirm_option
from idsync.writeback.rules import DEFAULT_MEMBER_LIMIT, NAMINGS, WritebackConfig


@cli.group()
def writeback() -> None:
    """Group writeback: cloud-born Microsoft 365 groups written to the on-premises directory."""


@writeback.command()
@click.option("--onprem", required=True, help="The on-premises LDAP connector.")
@click.option("--cloud", required=True, help="The cloud connector.")
@click.option("--ou", required=True, help="The OU the groups are written to (a DN).")
@click.option("--naming", type=click.Choice(NAMINGS), default="id", show_default=True,
              help="id: CN=Group_<id>; displayname: CN=<displayName>_<last 12 chars of id>.")
@click.option("--member-limit", type=int, default=DEFAULT_MEMBER_LIMIT, show_default=True,
              help="Groups above it fail with 'Maximum Group member count exceeded'.")
@confirm_option
@click.pass_context
@handle_errors
def enable(ctx: click.Context, onprem: str, cloud: str, ou: str, naming: str,
           member_limit: int, confirm: bool) -> None:
    """Install the writeback rules (the next full import and full sync write the groups).
    Like every rule change, previewed first and held above the deletion limits."""
    store = open_store(ctx)
    config = WritebackConfig(onprem, cloud, ou, naming, member_limit)
    rules = apply_guarded(ctx, store, "writeback enable",
                          lambda: enable_writeback(store, config), confirm)
    console.print(f"group writeback enabled: {', '.join(r.name for r in rules)}; "
                  f"full import on {cloud} and full sync required")


@writeback.command()
@json_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, as_json: bool) -> None:
    """The writeback configuration and the written-back groups."""
    store = open_store(ctx)
    config = writeback_config(store)
    groups = writeback_preview(store)
    if as_json:
        print_json({"config": None if config is None else {
            "onprem": config.onprem, "cloud": config.cloud, "ou": config.ou,
            "naming": config.naming, "member_limit": config.member_limit},
            "groups": [g.to_dict() for g in groups]})
        return
    console.print("group writeback: " + ("disabled" if config is None else
                  f"{config.cloud} -> {config.onprem} in {config.ou}, naming {config.naming}, "
                  f"member limit {config.member_limit}"))
    print_table("written-back groups", ["dn", "name", "members", "exists on-prem"],
                [[g.dn, g.name, g.member_count, g.exists_on_prem] for g in groups])


@writeback.command()
@click.option("--confirm", is_flag=True, help="Delete the written-back groups.")
@json_option
@click.pass_context
@handle_errors
def disable(ctx: click.Context, confirm: bool, as_json: bool) -> None:
    """Disable group writeback. Lists the written-back groups the next full sync deletes
    on-premises; nothing changes without --confirm."""
    store = open_store(ctx)
    groups = writeback_preview(store) if not confirm else disable_writeback(store)
    if as_json:
        print_json({"disabled": confirm, "deletions": [g.to_dict() for g in groups]})
    else:
        print_table("written-back groups to be deleted on-premises",
                    ["dn", "name", "members"], [[g.dn, g.name, g.member_count] for g in groups])
        console.print("group writeback disabled; the next full sync stages the deletes "
                      "(review with `idsync export preview`)" if confirm else
                      f"{len(groups)} group(s) would be deleted; nothing changed. Run again "
                      "with --confirm.")
    if not confirm:
        sys.exit(3)
