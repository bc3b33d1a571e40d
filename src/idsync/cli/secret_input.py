"""How a secret reaches idsync: a hidden prompt, standard input, a file or an environment
variable; never the command line, where ``ps`` and the shell history show it to others.

``secret_options`` adds the four options to a command; ``read_secrets`` turns them into
``{key: value}``. ``--secret KEY=VALUE`` is refused with the ways to do it instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from idsync.errors import ConfigurationError
from idsync.secrets import redaction

F = TypeVar("F", bound=Callable[..., Any])


def secret_options(key: str = "KEY") -> Callable[[F], F]:
    """The options ``--secret KEY``, ``--secret-stdin KEY``, ``--secret-file KEY=PATH`` and
    ``--secret-env KEY=VAR`` (``key`` names the key's form, e.g. ``CONNECTOR.KEY``)."""

    def apply(fn: F) -> F:
        for option in reversed([
            click.option("--secret", "secret_prompt", multiple=True, metavar=key,
                         help="A secret to type at a hidden prompt (never KEY=VALUE: the "
                              "command line is visible to others). Repeatable."),
            click.option("--secret-stdin", "secret_stdin", metavar=key,
                         help="A secret read from standard input (one line or all of it)."),
            click.option("--secret-file", "secret_file", multiple=True,
                         metavar=f"{key}=PATH", help="A secret read from a file. Repeatable."),
            click.option("--secret-env", "secret_env", multiple=True, metavar=f"{key}=VAR",
                         help="A secret read from an environment variable. Repeatable."),
        ]):
            fn = option(fn)
        return fn

    return apply


def _how(key: str) -> str:
    return (f"give it with --secret {key} (hidden prompt), --secret-stdin {key}, "
            f"--secret-file {key}=PATH or --secret-env {key}=VAR")


def _pair(item: str, option: str, what: str) -> tuple[str, str]:
    key, sep, ref = item.partition("=")
    if not sep or not key.strip() or not ref.strip():
        raise ConfigurationError(f"{option} {item!r} is not KEY={what}")
    return key.strip(), ref.strip()


def _strip_newline(text: str) -> str:
    return text[:-1].removesuffix("\r") if text.endswith("\n") else text


def read_secrets(secret_prompt: tuple[str, ...] = (), secret_stdin: str | None = None,
                 secret_file: tuple[str, ...] = (), secret_env: tuple[str, ...] = ()
                 ) -> dict[str, str]:
    """The secrets the options give, each read from where it was said to be."""
    out: dict[str, str] = {}

    def put(key: str, value: str) -> None:
        if key in out:
            raise ConfigurationError(f"secret {key} is given twice")
        if not value:
            raise ConfigurationError(f"secret {key} is empty")
        redaction.remember(value)
        out[key] = value

    for item in secret_prompt:
        key, sep, _ = item.partition("=")
        if sep:
            raise ConfigurationError(
                f"--secret {key}=...: a secret on the command line is visible to every user "
                f"of this machine (ps, shell history) and was not stored; {_how(key)}")
    if secret_stdin and secret_prompt:
        raise ConfigurationError(
            "--secret-stdin reads standard input, which the prompt of --secret needs too: "
            "give the other secrets with --secret-file or --secret-env")
    for item in secret_file:
        key, ref = _pair(item, "--secret-file", "PATH")
        try:
            put(key, _strip_newline(Path(ref).expanduser().read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise ConfigurationError(f"--secret-file {key}: cannot read {ref}: {reason}") \
                from None
    for item in secret_env:
        key, ref = _pair(item, "--secret-env", "VAR")
        if ref not in os.environ:
            raise ConfigurationError(f"--secret-env {key}: the environment variable {ref} is "
                                     "not set")
        put(key, os.environ[ref])
    if secret_stdin:
        put(secret_stdin.strip(), _strip_newline(sys.stdin.read()))
    for key in secret_prompt:
        put(key.strip(), click.prompt(key.strip(), hide_input=True, prompt_suffix=": ",
                                      err=True))
    return out


#: What a passphrase option holds when it was given with no value: ask for it.
_ASK = "\0ask"


def passphrase_option(name: str, envvar: str, help: str) -> Callable[[F], F]:
    """A passphrase flag: given alone it prompts (hidden), or it comes from ``envvar``; a value
    typed after it on the command line is refused like any other secret there."""

    def resolve(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None:
            return None
        if value == _ASK:
            value = click.prompt("passphrase", hide_input=True, err=True)
        elif ctx.get_parameter_source(param.name or "") is click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError(
                f"{name} takes no value: a passphrase on the command line is visible to every "
                f"user of this machine (ps, shell history); give {name} alone (hidden prompt) "
                f"or set {envvar}")
        redaction.remember(value)
        return value

    return click.option(name, envvar=envvar, is_flag=False, flag_value=_ASK, default=None,
                        callback=resolve, help=help)
