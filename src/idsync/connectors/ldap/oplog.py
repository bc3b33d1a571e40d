"""The LDAP connector's operation log: each operation a connection sends (bind, search, add,
modify, modrdn, delete) and its result, at debug level on the ``idsync.connectors.ldap``
logger. A line names the operation, its DN and the result code (and the entries a search
returned), never a value or a filter: a bind's password never reaches the log.

python-ldap sends an operation (``add_ext``...) and collects its result separately
(``result4``), so the log keeps the operation of each message id in flight until its result
comes back. Nothing is kept while debug logging is off."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import ldap

_log = logging.getLogger("idsync.connectors.ldap")

#: LDAPObject methods that send one operation, and the operation's name in the log (the
#: synchronous ``*_s`` variants call these).
OPERATIONS = {"simple_bind": "bind", "search_ext": "search", "add_ext": "add",
              "modify_ext": "modify", "rename": "modrdn", "delete_ext": "delete"}
#: Result types that are part of an answer still coming (search entries, references).
_PARTIAL = frozenset({ldap.RES_SEARCH_ENTRY, ldap.RES_SEARCH_REFERENCE, ldap.RES_INTERMEDIATE})
#: Operations in flight past this many are forgotten (abandoned searches never answer).
_MAX_PENDING = 10_000


class _InFlight:
    __slots__ = ("dn", "entries", "operation")

    def __init__(self, operation: str, dn: str) -> None:
        self.operation = operation
        self.dn = dn
        self.entries = 0


def log_operations(conn: Any) -> Any:
    """Log ``conn``'s operations from now on (before its bind, so the bind is logged too)."""
    pending: dict[int, _InFlight] = {}
    for method, operation in OPERATIONS.items():
        original = getattr(conn, method, None)
        if original is not None:
            setattr(conn, method, _sending(original, operation, pending))
    conn.result4 = _receiving(conn.result4, pending)
    return conn


def _sending(method: Callable[..., Any], operation: str,
             pending: dict[int, _InFlight]) -> Callable[..., Any]:
    @functools.wraps(method)
    def logged(*args: Any, **kwargs: Any) -> Any:
        msgid = method(*args, **kwargs)
        if _log.isEnabledFor(logging.DEBUG):
            # The DN is the first argument of every operation (a bind's is the bind DN);
            # nothing after it is looked at.
            dn = args[0] if args else next(iter(kwargs.values()), "")
            if len(pending) >= _MAX_PENDING:
                pending.clear()
            pending[msgid] = _InFlight(operation, str(dn))
        return msgid
    return logged


def _receiving(method: Callable[..., Any],
               pending: dict[int, _InFlight]) -> Callable[..., Any]:
    @functools.wraps(method)
    def logged(*args: Any, **kwargs: Any) -> Any:
        try:
            answer = method(*args, **kwargs)
        except ldap.LDAPError as error:
            msgid = args[0] if args else kwargs.get("msgid")
            sent = pending.pop(msgid, None) if isinstance(msgid, int) else None
            if sent is not None:
                _log.debug("ldap %s %r: %s", sent.operation, sent.dn, _describe(error))
            raise
        if pending and answer and answer[2] is not None:
            _note(answer[0], answer[1], answer[2], pending)
        return answer
    return logged


def _note(result_type: int, data: Any, msgid: int, pending: dict[int, _InFlight]) -> None:
    sent = pending.get(msgid)
    if sent is None:
        return
    if sent.operation == "search" and data:
        sent.entries += sum(1 for item in data if isinstance(item, tuple) and item[0] is not None)
    if result_type in _PARTIAL:
        return
    del pending[msgid]
    if sent.operation == "search":
        _log.debug("ldap search %r: success, %d entries", sent.dn, sent.entries)
    else:
        _log.debug("ldap %s %r: success", sent.operation, sent.dn)


def _describe(error: ldap.LDAPError) -> str:
    """The result's description and code; the server's diagnostic text stays out (the run
    reports it where it fails)."""
    info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    desc = info.get("desc") or type(error).__name__
    code = info.get("result")
    return f"{desc} ({code})" if code is not None else str(desc)
