"""Web UI sessions: what the server keeps (a hash, never the token), when a session ends, and
the sign-in's refusal inside the delay after failures."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from idsync.administration.admin_accounts import (
    AdminRole,
    add_admin,
    change_password,
    get_admin,
    remove_admin,
    set_role,
)
from idsync.administration.admin_sessions import (
    SigninRefused,
    csrf_matches,
    seconds_to_wait,
    session_for,
    sign_in,
    sign_out,
)
from idsync.store import Store
from idsync.store.admin_sessions import AdminSessionRow

PASSWORD = "a long password 1"


@pytest.fixture
def store(tmp_path: Path):
    opened = Store.open(tmp_path / "ws")
    add_admin(opened, "ann", PASSWORD)
    add_admin(opened, "bob", PASSWORD)
    yield opened
    opened.close()


def _rows(store: Store) -> list[tuple]:
    return store.db.query("SELECT * FROM admin_sessions")


def test_the_store_keeps_the_tokens_hash_never_the_token(store):
    token, _session = sign_in(store, "ann", PASSWORD)
    assert len(token) >= 43  # 256 random bits, URL-safe
    assert all(token not in str(row) for row in _rows(store))
    assert session_for(store, token).admin.name == "ann"
    assert session_for(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert session_for(store, None) is None and session_for(store, "") is None


def test_sign_out_and_a_new_password_and_removal_end_sessions(store):
    token, session = sign_in(store, "ann", PASSWORD)
    sign_out(store, session)
    assert session_for(store, token) is None

    token, _ = sign_in(store, "ann", PASSWORD)
    other, _ = sign_in(store, "bob", PASSWORD)
    change_password(store, "ann", "another long password")
    assert session_for(store, token) is None
    assert session_for(store, other) is not None  # only ann's sessions ended

    remove_admin(store, "bob")
    assert session_for(store, other) is None


def test_the_role_is_read_on_every_request(store):
    token, _ = sign_in(store, "bob", PASSWORD)
    set_role(store, "bob", AdminRole.READ_ONLY)
    assert session_for(store, token).admin.read_only


@pytest.mark.parametrize("expired, idle", [(True, False), (False, True)])
def test_a_session_past_its_end_or_idle_too_long_is_over(store, expired, idle):
    now = datetime.now(UTC)
    row = AdminSessionRow(
        token_hash=hashlib.sha256(b"the cookie's token").hexdigest(), admin_name="ann",
        csrf_token="c",
        created_at=(now - timedelta(hours=13)).isoformat(),
        last_seen_at=(now - timedelta(minutes=31 if idle else 1)).isoformat(),
        expires_at=(now - timedelta(seconds=1) if expired else now + timedelta(hours=1)
                    ).isoformat())
    store.admin_sessions.add(row)
    assert session_for(store, "the cookie's token") is None
    assert store.admin_sessions.get(row.token_hash) is None  # and the row is gone


def test_failed_signins_make_the_next_one_wait(store):
    assert sign_in(store, "ann", "wrong password!") is None
    with pytest.raises(SigninRefused, match="try again in"):
        sign_in(store, "ann", PASSWORD)  # even the right password, inside the delay
    account = get_admin(store, "ann")
    assert account.failed_signins == 1
    later = datetime.fromisoformat(account.last_failed_at) + timedelta(seconds=1.01)
    assert seconds_to_wait(account, now=later) == 0
    assert 0 < seconds_to_wait(account, now=later - timedelta(seconds=0.5)) <= 0.5


def test_the_csrf_token_must_match_exactly(store):
    _, session = sign_in(store, "ann", PASSWORD)
    assert csrf_matches(session, session.csrf_token)
    assert not csrf_matches(session, None)
    assert not csrf_matches(session, "")
    assert not csrf_matches(session, session.csrf_token[:-1])
