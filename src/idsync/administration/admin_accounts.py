"""The local administrators who sign in to the web UI: their names, roles and passwords.

A password is kept only as an argon2id hash (``argon2-cffi``, RFC 9106's low-memory profile:
64 MiB, 3 passes, 4 lanes); a sign-in verifies it and rehashes it when the parameters have grown
since. There is always at least one administrator who can change things once there is any: the
last full admin can be neither removed nor made read-only. Decisions:
docs/decisions/admin-accounts.md.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from idsync.administration.audit import AuditAction, record_change
from idsync.errors import ConfigurationError
from idsync.store import Store
from idsync.store.admins import AdminAccountRow
from idsync.store.database import utcnow

MIN_PASSWORD_LENGTH = 12
#: Hashing a password costs 64 MiB whatever its length; this bound only stops a pasted file.
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 64
NAME_RULE = re.compile(r"^[a-z][a-z0-9._-]*$")
#: The longest pause a sign-in imposes after failures in a row (seconds).
MAX_SIGNIN_DELAY = 60.0

_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


@functools.cache
def _unknown_name_hash() -> str:
    # Verified when the name is unknown, so a wrong name costs as long as a wrong password (the
    # time taken does not tell which names exist). Made on first need: every command imports
    # this module, and a hash costs 64 MiB and tens of milliseconds.
    return _hasher.hash("idsync: no such administrator")


class AdminAccountError(ConfigurationError):
    """An administrator account change refused: a bad name or password, an unknown or taken
    name, the last full admin."""


class AdminRole(StrEnum):
    """What an administrator may do: ``full`` changes things, ``read-only`` sees everything
    and changes nothing (stored as the ``read_only`` flag)."""

    FULL = "full"
    READ_ONLY = "read-only"

    @classmethod
    def of(cls, read_only: bool) -> AdminRole:
        return cls.READ_ONLY if read_only else cls.FULL


@dataclass(frozen=True)
class AdminAccount:
    """An administrator as shown and used: never the password hash."""

    name: str
    role: AdminRole
    created_at: str
    password_changed_at: str
    failed_signins: int = 0
    last_failed_at: str | None = None

    @classmethod
    def of(cls, row: AdminAccountRow) -> AdminAccount:
        return cls(name=row.name, role=AdminRole.of(row.read_only), created_at=row.created_at,
                   password_changed_at=row.password_changed_at,
                   failed_signins=row.failed_signins, last_failed_at=row.last_failed_at)

    @property
    def read_only(self) -> bool:
        return self.role is AdminRole.READ_ONLY

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": str(self.role), "created_at": self.created_at,
                "password_changed_at": self.password_changed_at}


def check_name(name: str) -> str:
    """The name as stored (lower case: names are compared without case), or a one-line
    refusal."""
    folded = name.strip().lower()
    if not NAME_RULE.match(folded) or len(folded) > MAX_NAME_LENGTH:
        raise AdminAccountError(
            f"administrator name {name!r} is not valid: use 1 to {MAX_NAME_LENGTH} letters, "
            "digits, '.', '_' or '-', starting with a letter")
    return folded


def _normalized(password: str) -> str:
    # One password whichever keyboard or system typed it (composed or decomposed accents).
    return unicodedata.normalize("NFKC", password)


def check_password(password: str) -> str:
    """The password as hashed (NFKC), or a one-line refusal that never quotes it."""
    text = _normalized(password)
    if len(text) < MIN_PASSWORD_LENGTH:
        raise AdminAccountError(
            f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters "
            "(a few words make a good one)")
    if len(text) > MAX_PASSWORD_LENGTH:
        raise AdminAccountError(
            f"the password is too long: use at most {MAX_PASSWORD_LENGTH} characters")
    return text


def hash_password(password: str) -> str:
    """The argon2id PHC string of a password that passes ``check_password``."""
    return _hasher.hash(check_password(password))


def password_matches(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from (any argon2 hash)."""
    try:
        return _hasher.verify(password_hash, _normalized(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _existing(store: Store, name: str) -> AdminAccountRow:
    row = store.admins.get(check_name(name))
    if row is None:
        raise AdminAccountError(f"no administrator named {name!r} (see `idsync admin list`)")
    return row


def get_admin(store: Store, name: str) -> AdminAccount:
    return AdminAccount.of(_existing(store, name))


def list_admins(store: Store) -> list[AdminAccount]:
    return [AdminAccount.of(row) for row in store.admins.all()]


def has_admins(store: Store) -> bool:
    """Whether anyone can sign in yet (``idsync serve`` says how to create the first one)."""
    return store.admins.count() > 0


def check_new_name(store: Store, name: str) -> str:
    """A name that is valid and not taken (checked before a password is asked for)."""
    folded = check_name(name)
    if store.admins.get(folded) is not None:
        raise AdminAccountError(f"an administrator named {folded!r} exists already; change its "
                                f"password with `idsync admin passwd {folded}`")
    return folded


def add_admin(store: Store, name: str, password: str,
              role: AdminRole = AdminRole.FULL) -> AdminAccount:
    folded = check_name(name)
    password_hash = hash_password(password)  # outside the write transaction: it takes a while
    with store.transaction():
        check_new_name(store, folded)
        if role is AdminRole.READ_ONLY and not store.admins.full_admins():
            raise AdminAccountError(
                "the first administrator must be able to change things: add a full "
                "administrator first (without --read-only)")
        store.admins.add(folded, password_hash, read_only=role is AdminRole.READ_ONLY,
                         now=utcnow())
        record_change(store, AuditAction.ADMIN_ADD, folded, None, {"role": role.value})
    return get_admin(store, folded)


def change_password(store: Store, name: str, password: str) -> AdminAccount:
    folded = _existing(store, name).name
    password_hash = hash_password(password)
    with store.transaction():
        if not store.admins.set_password(folded, password_hash, now=utcnow()):
            raise AdminAccountError(f"no administrator named {name!r} (see `idsync admin list`)")
        # a new password signs out every browser the old one signed in
        store.admin_sessions.remove_for_admin(folded)
        # the password itself is never recorded, not even hashed
        record_change(store, AuditAction.ADMIN_PASSWORD, folded, None,
                      {"password": "(changed)"})
    return get_admin(store, folded)


def _refuse_last_full_admin(store: Store, row: AdminAccountRow, what: str) -> None:
    # Called inside the write transaction that makes the change: writers of a store take
    # turns (SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock), so two removals of the
    # last two full admins cannot both pass this check.
    if row.read_only:
        return
    if store.admins.full_admins() == [row.name]:
        raise AdminAccountError(
            f"{row.name} is the last administrator who can change things and cannot be {what}; "
            "add another full administrator first (`idsync admin add NAME`)")


def remove_admin(store: Store, name: str) -> None:
    with store.transaction():
        row = _existing(store, name)
        _refuse_last_full_admin(store, row, "removed")
        store.admins.remove(row.name)
        store.admin_sessions.remove_for_admin(row.name)
        record_change(store, AuditAction.ADMIN_REMOVE, row.name,
                      {"role": AdminRole.of(row.read_only).value}, None)


def set_role(store: Store, name: str, role: AdminRole) -> AdminAccount:
    with store.transaction():
        row = _existing(store, name)
        if role is AdminRole.READ_ONLY:
            _refuse_last_full_admin(store, row, "made read-only")
        store.admins.set_read_only(row.name, role is AdminRole.READ_ONLY)
        old = AdminRole.of(row.read_only)
        if old is not role:
            record_change(store, AuditAction.ADMIN_ROLE, row.name, {"role": old.value},
                          {"role": role.value})
    return get_admin(store, row.name)


def verify_signin(store: Store, name: str, password: str) -> AdminAccount | None:
    """The administrator a name and password sign in as, or None. A failure is counted on the
    account (``signin_delay``); a success clears the count and, when the hash was made with
    weaker parameters than today's, stores a new one."""
    try:
        folded = check_name(name)
    except AdminAccountError:
        folded = ""
    row = store.admins.get(folded) if folded else None
    if row is None:
        password_matches(_unknown_name_hash(), password)
        return None
    if not password_matches(row.password_hash, password):
        with store.transaction():
            store.admins.record_failed_signin(row.name, now=utcnow())
        return None
    rehashed = (_hasher.hash(_normalized(password))
                if _hasher.check_needs_rehash(row.password_hash) else None)
    with store.transaction():
        store.admins.reset_failed_signins(row.name)
        if rehashed is not None:
            store.admins.replace_hash(row.name, row.password_hash, rehashed)
    return get_admin(store, row.name)


def signin_delay(failed_signins: int) -> float:
    """Seconds a sign-in waits after this many failures in a row: none before any failure,
    then 1, 2, 4 ... seconds, at most ``MAX_SIGNIN_DELAY``."""
    if failed_signins <= 0:
        return 0.0
    return min(MAX_SIGNIN_DELAY, float(2 ** min(failed_signins - 1, 16)))
