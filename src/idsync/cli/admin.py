"""``idsync admin add|list|passwd|remove``: the local administrators who sign in to the web UI.

A password is typed twice at a hidden prompt or read as one line from standard input
(``--password-stdin``, for scripts); never from the command line, where ``ps`` and the shell
history show it to others (``--password`` is refused, saying so).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from idsync.administration.admin_accounts import (
    AdminAccountError,
    AdminRole,
    add_admin,
    change_password,
    check_new_name,
    get_admin,
    list_admins,
    remove_admin,
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
from idsync.secrets import redaction

F = TypeVar("F", bound=Callable[..., Any])


def _refuse_password_argument(ctx: click.Context, param: click.Parameter,
                              value: str | None) -> None:
    if value is not None:
        # The value is not repeated: it is the password the message is about.
        raise click.UsageError(
            "--password: a password on the command line is visible to every user of this "
            "machine (ps, shell history) and was not stored; type it at the hidden prompt "
            "(give no option) or pipe it with --password-stdin")


def password_options(fn: F) -> F:
    """``--password-stdin``, and a hidden ``--password`` that is refused with the ways to give
    a password instead (given with or without a value)."""
    fn = click.option("--password", "password_argument", hidden=True, is_flag=False,
                      flag_value="", default=None, expose_value=False,
                      callback=_refuse_password_argument)(fn)
    return click.option("--password-stdin", "password_stdin", is_flag=True,
                        help="Read the password as one line from standard input (for "
                             "scripts) instead of a hidden prompt.")(fn)


def read_password(name: str, from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1].removesuffix("\r") if line.endswith("\n") else line
        if not password:
            raise AdminAccountError("--password-stdin: standard input gave no password")
    else:
        password = click.prompt(f"password for {name}", hide_input=True,
                                confirmation_prompt=f"repeat the password for {name}",
                                prompt_suffix=": ", err=True)
    # Masked in anything logged or printed afterwards (a traceback under --debug included).
    redaction.remember(password)
    return password


def _when(stamp: str) -> str:
    """An ISO time as the table shows it: to the second, UTC (--json keeps it whole)."""
    return stamp[:19].replace("T", " ") + " UTC"


@cli.group("admin")
def admin() -> None:
    """Local administrators who sign in to the web UI (idsync serve)."""


@admin.command("add")
@click.argument("name")
@click.option("--read-only", is_flag=True,
              help="The administrator sees everything and can change nothing.")
@password_options
@click.pass_context
@handle_errors
def add(ctx: click.Context, name: str, read_only: bool, password_stdin: bool) -> None:
    """Add an administrator (asks for the password twice, hidden)."""
    store = open_store(ctx)
    folded = check_new_name(store, name)  # before the password is typed for nothing
    role = AdminRole.READ_ONLY if read_only else AdminRole.FULL
    account = add_admin(store, folded, read_password(folded, password_stdin), role)
    console.print(f"administrator {account.name} added ({account.role})")


@admin.command("list")
@json_option
@click.pass_context
@handle_errors
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the administrators: name, role, created, password changed."""
    accounts = list_admins(open_store(ctx))
    if as_json:
        print_json([a.to_json() for a in accounts])
        return
    if not accounts:
        console.print("no administrators; add one with `idsync admin add NAME`")
        return
    print_table(None, ["name", "role", "created", "password changed"],
                [(a.name, str(a.role), _when(a.created_at), _when(a.password_changed_at))
                 for a in accounts])


@admin.command("passwd")
@click.argument("name")
@password_options
@click.pass_context
@handle_errors
def passwd(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set an administrator's password (asks for it twice, hidden)."""
    store = open_store(ctx)
    account = get_admin(store, name)  # before the password is typed for nothing
    change_password(store, account.name, read_password(account.name, password_stdin))
    console.print(f"password of {account.name} changed")


@admin.command("remove")
@click.argument("name")
@click.pass_context
@handle_errors
def remove(ctx: click.Context, name: str) -> None:
    """Remove an administrator (never the last one who can change things)."""
    store = open_store(ctx)
    account = get_admin(store, name)
    remove_admin(store, account.name)
    console.print(f"administrator {account.name} removed")
