"""Sealing and opening secret values with the workspace key (Fernet: AES-128-CBC and
HMAC-SHA256, from the maintained ``cryptography`` library).

A sealed value is stored as ``fernet:<token>``; a value without that prefix is a clear value
from a workspace made before secrets were sealed, sealed on the first open
(``idsync.store.secrets``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from idsync.errors import ConfigurationError
from idsync.secrets import redaction
from idsync.secrets.keys import KEY_ENV, KEY_FILE_ENV, KeyRing

PREFIX = "fernet:"


def is_sealed(stored: str) -> bool:
    return isinstance(stored, str) and stored.startswith(PREFIX)


def _fernet(keys: list[bytes]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


@dataclass
class SecretBox:
    """Seals with the ring's first key, opens with any of its keys."""

    ring: KeyRing
    _opener: MultiFernet | None = field(default=None, repr=False)

    def seal(self, value: str) -> str:
        # Read the ring at each seal (a rare event): a key rotated by another process since
        # this one started is the key used, never the retired one.
        keys = self.ring.load_or_create()
        redaction.remember(value)
        return PREFIX + _fernet(keys[:1]).encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, stored: str) -> str | None:
        """The clear value, or None when no key of the ring opens it."""
        if not is_sealed(stored):
            redaction.remember(stored)
            return stored
        token = stored[len(PREFIX):].encode("ascii")
        for fresh in (False, True):
            opener = self._ring_opener(fresh)
            if opener is None:
                continue
            try:
                value = opener.decrypt(token).decode("utf-8")
            except InvalidToken:
                continue
            redaction.remember(value)
            return value
        return None

    def reseal(self, stored: str, keys: list[bytes]) -> str | None:
        """``stored`` sealed again under ``keys[0]`` (opened with any of ``keys``), or None
        when none of them opens it."""
        if not is_sealed(stored):
            return PREFIX + _fernet(keys[:1]).encrypt(stored.encode("utf-8")).decode("ascii")
        try:
            token = _fernet(keys).rotate(stored[len(PREFIX):].encode("ascii"))
        except InvalidToken:
            return None
        return PREFIX + token.decode("ascii")

    def opens_with(self, stored: str, keys: list[bytes]) -> bool:
        try:
            _fernet(keys).decrypt(stored[len(PREFIX):].encode("ascii"))
        except InvalidToken:
            return False
        return True

    def _ring_opener(self, fresh: bool) -> MultiFernet | None:
        if fresh or self._opener is None:
            keys = self.ring.load()
            self._opener = _fernet(keys) if keys else None
        return self._opener


class SecretsUnavailable(ConfigurationError):
    """A connector's secrets cannot be opened: the run, test or command needing them stops."""


def unavailable_message(connector: str, names: list[str], ring: KeyRing) -> str:
    """One line: which secrets, why, and the two ways out."""
    keys = ", ".join(names)
    again = " ".join(f"--secret {n}" for n in names)
    return (f"connector {connector}: secret(s) {keys} cannot be decrypted with "
            f"{ring.describe()}: provide the key that sealed them ({KEY_ENV}, {KEY_FILE_ENV} or "
            f"the workspace's secrets.key) or enter them again with "
            f"`idsync connector set {connector} {again}`")
