"""What idsync says about a failure nothing else handled: one line saying what is wrong and
what to do, never a traceback (``idsync --debug`` shows it). The command line prints it; a run
that fails this way ends ``stopped-server`` with it as its message and event.

Known failure classes map to their message here, in one place, so every command gets the same
words: a corrupt or missing workspace database, a full disk, a directory that refuses the search
base or the bind, a package that is not installed, a YAML file that does not parse.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Any

from idsync.connectors.registry import missing_module_message
from idsync.errors import IdsyncError

#: Exit codes: a failure the user can fix, and one that is a bug in idsync.
EXIT_FAILURE = 2
EXIT_UNEXPECTED = 1
SEE_SETTINGS = "(see `idsync connector settings ldap`)"


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def describe(exc: BaseException, workspace: str | None = None) -> tuple[str, int]:
    """The message and exit code for ``exc``."""
    where = f" in {workspace}" if workspace else ""
    if isinstance(exc, IdsyncError):
        return one_line(str(exc)), EXIT_FAILURE
    if isinstance(exc, ModuleNotFoundError):
        return missing_module_message(exc), EXIT_FAILURE
    if isinstance(exc, sqlite3.DatabaseError):
        return _sqlite(exc, where), EXIT_FAILURE
    if isinstance(exc, OSError) and exc.errno is not None:
        return _os(exc), EXIT_FAILURE
    ldap_message = _ldap(exc)
    if ldap_message:
        return ldap_message, EXIT_FAILURE
    kind = type(exc)
    if kind.__module__.startswith("psycopg"):
        return (f"the PostgreSQL store failed: {one_line(str(exc))}; check that the server is "
                "up and the workspace's database URL (workspace.yaml)"), EXIT_FAILURE
    if kind.__module__.startswith("yaml"):
        return f"not valid YAML: {one_line(str(exc))}", EXIT_FAILURE
    return (f"unexpected error ({kind.__name__}: {one_line(str(exc))}); run the command again "
            "with `idsync --debug` for the traceback and report it"), EXIT_UNEXPECTED


def _sqlite(exc: sqlite3.DatabaseError, where: str) -> str:
    text = str(exc).lower()
    if "full" in text:
        return (f"the disk holding the workspace database{where} is full (the change was "
                "rolled back): free some space and run the command again")
    if "not a database" in text or "malformed" in text or "no such table" in text:
        return (f"the workspace database{where} is damaged or not an idsync database "
                f"({one_line(str(exc))}): restore a backup with `idsync db restore FILE`, or "
                "move it away and run `idsync init`")
    if "unable to open" in text:
        return (f"cannot open the workspace database{where}: check that the folder exists and "
                "is writable, or create it with `idsync init`")
    if "readonly" in text or "read-only" in text:
        return (f"the workspace database{where} is read-only: run idsync as the user that owns "
                "the workspace")
    if "locked" in text or "busy" in text:
        return (f"the workspace database{where} is locked by another process: wait for it, "
                "or stop it, and run the command again")
    return f"the workspace database{where} failed: {one_line(str(exc))}"


def _os(exc: OSError) -> str:
    name = f" {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return (f"no space left on the device{name and ' holding' + name}: free some space and "
                "run the command again (the change in progress was rolled back)")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied:{name}; run idsync as a user that may read and write it"
    if exc.errno == errno.ENOENT:
        return f"no such file or folder:{name}"
    return f"{exc.strerror or 'operating system error'}:{name}"


def _ldap(exc: BaseException) -> str | None:
    """python-ldap's errors, without importing python-ldap (it may not be installed)."""
    kind = type(exc)
    if not kind.__module__.startswith("ldap"):
        return None
    info: dict[str, Any] = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    detail = one_line(str(info.get("desc") or kind.__name__)
                      + (f": {info['info']}" if info.get("info") else ""))
    names = {k.__name__ for k in kind.__mro__}
    if "NO_SUCH_OBJECT" in names:
        matched = f" (the server knows only {info['matched']!r})" if info.get("matched") else ""
        return (f"the directory has no entry at a configured DN{matched}: check the "
                "connector's partitions, include_containers and accesslog_base "
                f"{SEE_SETTINGS}")
    if "INVALID_CREDENTIALS" in names:
        return ("the directory refused the bind (invalid credentials): check the connector's "
                "bind_dn and its password secret")
    if names & {"SERVER_DOWN", "CONNECT_ERROR", "TIMEOUT"}:
        return (f"cannot reach the directory server ({detail}): check the connector's uri, "
                "the network and the server")
    if names & {"STRONG_AUTH_REQUIRED", "CONFIDENTIALITY_REQUIRED"}:
        return ("the directory requires TLS for this bind: use an ldaps:// uri or set "
                f"start_tls=true {SEE_SETTINGS}")
    if "INSUFFICIENT_ACCESS" in names:
        return (f"the bind account lacks a right the directory asks for ({detail}); on Active "
                "Directory DirSync needs 'Replicating Directory Changes'")
    return f"the directory refused the operation ({detail})"
