"""The administrator audit log: who changed what, old -> new.

A neutral module below administration/, scheduler/ and largegroups/ (it imports only the
store, values and the secret redaction), so that each operation records its own change
wherever it lives and the command line and the web UI, which call the same operations, are
audited alike. ``idsync.administration.audit`` re-exports it.

Who is acting is a context variable: the command line's root sets it for every command to the
operating-system user (via ``cli``); the web UI sets it per request to the signed-in admin (via
``ui``). Every change an administrator makes goes through ``record_change``, in the caller's
transaction where there is one, so a change that is refused or rolled back leaves no entry.

Values pass through the secret redaction (idsync.secrets.redaction), and connector secrets
never reach it at all: a secret change is recorded as its name with ``SECRET_CHANGED`` in place
of the value (the log is read by every admin, read-only ones included, and kept in backups).
"""

from __future__ import annotations

import contextvars
import getpass
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from idsync import values
from idsync.secrets import redaction
from idsync.store import Store

#: What an entry holds in place of a secret's value.
SECRET_CHANGED = "(changed)"


class Via(StrEnum):
    CLI = "cli"
    UI = "ui"


class AuditAction(StrEnum):
    RULE_SAVE = "rule.save"
    RULE_EDIT = "rule.edit"
    RULE_COPY = "rule.copy"
    RULE_ENABLE = "rule.enable"
    RULE_DISABLE = "rule.disable"
    RULE_DELETE = "rule.delete"
    RULES_INSTALL_OUTOFBOX = "rules.install-outofbox"
    CONNECTOR_ADD = "connector.add"
    CONNECTOR_SET = "connector.set"
    CONNECTOR_OVERRIDE = "connector.override"
    SCHEDULER_SET = "scheduler.set"
    STAGING_MODE = "staging-mode"
    EXPORT_DELETION_THRESHOLD = "export-deletion-threshold"
    DELETION_LIMIT = "deletion-limit"
    MEMBER_REMOVAL_LIMIT = "member-removal-limit"
    ATTRIBUTE_CHANGE_LIMIT = "attribute-change-limit"
    API_VERSION = "api-version"
    WRITEBACK_ENABLE = "writeback.enable"
    WRITEBACK_DISABLE = "writeback.disable"
    SECRETS_ROTATE_KEY = "secrets.rotate-key"
    EXPORTS_DISCARD = "exports.discard"
    MEMBER_REMOVALS_ALLOW = "exports.allow-member-removals"
    ADMIN_ADD = "admin.add"
    ADMIN_PASSWORD = "admin.passwd"
    ADMIN_ROLE = "admin.role"
    ADMIN_REMOVE = "admin.remove"
    OBJECT_COMMIT = "object.commit"
    #: asked of the service from the web UI (Operations): starting or stopping a cycle and
    #: running one profile change what the directories hold, so the log names who asked
    CYCLE_START = "cycle.start"
    CYCLE_STOP = "cycle.stop"
    RUN_START = "run.start"


@dataclass(frozen=True, slots=True)
class Actor:
    """The administrator behind the changes of this context."""

    name: str
    via: Via


_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("idsync_admin",
                                                                       default=None)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        return "unknown"


def set_actor(name: str, via: Via) -> contextvars.Token[Actor | None]:
    return _actor.set(Actor(name, via))


def current_actor() -> Actor:
    """The acting admin; code that runs outside any command or request acts as the OS user
    on the command line."""
    return _actor.get() or Actor(os_user(), Via.CLI)


@contextmanager
def acting_as(name: str, via: Via) -> Iterator[Actor]:
    """Changes inside the block are recorded as ``name``'s (a UI request, a test)."""
    token = set_actor(name, via)
    try:
        yield Actor(name, via)
    finally:
        _actor.reset(token)


def _clean(value: Any) -> Any:
    """The value as JSON, with every secret this process knows masked."""
    if value is None:
        return None
    return values.loads(redaction.redact(values.dumps(value)))


def record_change(store: Store, action: AuditAction, target: str, old: Any, new: Any) -> None:
    """One audit entry for a change made by the acting admin. Call it inside the change's
    transaction: a change rolled back takes its entry with it."""
    actor = current_actor()
    store.audit.add(actor.name, actor.via.value, action.value, target, _clean(old),
                    _clean(new))


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(old, new) restricted to the keys whose value differs (a key absent on one side is
    None there); mappings on both sides are compared key by key, so a change of one
    connector's limit records that limit, not every connector's."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            before[key], after[key] = changed_fields(a, b)
        else:
            before[key], after[key] = a, b
    return before, after


def secret_changes(old: Mapping[str, str], new: Mapping[str, str]
                   ) -> tuple[dict[str, str], dict[str, str]]:
    """Which secrets changed, by name only: never their values."""
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    before = {k: SECRET_CHANGED for k in keys if k in old}
    after = {k: SECRET_CHANGED for k in keys if k in new}
    return before, after


def settings_snapshot(store: Store) -> dict[str, Any]:
    """Every server setting now: a change records the keys it changed (``record_settings``)."""
    return store.settings.all()


def record_settings(store: Store, action: AuditAction, target: str,
                    before: Mapping[str, Any]) -> bool:
    """Record the settings that differ from ``before`` (nothing when none changed); returns
    whether an entry was written."""
    old, new = changed_fields(before, settings_snapshot(store))
    if not old and not new:
        return False
    record_change(store, action, target, old, new)
    return True
