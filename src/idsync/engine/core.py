"""The context of a run: what every stage shares (store, connectors, rules, schema settings).

One is made per command or scheduler cycle and handed to each run profile it runs; it caches
the connector instances and the compiled rules between them. What one synchronization's passes
share lives in ``engine.sync_context``; the reference-change journal in
``engine.reference_journal``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from idsync.connectors import registry
from idsync.connectors.base import Connector
from idsync.engine.joins import rebuild_join_index
from idsync.engine.ruleset import RuleSet
from idsync.model import ConnectorRecord
from idsync.store import Store

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
class RunContext:
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
        with self.store.transaction():
            rebuild_join_index(self.store, rs)
            self.store.settings.set("join_index_fingerprint", fingerprint)

    # --- the reference lists the rules read and write (engine.reference_journal) ------------

    def inbound_lists(self, connector_id: int) -> frozenset[str]:
        """Reference attributes of a connector that its inbound rules read."""
        return self.ruleset().reads_inbound(connector_id) & self.cs_ref_attributes(connector_id)

    def outbound_lists(self, connector_id: int, mv_object_type: str | None = None
                       ) -> frozenset[str]:
        """Reference attributes of a connector that its outbound rules write."""
        return (self.ruleset().writes_outbound(connector_id, mv_object_type)
                & self.cs_ref_attributes(connector_id))
