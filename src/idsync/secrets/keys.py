"""The workspace key: where it lives, how it is read, created and replaced.

The key is a ring of Fernet keys, the first one sealing new values and every one opening them
(a rotation in progress holds two). It comes from, in order:

- ``IDSYNC_KEY``: the key itself (keys separated by commas), for containers and secret stores;
- ``IDSYNC_KEY_FILE``: the path of a key file;
- ``<workspace>/secrets.key``: the default key file, created 0600 on first need.

A key file holds one key per line (``#`` comments allowed). It is never inside the database, so
a copy of the database (or of a backup) alone opens no secret.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from cryptography.fernet import Fernet

from idsync.errors import ConfigurationError
from idsync.secrets.files import FILE_MODE, write_private

KEY_ENV = "IDSYNC_KEY"
KEY_FILE_ENV = "IDSYNC_KEY_FILE"
KEY_FILE = "secrets.key"


class KeySource(Enum):
    ENVIRONMENT = "environment"
    FILE = "file"


class InvalidKey(ConfigurationError):
    """The key given is not a key (a one-line message, never the key's text)."""


def new_key() -> bytes:
    return Fernet.generate_key()


def parse_keys(text: str, where: str) -> list[bytes]:
    keys: list[bytes] = []
    items = [i.strip() for line in text.splitlines() for i in line.split("#", 1)[0].split(",")]
    for n, item in enumerate((i for i in items if i), 1):
        try:
            Fernet(item.encode())
        except (ValueError, TypeError):
            raise InvalidKey(
                f"{where}: entry {n} is not a key (expected 44 characters of url-safe base64, "
                "as `idsync secrets new-key` prints)") from None
        keys.append(item.encode())
    return keys


@dataclass(frozen=True)
class KeyRing:
    """The workspace key as the environment and the workspace folder define it."""

    workspace: Path | None

    @property
    def source(self) -> KeySource:
        return KeySource.ENVIRONMENT if os.environ.get(KEY_ENV) else KeySource.FILE

    @property
    def path(self) -> Path | None:
        """The key file (None when the key comes from ``IDSYNC_KEY``)."""
        if self.source is KeySource.ENVIRONMENT:
            return None
        named = os.environ.get(KEY_FILE_ENV)
        if named:
            return Path(named).expanduser()
        return None if self.workspace is None else self.workspace / KEY_FILE

    def describe(self) -> str:
        """Where the key comes from, for messages."""
        if self.source is KeySource.ENVIRONMENT:
            return f"the key in {KEY_ENV}"
        if os.environ.get(KEY_FILE_ENV):
            return f"the key file {self.path} ({KEY_FILE_ENV})"
        return f"the key file {self.path}"

    def load(self) -> list[bytes]:
        """The keys, newest first; empty when there is no key yet."""
        if self.source is KeySource.ENVIRONMENT:
            return parse_keys(os.environ[KEY_ENV], KEY_ENV)
        path = self.path
        if path is None:
            return []
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read the key file {path}: "
                                     f"{getattr(exc, 'strerror', None) or exc}") from None
        return parse_keys(text, str(path))

    def load_or_create(self) -> list[bytes]:
        """The keys; the first need of a key file that does not exist creates it (0600)."""
        keys = self.load()
        if keys:
            return keys
        path = self.path
        if path is None:
            raise ConfigurationError(
                f"no workspace key to seal secrets with: set {KEY_ENV} or {KEY_FILE_ENV}")
        if self.source is KeySource.ENVIRONMENT:  # pragma: no cover (load raised or returned)
            raise ConfigurationError(f"{KEY_ENV} holds no key")
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: of two processes creating it at once, one writes and the other reads that.
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            try:
                os.fchmod(fd, FILE_MODE)
                os.write(fd, _key_file_text([new_key()]))
                os.fsync(fd)
            finally:
                os.close(fd)
        return self.load()

    def write(self, keys: list[bytes]) -> None:
        """Replace the key file's keys atomically (a crash leaves the old or the new ring)."""
        path = self.path
        if path is None:
            raise ConfigurationError(
                f"the workspace key comes from {KEY_ENV}: change the variable itself")
        try:
            write_private(path, _key_file_text(keys))
        except OSError as exc:
            raise ConfigurationError(f"cannot write the key file {path}: {exc.strerror}") \
                from None


def _key_file_text(keys: list[bytes]) -> bytes:
    return (b"# idsync workspace key: the first line seals, every line opens. Keep it apart "
            b"from the database and its backups.\n" + b"".join(k + b"\n" for k in keys))
