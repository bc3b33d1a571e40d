"""Helpers for the doctor tests and the doctor bad-input corpus: doctor as a real process,
a snapshot of what a workspace holds (doctor must change none of it), and the check that
every command doctor suggests exists in the command tree, arguments included."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from pathlib import Path
from typing import Any

import click
from tests.harness.commands import idsync

from idsync.cli.main import build
from idsync.store import Store

COMMAND = re.compile(r"`((?:idsync|clouddir) [^`]*)`")


def doctor(ws: Path, *args: str) -> tuple[int, dict[str, dict[str, str]], str]:
    """(exit code, checks by name, the text output) of ``idsync doctor``."""
    result = idsync(ws, "doctor", "--json", *args, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    data = json.loads(result.stdout)
    checks = {c["name"]: c for c in data["checks"]}
    # The text form is the JSON's lines (the CLI prints one line per check).
    text = "".join(f"{c['status']:4}  {c['name']}: {c['detail']}\n" for c in data["checks"])
    return result.returncode, checks, text


def snapshot(ws: Path) -> dict[str, Any]:
    """What doctor must leave as it found it: connectors (settings, secrets, watermarks),
    connector space sizes, runs, events."""
    store = Store.open(ws, migrate=False)
    try:
        return {"connectors": [(dataclasses.asdict(c), store.cs.count(c.id))
                               for c in store.connectors.list()],
                "runs": [dataclasses.asdict(r) for r in store.runs.list(limit=0)],
                "events": store.events.list(limit=100_000)}
    finally:
        store.close()


def command_problem(command: str, connectors: set[str]) -> str | None:
    """Why ``command`` (as doctor prints it) would not run, or None: unknown command, options
    that do not parse, a connector name that is not a connector."""
    import clouddir.cli

    argv = shlex.split(command)
    root: click.Command = build() if argv[0] == "idsync" else clouddir.cli.main
    args = argv[1:]
    cmd, path = root, [argv[0]]
    while isinstance(cmd, click.Group):
        if not args:
            return f"{command}: a group, not a command"
        sub = cmd.get_command(click.Context(cmd), args[0])
        if sub is None:
            return f"{command}: no command {args[0]!r} in {' '.join(path)}"
        path.append(args.pop(0))
        cmd = sub
    if "--help" in args:
        return None
    try:
        ctx = cmd.make_context(" ".join(path), list(args))
    except click.ClickException as exc:
        return f"{command}: {exc.format_message()}"
    for key in ("name", "connector"):
        value = ctx.params.get(key)
        if value is not None and path[1] in ("connector", "errors", "runs", "export")\
                and value not in connectors:
            return f"{command}: {value!r} is not a connector"
    return None


def suggested_commands(text: str) -> list[str]:
    return COMMAND.findall(text)
