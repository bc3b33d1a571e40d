"""The persistent store: one database per workspace, reached through small repositories.

``Store.open(workspace)`` opens (and migrates) ``<workspace>/idsync.db``; the database URL
setting of a later PostgreSQL backend plugs in here.
"""

from __future__ import annotations

from pathlib import Path

from idsync.store.connector_space import ConnectorSpaceRepository
from idsync.store.connectors import ConnectorRepository
from idsync.store.database import Database
from idsync.store.exports import PendingExportRepository
from idsync.store.metaverse import JoinIndex, MetaverseRepository
from idsync.store.object_errors import ObjectErrorRepository
from idsync.store.rules import RuleRepository
from idsync.store.runs import EventRepository, RunRepository
from idsync.store.settings import SettingsRepository

DB_FILE = "idsync.db"


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.connectors = ConnectorRepository(db)
        self.cs = ConnectorSpaceRepository(db)
        self.mv = MetaverseRepository(db)
        self.join_index = JoinIndex(db)
        self.rules = RuleRepository(db)
        self.exports = PendingExportRepository(db)
        self.errors = ObjectErrorRepository(db)
        self.runs = RunRepository(db)
        self.events = EventRepository(db)
        self.settings = SettingsRepository(db)

    @classmethod
    def open(cls, workspace: str | Path, *, migrate: bool = True) -> Store:
        folder = Path(workspace).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        db = Database(folder / DB_FILE)
        if migrate:
            db.migrate()
        return cls(db)

    def transaction(self):
        return self.db.transaction()

    def close(self) -> None:
        self.db.close()


__all__ = ["Database", "Store"]
