"""``idsync expression``: try a sync rule expression on one object before it goes in a rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from idsync.cli.root import cli
from idsync.errors import ConfigurationError
from idsync.expressions import (
    AUTHORITATIVE_NULL,
    IGNORE_THIS_FLOW,
    DictContext,
    ErrorFunctionTriggered,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    ExpressionValidationError,
    compile_expression,
)
from idsync.expressions.json_values import TYPED_HELP as _TYPED_HELP
from idsync.expressions.json_values import attributes_from_json, to_json


@cli.group("expression")
def expression() -> None:
    """Work with sync rule expressions."""


@expression.command("eval")
@click.argument("source", metavar="EXPRESSION")
@click.option(
    "--object",
    "object_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file: attribute name -> value, or a list of values for a multi-valued "
    "attribute. " + _TYPED_HELP,
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter such as Domain.FQDN=contoso.com (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
def eval_command(
    source: str, object_file: Path | None, params: tuple[str, ...], as_json: bool
) -> None:
    """Evaluate EXPRESSION against one object and print the result."""
    attributes = load_object(object_file) if object_file else {}
    parameters = dict(_split_param(p) for p in params)
    try:
        compiled = compile_expression(source)
    except (ExpressionSyntaxError, ExpressionValidationError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        outcome = _outcome(compiled(DictContext(attributes, parameters)))
    except ErrorFunctionTriggered as exc:
        outcome = {"error": exc.message}
    except ExpressionRuntimeError as exc:
        raise click.ClickException(f"Evaluation failed: {exc}") from None
    if as_json:
        click.echo(json.dumps(outcome, ensure_ascii=False))
    else:
        _print_readable(outcome)


def _outcome(result: Any) -> dict[str, Any]:
    if result is IGNORE_THIS_FLOW:
        return {"ignore_this_flow": True}
    if result is AUTHORITATIVE_NULL:
        return {"authoritative_null": True}
    return {"value": to_json(result)}


def load_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--object") from None
    try:
        return attributes_from_json(data, str(path))
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--object") from None


def _split_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r} is not NAME=VALUE", param_hint="--param")
    return name, value


def _print_readable(outcome: dict[str, Any]) -> None:
    console = Console(highlight=False)
    if "error" in outcome:
        console.print(f"[red]Error() triggered:[/red] {escape(outcome['error'])}")
    elif "ignore_this_flow" in outcome:
        console.print("[yellow]IgnoreThisFlow[/yellow]: the flow contributes nothing")
    elif "authoritative_null" in outcome:
        console.print(
            "[yellow]AuthoritativeNull[/yellow]: removes the value, blocking lower-precedence rules"
        )
    elif outcome["value"] is None:
        console.print("[yellow]NULL[/yellow]")
    elif isinstance(outcome["value"], list):
        console.print(f"{len(outcome['value'])} values:")
        for value in outcome["value"]:
            console.print(f"  {escape(repr(value))}")
    else:
        console.print(escape(repr(outcome["value"])))
