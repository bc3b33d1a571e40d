"""``idsync rules list|show|export|import|enable|disable|delete``, the out-of-box rules
(``install-outofbox``) and rule editing (``copy``, ``edit``, ``test``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml
from rich.markup import escape

from idsync.administration import rule_changes, rule_dry_run, rule_editing
from idsync.administration.outofbox import (
    check_connector_types,
    install_outofbox,
    resolve_flavour,
)
from idsync.cli.common import (
    console,
    display_value,
    handle_errors,
    json_option,
    open_store,
    print_json,
    print_table,
    workspace_path,
)
from idsync.cli.expression import load_object, to_json
from idsync.cli.root import cli
from idsync.cli.simulate import apply_guarded, confirm_option
from idsync.rules import edits
from idsync.rules.files import load_rules, write_rules
from idsync.rules.outofbox import FLAVOURS, Target


@cli.group()
def rules() -> None:
    """Sync rules: scope, join, transformations and precedence."""


@rules.command("list")
@click.option("--connector", help="Only this connector's rules.")
@click.option("--direction", type=click.Choice(["inbound", "outbound"]))
@json_option
@click.pass_context
@handle_errors
def list_(ctx: click.Context, connector: str | None, direction: str | None,
          as_json: bool) -> None:
    """List rules by precedence."""
    store = open_store(ctx)
    found = [r for r in store.rules.list()
             if (not connector or r.connector == connector)
             and (not direction or r.direction.value == direction)]
    if as_json:
        print_json([{"id": r.id, **r.to_dict()} for r in found])
        return
    print_table("Sync rules", ["precedence", "name", "direction", "connector", "cs type",
                               "mv type", "link", "disabled", "reserved"],
                [[r.precedence, r.name, r.direction.value, r.connector, r.cs_object_type,
                  r.mv_object_type, r.link_type.value, r.disabled, r.reserved] for r in found])


@rules.command()
@click.argument("name")
@json_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """Show one rule in full (as YAML, or JSON)."""
    rule = open_store(ctx).rules.get(name)
    if as_json:
        print_json({"id": rule.id, **rule.to_dict()})
    else:
        click.echo(yaml.safe_dump(rule.to_dict(), sort_keys=False, allow_unicode=True,
                                  width=100))


@rules.command("export")
@click.argument("path", type=click.Path())
@click.option("--connector", help="Only this connector's rules.")
@click.pass_context
@handle_errors
def export_(ctx: click.Context, path: str, connector: str | None) -> None:
    """Write rules as YAML: one file per rule into a folder, or one file if PATH ends in
    .yaml."""
    store = open_store(ctx)
    found = [r for r in store.rules.list() if not connector or r.connector == connector]
    written = write_rules(found, path)
    console.print(f"{len(found)} rule(s) written to {len(written)} file(s) under {path}")


@rules.command("import")
@click.argument("path", type=click.Path(exists=True))
@confirm_option
@click.pass_context
@handle_errors
def import_(ctx: click.Context, path: str, confirm: bool) -> None:
    """Add or replace rules from a YAML file or folder. Every rule is validated (expressions
    compiled, connectors checked) before any is saved; the connectors of changed rules are
    marked for a full synchronization."""
    store = open_store(ctx)
    loaded = load_rules(path)
    saved = apply_guarded(ctx, store, f"rules import {path}",
                          lambda: rule_changes.save_rules(store, loaded), confirm)
    console.print(f"{len(saved)} rule(s) imported; full synchronization required on: "
                  + ", ".join(sorted({r.connector for r in saved})))


@rules.command()
@click.argument("name")
@confirm_option
@click.pass_context
@handle_errors
def enable(ctx: click.Context, name: str, confirm: bool) -> None:
    """Enable a rule."""
    store = open_store(ctx)
    apply_guarded(ctx, store, f"rules enable {name!r}",
                  lambda: rule_changes.set_disabled(store, name, False), confirm)
    console.print(f"rule {name!r} enabled")


@rules.command()
@click.argument("name")
@confirm_option
@click.pass_context
@handle_errors
def disable(ctx: click.Context, name: str, confirm: bool) -> None:
    """Disable a rule (out-of-box rules too)."""
    store = open_store(ctx)
    apply_guarded(ctx, store, f"rules disable {name!r}",
                  lambda: rule_changes.set_disabled(store, name, True), confirm)
    console.print(f"rule {name!r} disabled")


@rules.command()
@click.argument("name")
@confirm_option
@click.pass_context
@handle_errors
def delete(ctx: click.Context, name: str, confirm: bool) -> None:
    """Delete a rule (not an out-of-box one: disable those)."""
    store = open_store(ctx)
    apply_guarded(ctx, store, f"rules delete {name!r}",
                  lambda: rule_changes.delete_rule(store, name), confirm)
    console.print(f"rule {name!r} deleted")


# --- out-of-box rules and editing --------------------------------------------------------


@rules.command("install-outofbox")
@click.option("--onprem", required=True, help="The on-premises connector (ldap or file).")
@click.option("--cloud", help="The cloud connector (type cloud: the sync API). Give --cloud "
                              "or --graph.")
@click.option("--graph", help="The Microsoft Graph connector (type graph: Entra ID through "
                              "Graph). Give --cloud or --graph.")
@click.option("--flavour", type=click.Choice(sorted(FLAVOURS)),
              help="On-premises directory: ad (objectGUID, sAMAccountName) or openldap "
                   "(entryUUID, uid). Default: detected from the connector (the LDAP "
                   "server's root DSE, a file connector's anchor attribute); a flavour "
                   "that contradicts it is refused.")
@confirm_option
@click.pass_context
@handle_errors
def install_outofbox_command(ctx: click.Context, onprem: str, cloud: str | None,
                             graph: str | None, flavour: str | None, confirm: bool) -> None:
    """Install the out-of-box rules between two connectors: In from AD, In from AAD and Out
    to AAD for the sync API (--cloud), or In from AD, In from Graph and Out to Graph for
    Microsoft Graph (--graph). They are reserved: disable them, or edit an editable copy
    (`rules copy`). Installing again restores them as shipped."""
    if (cloud is None) == (graph is None):
        raise click.UsageError("give exactly one of --cloud (a cloud connector, the sync API) "
                               "and --graph (a graph connector, Microsoft Graph)")
    target = Target.GRAPH if graph is not None else Target.CLOUD
    name = graph if graph is not None else cloud or ""
    store = open_store(ctx)
    workspace = str(workspace_path(ctx))
    check_connector_types(store, onprem, name, target)
    chosen, how = resolve_flavour(store, onprem, flavour, workspace)
    console.print(f"flavour {chosen}: {how}")
    saved = apply_guarded(
        ctx, store, "rules install-outofbox",
        lambda: install_outofbox(store, onprem, name, chosen, workspace=workspace,
                                 target=target), confirm)
    console.print(f"{len(saved)} out-of-box rule(s) installed (precedence "
                  f"{min(r.precedence for r in saved)}-{max(r.precedence for r in saved)}); "
                  f"full synchronization required on {onprem} and {name}")


@rules.command("copy")
@click.argument("name")
@click.option("--precedence", type=click.IntRange(1, 99),
              help="Precedence of the copy, 1-99 (asked when not given).")
@click.option("--name", "new_name", help="Name of the copy (default: NAME (copy)).")
@confirm_option
@click.pass_context
@handle_errors
def copy_command(ctx: click.Context, name: str, precedence: int | None,
                 new_name: str | None, confirm: bool) -> None:
    """Disable rule NAME and create an editable copy of it (the way to change an out-of-box
    rule)."""
    store = open_store(ctx)
    store.rules.get(name)  # fail on an unknown name before asking anything
    if precedence is None:
        free = rule_editing.free_custom_precedences(store)
        precedence = click.prompt(
            f"Precedence of the editable copy (1-99; free: {edits.precedence_ranges(free)})",
            type=click.IntRange(1, 99), default=free[-1] if free else None)
    copy = apply_guarded(ctx, store, f"rules copy {name!r}",
                         lambda: rule_editing.copy_rule(store, name, precedence, new_name), confirm)
    console.print(f"rule {name!r} disabled; editable copy {copy.name!r} created at precedence "
                  f"{copy.precedence}. Change it with `idsync rules edit {copy.name!r}`.",
                  highlight=False)


def _pairs(items: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        target, sep, source = item.partition("=")
        if not sep or not target.strip():
            raise click.BadParameter(f"{item!r} is not TARGET=SOURCE", param_hint=option)
        out[target.strip()] = source
    return out


@rules.command("edit")
@click.argument("name")
@click.option("--transformation", "expressions", multiple=True, metavar="TARGET=EXPRESSION",
              help="Set the expression flowing into TARGET (repeatable).")
@click.option("--direct", "directs", multiple=True, metavar="TARGET=ATTRIBUTE",
              help="Flow ATTRIBUTE directly into TARGET (repeatable).")
@click.option("--constant", "constants", multiple=True, metavar="TARGET=VALUE",
              help="Flow a constant into TARGET (repeatable).")
@click.option("--remove-transformation", "removals", multiple=True, metavar="TARGET",
              help="Remove the transformation of TARGET (repeatable).")
@click.option("--precedence", type=int, help="New precedence (lower wins).")
@click.option("--scope", "scopes", multiple=True, metavar="'ATTR OP VALUE [AND ...]'",
              help="Replace the scoping filter: each --scope is one group of clauses joined by "
                   "AND; groups are ORed (repeatable).")
@click.option("--clear-scope", is_flag=True, help="Remove the scoping filter (every object).")
@click.option("--scope-value", "scope_values", multiple=True, metavar="ATTR=VALUE",
              help="Set the value of every scoping clause on ATTR (repeatable).")
@click.option("--description", help="New description.")
@click.option("--rename", help="New name.")
@confirm_option
@click.pass_context
@handle_errors
def edit_command(ctx: click.Context, name: str, expressions: tuple[str, ...],
                 directs: tuple[str, ...], constants: tuple[str, ...],
                 removals: tuple[str, ...], precedence: int | None, scopes: tuple[str, ...],
                 clear_scope: bool, scope_values: tuple[str, ...], description: str | None,
                 rename: str | None, confirm: bool) -> None:
    """Change rule NAME: a transformation's source, the scoping, the precedence. The rule is
    validated (expressions compiled) before it is saved; its connector then needs a full
    synchronization. Out-of-box rules are reserved: copy them first."""
    if scopes and clear_scope:
        raise click.UsageError("--scope and --clear-scope exclude each other")
    scoping = [edits.parse_scope_group(s) for s in scopes] if scopes else (
        [] if clear_scope else None)
    edit = edits.RuleEdit(
        expressions=_pairs(expressions, "--transformation"),
        directs=_pairs(directs, "--direct"), constants=_pairs(constants, "--constant"),
        remove_transformations=list(removals), precedence=precedence, scoping=scoping,
        scope_values=_pairs(scope_values, "--scope-value"), description=description,
        name=rename)
    store = open_store(ctx)
    saved = apply_guarded(ctx, store, f"rules edit {name!r}",
                          lambda: rule_editing.edit_rule(store, name, edit), confirm)
    console.print(f"rule {saved.name!r} saved; full synchronization required on "
                  f"{saved.connector}", highlight=False)


@rules.command("test")
@click.argument("name")
@click.option("--object", "object_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON file: attribute -> value or list of values (a connector space object "
                   "for an inbound rule, a metaverse object for an outbound one). "
                   '{"binary": BASE64}, {"ref": DN} and {"date": ISO} give typed values.')
@click.option("--dn", help="The object's DN (inbound rules read it as [dn]).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter such as Domain.FQDN=contoso.com (repeatable).")
@json_option
@click.pass_context
@handle_errors
def test_command(ctx: click.Context, name: str, object_file: Path, dn: str | None,
                 params: tuple[str, ...], as_json: bool) -> None:
    """Show what rule NAME would do to one object: the scope result clause by clause, the
    join attempt, and each transformation's value or error. Nothing is written."""
    store = open_store(ctx)
    rule = store.rules.get(name)
    attributes = load_object(object_file)
    report = rule_dry_run.dry_run(rule, attributes, store=store, dn=dn,
                             parameters=_pairs(params, "--param"))
    if as_json:
        print_json(_report_json(report))
    else:
        _print_report(report)


