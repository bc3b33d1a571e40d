"""The root of the ``idsync`` command line: the top Click group, on which each command group's
module registers its commands (``idsync.cli.main`` imports them all)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from idsync import __version__
from idsync.administration.audit import Via, os_user, set_actor
from idsync.cli.common import debugging, report_error
from idsync.failures import describe
from idsync.secrets import redaction


class IdsyncGroup(click.Group):
    """The top of the command line: whatever a command did not handle ends as one line on
    stderr and a non-zero exit (idsync.cli.failures), never as a traceback."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:  # a wrong top-level option: idsync --bogus
            if "--debug" in args or debugging(None):
                raise
            report_error(f"{exc.format_message()} (see `{info_name or 'idsync'} --help`)")
            sys.exit(exc.exit_code)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if debugging(ctx):
                raise
            # One line instead of click's usage block: what is wrong, and where the help is.
            path = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            report_error(f"{exc.format_message()} (see `{path} --help`)")
            ctx.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit,
                click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            if debugging(ctx):
                raise
            sys.stderr.write("interrupted\n")
            ctx.exit(130)
        except Exception as exc:
            if debugging(ctx):
                raise
            obj = ctx.obj if isinstance(ctx.obj, dict) else {}
            message, code = describe(exc, obj.get("workspace"))
            report_error(message)
            ctx.exit(code)


@click.group(cls=IdsyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idsync")
@click.option(
    "--workspace",
    envvar="IDSYNC_HOME",
    default="~/.idsync",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Workspace folder holding the database (env IDSYNC_HOME).",
)
@click.option("--debug", is_flag=True, envvar="IDSYNC_DEBUG",
              help="Show the traceback of a failure (env IDSYNC_DEBUG=1).")
@click.pass_context
def cli(ctx: click.Context, workspace: str, debug: bool) -> None:
    """idsync: keep a cloud directory in step with an on-premises directory."""
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace
    redaction.install()
    # Every change this command makes is recorded in the audit log as the OS user's.
    set_actor(os_user(), Via.CLI)
    ctx.obj["debug"] = debug
    if debug:
        # What a run logs when it fails (its traceback) goes to stderr too.
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(redaction.RedactingFilter())  # a traceback may quote a password
        logger = logging.getLogger("idsync")
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)

        def detach() -> None:
            logger.removeHandler(handler)
            logger.setLevel(level)

        ctx.call_on_close(detach)
