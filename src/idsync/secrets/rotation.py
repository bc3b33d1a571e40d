"""Key rotation: every secret sealed again under a new key, the old key then retired.

Three steps, each leaving every secret openable if the process dies right after it:

1. ``KEYRING_EXTENDED``: the key file becomes ``[new, old...]`` (an atomic rename);
2. ``SECRETS_RESEALED``: one database transaction seals every secret again under ``new``;
3. ``OLD_KEYS_RETIRED``: inside a write transaction (so no other process seals a value in
   between), every secret is checked to open with ``new`` alone, then the key file becomes
   ``[new]``.

A crash after 1 or 2 leaves a ring that opens every secret; the next rotation finishes the job.
With ``IDSYNC_KEY`` the variable cannot be rewritten: the operator puts the new key first
(``IDSYNC_KEY=NEW,OLD``), rotates, then drops the old key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from idsync.errors import ConfigurationError
from idsync.secrets.cipher import is_sealed
from idsync.secrets.keys import KEY_ENV, KeyRing, KeySource, new_key

if TYPE_CHECKING:
    from idsync.store import Store


class RotationStep(Enum):
    KEYRING_EXTENDED = "keyring-extended"
    SECRETS_RESEALED = "secrets-resealed"
    OLD_KEYS_RETIRED = "old-keys-retired"


@dataclass(frozen=True)
class RotationResult:
    resealed: int
    #: connector.secret names no key opened (left as they were; enter them again)
    unreadable: list[str]
    source: KeySource


def rotate_key(store: Store, ring: KeyRing, *,
               after: Callable[[RotationStep], None] | None = None) -> RotationResult:
    """Seal every secret under a new key and retire the old ones (``after`` is called after
    each step: tests stop the process there)."""
    step = after or (lambda _: None)
    if ring.source is KeySource.ENVIRONMENT:
        keys = ring.load()
        if len(keys) < 2:
            raise ConfigurationError(
                f"the workspace key comes from {KEY_ENV}: put a new key in front of the old one "
                f"({KEY_ENV}=NEW,OLD; `idsync secrets new-key` prints one), run "
                "`idsync secrets rotate-key`, then set it to the new key alone")
        resealed, unreadable = _reseal(store, keys)
        step(RotationStep.SECRETS_RESEALED)
        return RotationResult(resealed, unreadable, ring.source)
    old = ring.load()
    keys = [new_key(), *old]
    ring.write(keys)
    step(RotationStep.KEYRING_EXTENDED)
    resealed, unreadable = _reseal(store, keys)
    step(RotationStep.SECRETS_RESEALED)
    with store.transaction():
        # A process that sealed a value under the old key since step 2 (it read the ring
        # before step 1) is caught here: seal those again before the old key goes.
        late, _ = _reseal(store, keys, only_old=True)
        resealed += late
        ring.write(keys[:1])
    step(RotationStep.OLD_KEYS_RETIRED)
    return RotationResult(resealed, unreadable, ring.source)


def _reseal(store: Store, keys: list[bytes], *, only_old: bool = False
            ) -> tuple[int, list[str]]:
    resealed = 0
    unreadable: list[str] = []
    with store.transaction():
        for connector_id, connector, stored in store.secrets.raw():
            changed = False
            for name, value in sorted(stored.items()):
                if only_old and is_sealed(value) and store.box.opens_with(value, keys[:1]):
                    continue
                again = store.box.reseal(value, keys)
                if again is None:
                    unreadable.append(f"{connector}.{name}")
                    continue
                stored[name] = again
                changed = True
                resealed += 1
            if changed:
                store.secrets.write(connector_id, stored)
    return resealed, unreadable
