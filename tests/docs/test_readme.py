"""The README works as written.

Every ``idsync`` and ``clouddir`` command the README shows must name commands and options that
exist, with the arguments they take (checked against the real Click command trees, nothing
run). The blocks marked ``<!-- readme-test: run in WORKSPACE -->`` are run for real, line by
line, through bash, in a fresh workspace of that kind: ``demo`` is the demo's workspace with a
cloud target (connectors ``contoso`` and ``cloud``), ``demo-file`` the demo with a file target
(``contoso`` and ``fabrikam``). Each line must exit with the code its comment names, 0 if none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from tests.docs.readme_commands import DEMO_FOLDER, README, Block, Line, program, read_blocks

from clouddir.cli import main as clouddir_main
from idsync.cli.main import build

ROOT = README.parent
BIN = ROOT / ".venv" / "bin"
BLOCKS = read_blocks()
COMMAND_LINES = [(line, words) for block in BLOCKS for line in block.lines
                 for words in line.commands if program(words)]


TREES: dict[str, click.Command] = {"idsync": build(), "clouddir": clouddir_main}


def parse(root: click.Command, name: str, args: list[str]) -> list[str]:
    """Parse ``args`` down the command tree as Click would, without running anything.
    -> the path of commands. Raises click.UsageError on an unknown command or option."""
    path = [name]
    ctx = root.make_context(name, list(args), resilient_parsing=False)
    command: click.Command = root
    while isinstance(command, click.Group):
        rest = [*ctx._protected_args, *ctx.args] if hasattr(ctx, "_protected_args") \
            else [*ctx.protected_args, *ctx.args]
        if not rest:
            if command.invoke_without_command:
                break
            raise click.UsageError(f"{' '.join(path)} needs a command", ctx)
        sub_name, sub, sub_args = command.resolve_command(ctx, rest)
        assert sub is not None and sub_name is not None
        path.append(sub_name)
        ctx = sub.make_context(sub_name, sub_args, parent=ctx, resilient_parsing=False)
        command = sub
    return path


def _path_types(command: click.Command) -> Iterator[click.Path]:
    for param in command.params:
        if isinstance(param.type, click.Path):
            yield param.type
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _path_types(sub)


@pytest.mark.parametrize(("line", "words"), COMMAND_LINES,
                         ids=[f"L{line.number}-{' '.join(w[:3])}" for line, w in COMMAND_LINES])
def test_every_readme_command_exists_as_written(line: Line, words: list[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    name = program(words)
    assert name is not None
    # A path the example names need not exist where the test runs: every other check stays.
    for path_type in _path_types(TREES[name]):
        monkeypatch.setattr(path_type, "exists", False)
    try:
        parse(TREES[name], name, words[1:])
    except click.exceptions.Exit:
        pass
    except click.ClickException as exc:
        pytest.fail(f"README line {line.number}: `{line.text}`: {exc.format_message()}")


def test_the_readme_has_commands_to_check() -> None:
    # a parser that silently found nothing would pass every test above
    assert len(COMMAND_LINES) > 100
    assert any(block.run_in for block in BLOCKS)


RUN_BLOCKS = [b for b in BLOCKS if b.run_in]


def _demo_workspace(kind: str, base: Path) -> Path:
    ws = base / kind
    args = [str(BIN / "idsync"), "--workspace", str(ws), "demo", "--no-churn"]
    if kind == "demo-file":
        args += ["--target", "file"]
    elif kind != "demo":
        raise AssertionError(f"unknown readme-test workspace {kind!r}")
    subprocess.run(args, check=True, capture_output=True, timeout=300)
    return ws


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("readme")
    return {kind: _demo_workspace(kind, base) for kind in sorted({b.run_in or "" for b in
                                                                  RUN_BLOCKS})}


def _still_serving(line: Line, text: str, env: dict[str, str], cwd: Path) -> None:
    server = subprocess.Popen(["bash", "-c", f"exec {text}"], cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        server.wait(timeout=4)
    except subprocess.TimeoutExpired:
        return  # serving, as the README says
    finally:
        if server.poll() is None:
            server.terminate()
        out, err = server.communicate(timeout=30)
    pytest.fail(f"README line {line.number}: `{line.text}` stopped with code "
                f"{server.returncode}\n{out[-2000:]}\n{err[-2000:]}")


@pytest.mark.sqlite_only  # the demo keeps its own SQLite file whatever names a database
@pytest.mark.parametrize("block", RUN_BLOCKS, ids=[f"L{b.line}" for b in RUN_BLOCKS])
def test_readme_block_runs_as_written(block: Block, workspaces: dict[str, Path],
                                      tmp_path: Path) -> None:
    assert block.run_in is not None
    ws = tmp_path / "ws"
    shutil.copytree(workspaces[block.run_in], ws, symlinks=True)
    env = {**os.environ, "IDSYNC_HOME": str(ws), "PATH": f"{BIN}:{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("IDSYNC_DATABASE_URL", None)
    # Commands run in a folder of their own (files they write, such as `rules export rules/`,
    # stay out of the checkout), where `.venv/bin/...` still names the project's tools.
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / ".venv").symlink_to(ROOT / ".venv")
    for line in block.lines:
        text = line.text.replace(DEMO_FOLDER, str(ws))
        if line.serves:
            _still_serving(line, text, env, cwd)
            continue
        done = subprocess.run(["bash", "-c", text], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == line.expected_exit, (
            f"README line {line.number}: `{line.text}` exited {done.returncode}, "
            f"expected {line.expected_exit}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        assert "Traceback" not in done.stderr, done.stderr
