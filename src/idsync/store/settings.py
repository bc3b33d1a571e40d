"""Server-wide settings (deletion threshold, rule set fingerprint...), one JSON value per key."""

from __future__ import annotations

from typing import Any

from idsync import values
from idsync.store.database import BaseDatabase


class SettingsRepository:
    def __init__(self, db: BaseDatabase) -> None:
        self.db = db

    def get(self, key: str, default: Any = None) -> Any:
        row = self.db.query_one("SELECT value FROM settings WHERE key = ?", (key,))
        return values.loads(row[0]) if row else default

    def set(self, key: str, value: Any) -> None:
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, values.dumps(value)))

    def all(self) -> dict[str, Any]:
        return {k: values.loads(v) for k, v in self.db.query("SELECT key, value FROM settings")}
