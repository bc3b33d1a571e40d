"""The real ``idsync expression eval`` command, through Click's runner and one subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

# Importing the command module registers ``idsync expression`` on the group; going through
# _register() would make these tests depend on every other command module's import.
import idsync.cli.expression  # noqa: F401
from idsync.cli.main import cli


@pytest.fixture
def object_file(tmp_path: Path) -> Path:
    path = tmp_path / "user.json"
    path.write_text(
        json.dumps(
            {
                "dn": "cn=Joe,ou=Atlanta,ou=GA,ou=US,dc=contoso,dc=com",
                "proxyAddresses": ["SMTP:joe@contoso.com", "smtp:jd@contoso.com"],
                "pwdLastSet": 129699324000000000,
                "objectGUID": {"binary": "eFY0EjQSeFaavN7wEjRWeA=="},
                "manager": {"ref": "cn=Boss,dc=contoso,dc=com"},
                "accountEnabled": True,
            }
        ),
        encoding="utf-8",
    )
    return path


def run(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["expression", "eval", *args], catch_exceptions=False)
    return result


def run_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('Left("John Doe", 3)', {"value": "Joh"}),
        ("2+3*4", {"value": 20}),
        ("IsPresent([accountEnabled])", {"value": True}),
        ("[nothing]", {"value": None}),
        ('Split("a,b", ",")', {"value": ["a", "b"]}),
        ("DateFromNum([pwdLastSet])", {"value": "2012-01-01T23:00:00Z"}),
        ("[objectGUID]", {"value": "eFY0EjQSeFaavN7wEjRWeA=="}),
        ("DNComponent([manager], 1)", {"value": "Boss"}),
        ('Join([proxyAddresses], ";")', {"value": "SMTP:joe@contoso.com;smtp:jd@contoso.com"}),
        ("IgnoreThisFlow", {"ignore_this_flow": True}),
        ("AuthoritativeNull", {"authoritative_null": True}),
        (
            'IIF(Count([proxyAddresses]) > 1, Error("too many addresses"), NULL)',
            {"error": "too many addresses"},
        ),
    ],
)
def test_json_output_shapes(object_file: Path, expression: str, expected: dict[str, Any]) -> None:
    assert run_json(expression, "--object", str(object_file)) == expected


def test_parameters(object_file: Path) -> None:
    out = run_json(
        'DNComponent(CRef([dn]),1) & "@" & %Domain.FQDN%',
        "--object",
        str(object_file),
        "--param",
        "Domain.FQDN=contoso.com",
    )
    assert out == {"value": "Joe@contoso.com"}


def test_without_an_object_file() -> None:
    assert run_json('UCase("x")') == {"value": "X"}


def test_syntax_error_exits_non_zero_with_positioned_message() -> None:
    result = run('IIF([a] "b", 1, 2)', "--json")
    assert result.exit_code != 0
    assert "line 1, column 9" in result.stderr
    assert "^" in result.stderr
    assert result.stdout == ""


def test_unknown_function_and_arity_exit_non_zero() -> None:
    unknown = run("Lefft([a], 1)")
    assert unknown.exit_code != 0 and "unknown function Lefft" in unknown.stderr
    arity = run("Left([a])")
    assert arity.exit_code != 0 and "Left takes 2 arguments, got 1" in arity.stderr


def test_runtime_type_mismatch_exits_non_zero() -> None:
    result = run("Left(5, 1)")
    assert result.exit_code != 0
    assert "Left: argument must be a string" in result.stderr


def test_readable_output(object_file: Path) -> None:
    result = run("[proxyAddresses]", "--object", str(object_file))
    assert result.exit_code == 0
    assert "2 values" in result.stdout and "SMTP:joe@contoso.com" in result.stdout
    error = run('Error("nope")')
    assert error.exit_code == 0 and "Error() triggered" in error.stdout and "nope" in error.stdout


def test_bad_object_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("[1, 2]", encoding="utf-8")
    result = run("[a]", "--object", str(path))
    assert result.exit_code == 2
    assert "JSON object" in result.stderr


def test_command_in_a_subprocess(object_file: Path) -> None:
    # A real process: exit status and stdout as a script calling idsync would see them.
    program = (
        "import idsync.cli.expression; from idsync.cli.main import cli; cli(prog_name='idsync')"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            program,
            "expression",
            "eval",
            'DNComponentRev(CRef([dn]),1,"DC")',
            "--object",
            str(object_file),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"value": "US"}
    failed = subprocess.run(
        [sys.executable, "-c", program, "expression", "eval", "Left(", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert failed.returncode == 1
    assert "Syntax error at line 1, column 6" in failed.stderr
