"""The stored form of connector secrets: the ``connectors.secrets`` column, each value sealed
(``idsync.secrets.cipher``). The SQL behind sealing an older workspace's clear values, the key
rotation and ``idsync secrets list``."""

from __future__ import annotations

from dataclasses import dataclass

from idsync import values
from idsync.secrets.cipher import SecretBox, is_sealed
from idsync.store.database import BaseDatabase


@dataclass(frozen=True)
class StoredSecret:
    connector: str
    name: str
    readable: bool


class SecretRows:
    def __init__(self, db: BaseDatabase, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def raw(self) -> list[tuple[int, str, dict[str, str]]]:
        """(connector id, connector name, stored values) of every connector with secrets."""
        rows = self.db.query("SELECT id, name, secrets FROM connectors ORDER BY name")
        return [(r[0], r[1], values.loads(r[2]) or {}) for r in rows if r[2] and r[2] != "{}"]

    def write(self, connector_id: int, stored: dict[str, str]) -> None:
        self.db.execute("UPDATE connectors SET secrets = ? WHERE id = ?",
                        (values.dumps(stored), connector_id))

    def has_clear(self) -> bool:
        return any(not is_sealed(v) for _, _, stored in self.raw() for v in stored.values())

    def seal_clear(self) -> int:
        """Seal the clear values an older workspace kept (the first open after an upgrade, or
        of an old backup); returns how many were sealed. One transaction: all or none."""
        if not self.has_clear():
            return 0
        sealed = 0
        with self.db.transaction():
            for connector_id, _, stored in self.raw():
                clear = {k: v for k, v in stored.items() if not is_sealed(v)}
                if clear:
                    stored.update({k: self.box.seal(str(v)) for k, v in clear.items()})
                    self.write(connector_id, stored)
                    sealed += len(clear)
        return sealed

    def status(self) -> list[StoredSecret]:
        return [StoredSecret(name, key, self.box.open(v) is not None)
                for _, name, stored in self.raw() for key, v in sorted(stored.items())]
