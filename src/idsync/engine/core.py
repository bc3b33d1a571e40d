"""The engine: what every stage of a run shares (store, connectors, rules, schema settings)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from idsync.connectors import registry
from idsync.connectors.base import Connector
from idsync.engine.ruleset import RuleSet
from idsync.model import ConnectorRecord
from idsync.store import Store
from idsync.store.metaverse import MV_SPACE
from idsync.store.reference_journal import RelinkMark

#: Attributes that are multi-valued even when an object holds one value, so expressions see a
#: list (the per-value rule of the expression language applies to them).
DEFAULT_MULTIVALUED = frozenset({
    "proxyAddresses", "otherPhone", "otherMobile", "otherTelephone", "otherHomePhone",
    "otherFacsimileTelephoneNumber", "member", "memberOf", "objectClass", "userCertificate",
    "userSMIMECertificate", "servicePrincipalName", "url", "wWWHomePage", "directReports",
    "msExchExtensionCustomAttribute1", "mailNickname_history",
})

#: Metaverse attributes whose values are references to other metaverse objects.
DEFAULT_MV_REFERENCES = frozenset({"member", "manager", "managedBy", "owner", "secretary",
                                   "assistant"})

BATCH_SIZE = 500

#: A run that changed at least this many objects refreshes the database's statistics (on
#: PostgreSQL; see PostgresDatabase.refresh_statistics).
STATISTICS_AFTER = 5_000

#: Reference lists with at least this many values (a group's members) are compared in the
#: database during synchronization instead of being read whole (idsync.store.references).
#: The ``reference_delta_threshold`` setting overrides it.
REFERENCE_DELTA_THRESHOLD = 1000


@dataclass
class Engine:
    store: Store
    workspace: str
    _instances: dict[int, Connector] = field(default_factory=dict)
    _ruleset: RuleSet | None = None

    def __post_init__(self) -> None:
        s = self.store.settings
        self.multivalued = frozenset(s.get("multivalued_attributes") or DEFAULT_MULTIVALUED)
        self.mv_ref_attributes = frozenset(
            s.get("mv_reference_attributes") or DEFAULT_MV_REFERENCES)
        self.parameters: dict[str, Any] = s.get("parameters") or {}
        threshold = s.get("reference_delta_threshold")
        self.ref_delta_threshold = int(REFERENCE_DELTA_THRESHOLD if threshold is None
                                       else threshold)

    # --- connectors -----------------------------------------------------------------------

    def connectors(self) -> list[ConnectorRecord]:
        return self.store.connectors.list()

    def connector(self, name: str) -> ConnectorRecord:
        return self.store.connectors.get(name)

    def instance(self, record: ConnectorRecord) -> Connector:
        if record.id not in self._instances:
            self._instances[record.id] = registry.create(record, self.workspace)
        return self._instances[record.id]

    def cs_ref_attributes(self, connector_id: int) -> frozenset[str]:
        record = self.store.connectors.by_id(connector_id)
        return frozenset(self.instance(record).reference_attributes())

    def close(self) -> None:
        for inst in self._instances.values():
            # Closing must not hide the run's own outcome.
            with contextlib.suppress(Exception):
                inst.close()
        self._instances.clear()

    # --- rules ----------------------------------------------------------------------------

    def ruleset(self) -> RuleSet:
        if self._ruleset is None:
            ids = {c.name: c.id for c in self.connectors()}
            self._ruleset = RuleSet.build(self.store.rules.list(), ids)
            self._ensure_join_index(self._ruleset)
        return self._ruleset

    def _ensure_join_index(self, rs: RuleSet) -> None:
        """Rebuild the join index when the rules changed since it was built."""
        fingerprint = self.store.rules.fingerprint()
        if self.store.settings.get("join_index_fingerprint") == fingerprint:
            return
        from idsync.engine.joins import rebuild_join_index

        with self.store.transaction():
            rebuild_join_index(self, rs)
            self.store.settings.set("join_index_fingerprint", fingerprint)

    # --- the reference change journal ----------------------------------------------------

    def inbound_lists(self, connector_id: int) -> frozenset[str]:
        """Reference attributes of a connector that its inbound rules read."""
        return self.ruleset().reads_inbound(connector_id) & self.cs_ref_attributes(connector_id)

    def outbound_lists(self, connector_id: int, mv_object_type: str | None = None
                       ) -> frozenset[str]:
        """Reference attributes of a connector that its outbound rules write."""
        return (self.ruleset().writes_outbound(connector_id, mv_object_type)
                & self.cs_ref_attributes(connector_id))

    def shared_lists(self, connector_id: int) -> frozenset[str]:
        """Lists a connector both contributes and receives: their journal entries have two
        readers, so they are always compared whole."""
        return self.inbound_lists(connector_id) & self.outbound_lists(connector_id)

    def journal_valid(self) -> bool:
        """The journal can stand in for whole comparisons only once every connector had a
        full synchronization under the current rules (a rule change changes what a list
        should hold, which no journal entry records)."""
        fingerprint = self.store.rules.fingerprint()
        return all(self.store.settings.get(f"ref_journal_rules:{c.id}") == fingerprint
                   for c in self.connectors())

    def journal_checkpoint(self, connector_id: int) -> None:
        """After a full synchronization of a connector: its lists were compared whole."""
        self.store.journal.forget_unread(
            connector_id, self.inbound_lists(connector_id) | self.outbound_lists(connector_id)
            | set(RelinkMark))
        self.store.settings.set(f"ref_journal_rules:{connector_id}",
                                self.store.rules.fingerprint())

    def mv_join_keys(self) -> set[tuple[str, bool]]:
        return self.ruleset().mv_join_attributes()

    def index_space(self, connector_id: int | None) -> int:
        return MV_SPACE if connector_id is None else connector_id
