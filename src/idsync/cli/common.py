"""What every command shares: the workspace, output as rich tables or JSON, error exits."""

from __future__ import annotations

import base64
import functools
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from idsync.errors import IdsyncError
from idsync.failures import one_line
from idsync.secrets.redaction import redact
from idsync.store import Store, workspace_exists

# No markup read from what is printed: names, DNs and values come from directories and users,
# and "[/bold]" in a displayName must print as it is. Colour is given as rich Text.
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)

F = TypeVar("F", bound=Callable[..., Any])

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def workspace_path(ctx: click.Context) -> Path:
    return Path(ctx.find_root().obj["workspace"]).expanduser()


def open_store(ctx: click.Context, *, must_exist: bool = True) -> Store:
    path = workspace_path(ctx)
    if must_exist and not workspace_exists(path):
        raise IdsyncError(
            f"no idsync workspace at {path}; create one with `idsync --workspace {path} init` "
            "(or set IDSYNC_HOME)")
    store = Store.open(path)
    ctx.call_on_close(store.close)
    return store


def handle_errors(fn: F) -> F:
    """Domain errors end the command with their message and exit code 2, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IdsyncError as exc:
            if debugging():
                raise
            report_error(one_line(redact(str(exc))))
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _default(obj: Any) -> Any:
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode("ascii")
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    return str(obj)


def print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, default=_default,
                                  option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())
    sys.stdout.write("\n")


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in rows:
        # Text, not markup: a value such as "[/bold]" in directory data prints as it is.
        table.add_row(*[Text("" if v is None else str(v)) for v in row])
    console.print(table)


def parse_assignments(items: Iterable[str], what: str = "setting") -> dict[str, Any]:
    """``key=value`` pairs; values are YAML, so lists (``[a, b]``), numbers and booleans work."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise IdsyncError(f"{what} {item!r} is not KEY=VALUE")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise IdsyncError(f"{what} {key}: {exc}") from exc
    return out


def display_value(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def attributes_json(attributes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {k: list(v) for k, v in sorted(attributes.items())}


def debugging(ctx: click.Context | None = None) -> bool:
    """``idsync --debug`` (or IDSYNC_DEBUG=1): failures show their traceback."""
    ctx = ctx or click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is not None and isinstance(root.obj, dict) and root.obj.get("debug"):
        return True
    return os.environ.get("IDSYNC_DEBUG", "") not in ("", "0")


def report_error(message: str) -> None:
    """``error: MESSAGE`` on stderr, one line: no markup read from the message, no wrapping."""
    err_console.print(Text.assemble(("error:", "red"), " ", message), soft_wrap=True,
                      highlight=False)