def _report_json(report: rule_dry_run.DryRunReport) -> dict[str, Any]:
    return {
        "rule": report.rule.name, "direction": report.rule.direction.value,
        "disabled": report.rule.disabled, "in_scope": report.in_scope,
        "scope": [[{"attribute": c.clause.attribute, "operator": c.clause.operator.value,
                    "value": c.clause.value, "matched": c.matched} for c in g]
                  for g in report.scope],
        "join": {"outcome": report.join_outcome,
                 "groups": [{"group": j.group, "values": {k: to_json(v)
                                                          for k, v in j.values.items()},
                             "candidates": j.candidates, "note": j.note}
                            for j in report.joins]},
        "transformations": [{"target": f.target, "flow_type": f.flow_type.value,
                             "source": f.source, "outcome": f.outcome,
                             **({"value": to_json(f.value)} if f.outcome == "value" else {}),
                             **({"message": f.message} if f.message else {})}
                            for f in report.flows],
    }


def _print_report(report: rule_dry_run.DryRunReport) -> None:
    rule = report.rule
    state = " (disabled)" if rule.disabled else ""
    console.print(f"[bold]{escape(rule.name)}[/bold]{state}: {rule.direction.value}, "
                  f"precedence {rule.precedence}, {rule.link_type.value}", highlight=False,
                  markup=True)
    verdict = "[green]in scope[/green]" if report.in_scope else "[red]not in scope[/red]"
    console.print(f"Scope: {verdict}" + ("" if report.scope else " (no filter: every object)"),
                  highlight=False, markup=True)
    for number, group in enumerate(report.scope, 1):
        for c in group:
            mark = {True: "[green]yes[/green]", False: "[red]no[/red]",
                    None: "[yellow]not evaluated[/yellow]"}[c.matched]
            shown = f"{c.clause.attribute} {c.clause.operator.value} {c.clause.value or ''}"
            console.print(f"  group {number}: {escape(shown.strip())} -> {mark}",
                          highlight=False, markup=True)
    console.print(f"Join: {escape(report.join_outcome)}", highlight=False, markup=True)
    for j in report.joins:
        found = j.note or f"{len(j.candidates or [])} candidate(s) {j.candidates}"
        console.print(f"  group {j.group}: {escape(str(j.values))} -> {escape(found)}",
                      highlight=False, markup=True)
    # Sources hold [attribute] references: print_table prints cells as text, not markup.
    print_table("Transformations", ["target", "flow", "source", "result"],
                [[f.target, f.flow_type.value, f.source, f.described(display_value)]
                 for f in report.flows])
