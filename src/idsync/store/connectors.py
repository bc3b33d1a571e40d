"""Connectors: name, type, settings, secrets, delta watermark and run flags. Secrets are
sealed with the workspace key as they are written and opened as they are read
(idsync.secrets); a record names those no key opens in ``unreadable_secrets``."""

from __future__ import annotations

from typing import Any

from idsync import values
from idsync.errors import ConfigurationError
from idsync.model import ConnectorRecord
from idsync.secrets.cipher import SecretBox
from idsync.store.database import BaseDatabase, utcnow

_COLUMNS = ("id, name, type, settings, secrets, watermark, full_import_required, "
            "full_sync_required")


class ConnectorRepository:
    def __init__(self, db: BaseDatabase, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def _record(self, row: tuple[Any, ...]) -> ConnectorRecord:
        opened: dict[str, str] = {}
        unreadable: list[str] = []
        for key, stored in sorted((values.loads(row[4]) or {}).items()):
            value = self.box.open(stored)
            if value is None:
                unreadable.append(key)
            else:
                opened[key] = value
        return ConnectorRecord(
            id=row[0], name=row[1], type=row[2], settings=values.loads(row[3]) or {},
            secrets=opened, watermark=values.loads(row[5]),
            full_import_required=bool(row[6]), full_sync_required=bool(row[7]),
            unreadable_secrets=tuple(unreadable))

    def _sealed(self, secrets: dict[str, str], kept: dict[str, str] | None = None) -> str:
        stored = dict(kept or {})
        stored.update({k: self.box.seal(str(v)) for k, v in secrets.items()})
        return values.dumps(stored)

    def add(self, name: str, type_: str, settings: dict[str, Any],
            secrets: dict[str, str] | None = None) -> ConnectorRecord:
        if self.find(name):
            raise ConfigurationError(f"a connector named {name!r} already exists")
        with self.db.transaction():
            # Sealed inside the write transaction: a key rotation (which holds it to retire
            # the old key) never sees a value sealed under a key it is retiring.
            self.db.execute(
                "INSERT INTO connectors (name, type, settings, secrets, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, type_, values.dumps(settings), self._sealed(secrets or {}), utcnow()))
        return self.get(name)

    def find(self, name: str) -> ConnectorRecord | None:
        row = self.db.query_one(f"SELECT {_COLUMNS} FROM connectors WHERE name = ?", (name,))
        return self._record(row) if row else None

    def get(self, name: str) -> ConnectorRecord:
        found = self.find(name)
        if found is None:
            known = ", ".join(c.name for c in self.list()) or "none"
            raise ConfigurationError(f"no connector named {name!r} (connectors: {known})")
        return found

    def by_id(self, connector_id: int) -> ConnectorRecord:
        row = self.db.query_one(f"SELECT {_COLUMNS} FROM connectors WHERE id = ?",
                                (connector_id,))
        if row is None:
            raise ConfigurationError(f"no connector with id {connector_id}")
        return self._record(row)

    def list(self) -> list[ConnectorRecord]:
        return [self._record(r)
                for r in self.db.query(f"SELECT {_COLUMNS} FROM connectors ORDER BY id")]

    def update(self, connector_id: int, *, settings: dict[str, Any] | None = None,
               secrets: dict[str, str] | None = None) -> None:
        with self.db.transaction():
            if settings is not None:
                self.db.execute("UPDATE connectors SET settings = ? WHERE id = ?",
                                (values.dumps(settings), connector_id))
            if secrets is not None:
                # A stored secret no key opens is kept unless a new value replaces it: it may
                # open again once its key is found.
                stored = values.loads(self.db.scalar(
                    "SELECT secrets FROM connectors WHERE id = ?", (connector_id,))) or {}
                kept = {k: v for k, v in stored.items()
                        if k not in secrets and self.box.open(v) is None}
                self.db.execute("UPDATE connectors SET secrets = ? WHERE id = ?",
                                (self._sealed(secrets, kept), connector_id))

    def set_watermark(self, connector_id: int, watermark: dict[str, Any] | None) -> None:
        self.db.execute("UPDATE connectors SET watermark = ? WHERE id = ?",
                        (None if watermark is None else values.dumps(watermark), connector_id))

    def set_required(self, connector_id: int, *, full_import: bool | None = None,
                     full_sync: bool | None = None) -> None:
        if full_import is not None:
            self.db.execute("UPDATE connectors SET full_import_required = ? WHERE id = ?",
                            (int(full_import), connector_id))
        if full_sync is not None:
            self.db.execute("UPDATE connectors SET full_sync_required = ? WHERE id = ?",
                            (int(full_sync), connector_id))

    def mark_full_sync_required_all(self) -> None:
        self.db.execute("UPDATE connectors SET full_sync_required = 1")
