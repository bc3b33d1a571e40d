"""Access tokens the token endpoint issues: opaque, random, stored as SHA-256 with their expiry
(docs/decisions/clouddir-oauth.md says why not JWTs).

A token in use is looked up once and then answered from memory until it expires; expired rows
stay a day (so an expired token is told apart from an unknown one) and are pruned now and
then, with the replay record of client assertions."""

from __future__ import annotations

import secrets
import threading
import time

from clouddir.auth import hash_token
from clouddir.storage import Store, Tenant

#: How long an expired token's row is kept: it is then answered "expired", not "invalid".
KEEP_EXPIRED = 86_400
#: Seconds between two prunes of the expired rows (run by an issue, never by a lookup).
PRUNE_EVERY = 300
#: Tokens kept in memory at most; past it the cache starts again (the rows stay).
CACHE_SIZE = 100_000


def bearer(authorization: str | None) -> str | None:
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    return authorization[7:].strip() or None


class AccessTokens:
    def __init__(self, store: Store, lifetime: int) -> None:
        self.store = store
        self.lifetime = lifetime
        # authorization header -> (tenant, expiry); a dict's get and set are atomic enough
        # for the handlers' thread pool.
        self._known: dict[str, tuple[Tenant, float]] = {}
        self._pruned = 0.0
        self._prune_lock = threading.Lock()

    def issue(self, tenant_id: str, client_id: str) -> tuple[str, int]:
        """A new token for the app and its lifetime in seconds."""
        self._prune_now_and_then()
        token = secrets.token_urlsafe(32)
        expires_at = int(time.time()) + self.lifetime
        self.store.save_access_token(hash_token(token), tenant_id, client_id, expires_at)
        return token, self.lifetime

    def tenant_of(self, authorization: str | None) -> Tenant | None:
        """The tenant of an unexpired access token in the header, else None."""
        key = authorization or ""
        known = self._known.get(key)
        if known is not None:
            if time.time() < known[1]:
                return known[0]
            self._known.pop(key, None)
            return None
        token = bearer(authorization)
        if token is None:
            return None
        issued = self.store.access_token(hash_token(token))
        if issued is None or time.time() >= issued.expires_at:
            return None
        if len(self._known) >= CACHE_SIZE:
            self._known.clear()
        self._known[key] = (issued.tenant, issued.expires_at)
        return issued.tenant

    def expired(self, authorization: str | None) -> bool:
        """Whether the header holds an access token this server issued that has expired."""
        token = bearer(authorization)
        if token is None:
            return False
        issued = self.store.access_token(hash_token(token))
        return issued is not None and time.time() >= issued.expires_at

    def _prune_now_and_then(self) -> None:
        now = time.time()
        if now - self._pruned < PRUNE_EVERY or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._pruned = now
            self.store.prune_tokens(int(now) - KEEP_EXPIRED, int(now))
            for key, (_tenant, expires_at) in list(self._known.items()):
                if expires_at <= now:
                    self._known.pop(key, None)
        finally:
            self._prune_lock.release()
