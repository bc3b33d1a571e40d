"""The workspace key and database backups: a backup carries the secrets sealed and never the
key, unless the operator asks (``--include-key``, which writes ``FILE.key`` beside it); a
restore given that key adds it to the workspace's ring, and one without it says which secrets
must be entered again."""

from __future__ import annotations

from pathlib import Path

from idsync.errors import ConfigurationError
from idsync.secrets.files import write_private
from idsync.secrets.keys import KEY_ENV, KeyRing, KeySource, parse_keys

INCLUDE_KEY_WARNING = ("warning: {key} holds the key that decrypts the backup's secrets: keep "
                       "it apart from the backup (whoever has both has the passwords)")


def key_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".key")


def copy_key(ring: KeyRing, backup: Path) -> Path:
    """Write the workspace's keys beside ``backup`` (0600)."""
    keys = ring.load()
    if not keys:
        raise ConfigurationError(f"no workspace key to include ({ring.describe()} holds none)")
    target = key_path(backup)
    write_private(target, b"".join(k + b"\n" for k in keys))
    return target


def add_key(ring: KeyRing, key_file: Path) -> int:
    """Add the keys of ``key_file`` to the workspace's ring (after its own, which keeps
    sealing); returns how many were new."""
    try:
        given = parse_keys(key_file.read_text(encoding="ascii"), str(key_file))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the key file {key_file}: "
                                 f"{getattr(exc, 'strerror', None) or 'not a key file'}") \
            from None
    if not given:
        raise ConfigurationError(f"{key_file} holds no key")
    if ring.source is KeySource.ENVIRONMENT:
        current = ring.load()
        if all(k in current for k in given):
            return 0
        raise ConfigurationError(
            f"the workspace key comes from {KEY_ENV}: add the backup's key to it "
            f"({KEY_ENV}=CURRENT,BACKUP) instead of --key-file")
    current = ring.load_or_create()
    new = [k for k in given if k not in current]
    if new:
        ring.write([*current, *new])
    return len(new)
