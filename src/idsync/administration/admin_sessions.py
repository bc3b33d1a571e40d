"""Web UI sessions: a signed-in administrator's browser, its anti-forgery token, and how long
it lasts.

The browser keeps a random 256-bit token in an HttpOnly cookie; the store keeps only its
SHA-256, so reading the database (or a backup) signs nobody in. A session ends after
``IDLE_MINUTES`` without a request or ``MAX_HOURS`` after sign-in, whichever comes first, and
at sign-out, a new password or the admin's removal. The role is read from the account on every
request, so making an admin read-only takes effect on their next click.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from idsync.administration.admin_accounts import (
    AdminAccount,
    AdminAccountError,
    get_admin,
    signin_delay,
    verify_signin,
)
from idsync.store import Store
from idsync.store.admin_sessions import AdminSessionRow

IDLE_MINUTES = 30
MAX_HOURS = 12
#: Touch ``last_seen_at`` at most this often (a page with htmx polling makes many requests).
TOUCH_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Session:
    admin: AdminAccount
    csrf_token: str
    token_hash: str


class SigninRefused(AdminAccountError):
    """A sign-in refused before its password was looked at (too soon after failures)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def seconds_to_wait(account: AdminAccount, *, now: datetime | None = None) -> float:
    """How long this admin's next sign-in must wait after failed ones (0: it may go now)."""
    if not account.failed_signins or not account.last_failed_at:
        return 0.0
    moment = now or datetime.now(UTC)
    ready = _parse(account.last_failed_at) + timedelta(
        seconds=signin_delay(account.failed_signins))
    return max(0.0, (ready - moment).total_seconds())


def sign_in(store: Store, name: str, password: str) -> tuple[str, Session] | None:
    """A new session (the cookie's token and the session) for a good name and password, or
    None. Refused with ``SigninRefused`` while the account's delay after failed sign-ins runs:
    the password is not even checked then, so guessing cannot go faster than the delays."""
    try:
        account = get_admin(store, name)
    except AdminAccountError:
        account = None
    if account is not None:
        wait = seconds_to_wait(account)
        if wait > 0:
            raise SigninRefused(f"too many failed sign-ins for {account.name}: try again in "
                                f"{int(wait) + 1} s")
    signed_in = verify_signin(store, name, password)
    if signed_in is None:
        # a short pause on every failure, known name or not, on top of the growing delays
        time.sleep(0.2)
        return None
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = AdminSessionRow(token_hash=_hash(token), admin_name=signed_in.name,
                          csrf_token=secrets.token_urlsafe(32), created_at=_iso(now),
                          last_seen_at=_iso(now),
                          expires_at=_iso(now + timedelta(hours=MAX_HOURS)))
    store.admin_sessions.add(row)
    store.admin_sessions.remove_ended(now=_iso(now),
                                      idle_before=_iso(now - timedelta(minutes=IDLE_MINUTES)))
    return token, Session(signed_in, row.csrf_token, row.token_hash)


def session_for(store: Store, token: str | None) -> Session | None:
    """The live session of a cookie's token, or None (unknown, ended, or its admin gone)."""
    if not token:
        return None
    row = store.admin_sessions.get(_hash(token))
    if row is None:
        return None
    now = datetime.now(UTC)
    if _parse(row.expires_at) <= now or \
            _parse(row.last_seen_at) < now - timedelta(minutes=IDLE_MINUTES):
        store.admin_sessions.remove(row.token_hash)
        return None
    try:
        account = get_admin(store, row.admin_name)
    except AdminAccountError:
        return None
    if (now - _parse(row.last_seen_at)).total_seconds() > TOUCH_SECONDS:
        store.admin_sessions.touch(row.token_hash, _iso(now))
    return Session(account, row.csrf_token, row.token_hash)


def csrf_matches(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf_token.encode(),
                                              (sent or "").encode())


def sign_out(store: Store, session: Session) -> None:
    store.admin_sessions.remove(session.token_hash)
