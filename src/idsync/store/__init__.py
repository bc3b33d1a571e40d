"""The persistent store: one database per workspace, reached through small repositories.

``Store.open(workspace)`` opens (and migrates) the workspace's database: the SQLite file
``<workspace>/idsync.db`` by default, or the PostgreSQL database named by a URL, taken from (in
order) the ``database`` argument, the ``IDSYNC_DATABASE_URL`` environment variable, or the
``database:`` key of ``<workspace>/workspace.yaml`` (which ``idsync init --database URL`` and
``idsync db migrate --to URL`` write).
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from idsync.errors import ConfigurationError
from idsync.secrets.cipher import SecretBox
from idsync.secrets.files import private_dir, private_file
from idsync.secrets.keys import KeyRing
from idsync.store.admin_sessions import AdminSessionRepository
from idsync.store.admins import AdminAccountRepository
from idsync.store.audit import AuditRepository
from idsync.store.authority import AuthorityRepository
from idsync.store.connector_space import ConnectorSpaceRepository
from idsync.store.connector_space.links import CSLinkRepository
from idsync.store.connector_space.objects import CSObjectRepository
from idsync.store.connector_space.placeholders import PlaceholderRepository
from idsync.store.connector_space.reference_values import ReferenceValueRepository
from idsync.store.connector_space.search import CSSearch
from idsync.store.connector_space.staging import StagingRepository
from idsync.store.connectors import ConnectorRepository
from idsync.store.database import BaseDatabase, Database
from idsync.store.deprovisions import DeprovisionRepository
from idsync.store.exports import PendingExportRepository
from idsync.store.guards import GuardQueries
from idsync.store.locks import LockRepository
from idsync.store.metaverse import JoinIndex, MetaverseRepository
from idsync.store.object_errors import ObjectErrorRepository
from idsync.store.postgres import PostgresDatabase, is_postgres_url
from idsync.store.reference_bindings import ReferenceBindings
from idsync.store.reference_journal import ReferenceJournalRows
from idsync.store.references import ReferenceDeltas
from idsync.store.rule_objects import RuleObjects
from idsync.store.rules import RuleRepository
from idsync.store.run_statistics import RunStatistics
from idsync.store.runs import EventRepository, RunRepository
from idsync.store.secrets import SecretRows
from idsync.store.settings import SettingsRepository
from idsync.store.space_statistics import SpaceStatistics

DB_FILE = "idsync.db"
CONFIG_FILE = "workspace.yaml"
DATABASE_ENV = "IDSYNC_DATABASE_URL"


def configured_database(workspace: str | Path) -> str | None:
    """The database URL the workspace's config file names, if any."""
    config = Path(workspace).expanduser() / CONFIG_FILE
    if not config.exists():
        return None
    doc = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    if not isinstance(doc, dict):
        raise ConfigurationError(f"{config}: expected a mapping")
    url = doc.get("database")
    return str(url) if url else None


def database_url(workspace: str | Path, database: str | None = None) -> str:
    """The database a workspace uses: a PostgreSQL URL or the path of its SQLite file."""
    url = database or os.environ.get(DATABASE_ENV) or configured_database(workspace)
    if url and url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///") or str(Path(workspace).expanduser() / DB_FILE)
    return url or str(Path(workspace).expanduser() / DB_FILE)


def write_workspace_config(workspace: str | Path, database: str) -> Path:
    """Point a workspace at a database (kept readable by its owner only: it may hold a
    password)."""
    folder = private_dir(Path(workspace).expanduser())
    config = folder / CONFIG_FILE
    doc: dict = {}
    if config.exists():
        doc = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    doc["database"] = database
    private_file(config)  # 0600 before the URL (and its password) is written into it
    config.write_text(yaml.safe_dump(doc, sort_keys=True), encoding="utf-8")
    return config


def workspace_exists(workspace: str | Path) -> bool:
    folder = Path(workspace).expanduser()
    return (folder / DB_FILE).exists() or (folder / CONFIG_FILE).exists() or (
        os.environ.get(DATABASE_ENV) is not None and folder.is_dir())


def open_database(url: str) -> BaseDatabase:
    """A backend for a URL (postgresql://...) or a SQLite file path."""
    if is_postgres_url(url):
        return PostgresDatabase(url)
    if "://" in url:
        raise ConfigurationError(f"unsupported database URL {url!r} (postgresql:// or a file)")
    return Database(url)


class Store:
    def __init__(self, db: BaseDatabase, box: SecretBox | None = None) -> None:
        self.db = db
        #: seals and opens connector secrets with the workspace key (idsync.secrets)
        self.box = box or SecretBox(KeyRing(None))
        self.connectors = ConnectorRepository(db, self.box)
        self.secrets = SecretRows(db, self.box)
        self.cs = ConnectorSpaceRepository(db)
        # The connector space by concept (``cs`` holds all of their methods).
        self.cs_objects = CSObjectRepository(db)
        self.cs_search = CSSearch(db)
        self.cs_links = CSLinkRepository(db)
        self.cs_refs = ReferenceValueRepository(db)
        self.placeholders = PlaceholderRepository(db)
        self.staging = StagingRepository(db)
        self.mv = MetaverseRepository(db)
        self.refdeltas = ReferenceDeltas(db)
        #: the reference-change journal (idsync.store.reference_journal)
        self.journal = ReferenceJournalRows(db)
        self.bindings = ReferenceBindings(db)
        self.join_index = JoinIndex(db)
        self.rules = RuleRepository(db)
        self.rule_objects = RuleObjects(db)
        self.exports = PendingExportRepository(db)
        self.authority = AuthorityRepository(db)
        self.deprovisions = DeprovisionRepository(db)
        self.errors = ObjectErrorRepository(db)
        self.runs = RunRepository(db)
        self.events = EventRepository(db)
        self.settings = SettingsRepository(db)
        self.guards = GuardQueries(db)
        self.locks = LockRepository(db)
        #: the local administrators (idsync.administration.admin_accounts)
        self.admins = AdminAccountRepository(db)
        #: the administrator audit log (idsync.administration.audit)
        self.audit = AuditRepository(db)
        #: the web UI's sessions (idsync.administration.admin_sessions)
        self.admin_sessions = AdminSessionRepository(db)
        #: the overview's charts: recent runs per series, objects by state per connector
        self.run_stats = RunStatistics(db)
        self.space_stats = SpaceStatistics(db)

    @classmethod
    def open(cls, workspace: str | Path, *, migrate: bool = True,
             database: str | None = None) -> Store:
        folder = private_dir(Path(workspace).expanduser())
        db = open_database(database_url(folder, database))
        store = cls(db, SecretBox(KeyRing(folder)))
        if migrate:
            db.migrate()
            # An older workspace (or an old backup just restored) kept secrets in clear.
            store.secrets.seal_clear()
        return store

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def transaction(self):
        return self.db.transaction()

    def close(self) -> None:
        self.db.close()


__all__ = ["BaseDatabase", "Database", "Store", "database_url", "open_database",
           "workspace_exists", "write_workspace_config"]
