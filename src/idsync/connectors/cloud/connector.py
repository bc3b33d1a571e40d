"""The cloud connector: idsync's link to a clouddir tenant over the sync API v1 or v2."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from idsync.connectors.base import (
    AttributeSchema,
    ConnectorSchema,
    ExportChange,
    ExportResult,
    ImportBatch,
    ImportContext,
    ImportKind,
    ImportRecord,
)
from idsync.connectors.cloud.client import RetryPolicy, SyncApiClient
from idsync.connectors.cloud.export import MEMBER, CloudExporter
from idsync.connectors.cloud.imports import SOURCE_ANCHOR, SYNC_ENABLED, CloudImporter
from idsync.connectors.cloud.messages import Ping
from idsync.connectors.settings import SCHEMAS
from idsync.connectors.settings.cloud import API_VERSIONS
from idsync.connectors.traffic import Traffic
from idsync.dn import normalize_dn
from idsync.errors import ConfigurationError, ConnectivityError

__all__ = ["API_VERSIONS", "CloudConnector", "CloudSettings"]


@dataclass(frozen=True, slots=True)
class CloudSettings:
    url: str
    tenant_id: str
    export_api_version: int = 2
    import_api_version: int = 2
    timeout: float = 60.0
    max_retries: int = 5
    #: Changes per export request; None: the most the service takes for the API version.
    batch_size: int | None = None

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> CloudSettings:
        """Through the cloud schema (idsync.connectors.settings.cloud): raises
        ``SettingError`` naming the offending key."""
        values = SCHEMAS["cloud"].validate(settings)
        values["timeout"] = float(values["timeout"])
        return cls(**values)


class CloudConnector:
    """FullImporter, DeltaImporter, Exporter, MemberDeltaExporter, ConnectionTester and
    SchemaProvider for a clouddir tenant."""

    def __init__(self, name: str, settings: CloudSettings, token: str,
                 retry: RetryPolicy | None = None) -> None:
        self.name = name
        self.settings = settings
        self.client = SyncApiClient(settings.url, token, settings.timeout,
                                    retry or RetryPolicy(max_retries=settings.max_retries))
        self._limits: dict[str, Any] | None = None

    def __repr__(self) -> str:  # never show the token
        return f"CloudConnector({self.name!r}, url={self.settings.url!r})"

    # --- Connector ---------------------------------------------------------------------------

    def reference_attributes(self) -> frozenset[str]:
        return frozenset({MEMBER, "manager"})

    def close(self) -> None:
        self.client.close()

    def traffic(self) -> Traffic:
        t = self.client.traffic
        return Traffic(t.requests, t.bytes_sent, t.bytes_received)

    def supports_value_deltas(self) -> bool:
        # v1 takes whole member lists only; v2 takes member adds and removes.
        return self.settings.export_api_version == 2

    # --- connection ----------------------------------------------------------------------------

    def test_connection(self) -> None:
        self._limits = None
        self.limits()

    def limits(self) -> dict[str, Any]:
        """The service's limits (batch sizes, member limits), read once per connector."""
        if self._limits is None:
            answer = Ping.from_json(self.client.get("/sync/ping"))
            if answer.tenant_id != self.settings.tenant_id:
                raise ConnectivityError(
                    f"the token belongs to tenant {answer.tenant_id}, not "
                    f"{self.settings.tenant_id}")
            if answer.limits is None:
                raise ConnectivityError(
                    f"{self.settings.url} answered the sync ping without its limits: check "
                    "that the url is a clouddir sync endpoint")
            self._limits = answer.limits
        return self._limits

    def large_groups(self) -> list[dict[str, Any]]:
        """The groups API v1 cannot hold (above its member limit), which v1 imports leave out:
        id, dn, source_anchor, sync_enabled, displayName, member_count."""
        return list(self.client.get("/sync/v1/large-groups").get("groups") or [])

    # --- import --------------------------------------------------------------------------------

    def full_import(self, context: ImportContext) -> Iterator[ImportBatch]:
        importer = CloudImporter(self.client, self.settings.import_api_version)
        yield from importer.run(self._sized(context), delta=False)

    def delta_import(self, context: ImportContext) -> Iterator[ImportBatch]:
        if not context.watermark:
            raise ConfigurationError(f"connector {self.name!r}: run a full import first")
        importer = CloudImporter(self.client, self.settings.import_api_version)
        yield from importer.run(self._sized(context), delta=True)

    def read_object(self, dn: str, anchor: str | None, context: ImportContext
                    ) -> ImportRecord | None:
        """ObjectReader. The sync API reads whole pages only (it has no call for one
        object), so the import pages are read and every record but this object's dropped:
        fresh, at the cost of one full read (docs/decisions/object-preview.md)."""
        importer = CloudImporter(self.client, self.settings.import_api_version)
        wanted = normalize_dn(dn)
        found: ImportRecord | None = None
        for batch in importer.run(self._sized(context), delta=False):
            for record in batch.records:
                if not (record.anchor == anchor and anchor) and \
                        normalize_dn(record.dn or "") != wanted:
                    continue
                if found is None or record.kind is ImportKind.FULL:
                    found = record
                for name, values in record.value_adds.items():  # v2: members in pages
                    found.attributes.setdefault(name, [])
                    found.attributes[name] += values
        if found is not None:
            found.kind, found.value_adds = ImportKind.FULL, {}
        return found

    def _sized(self, context: ImportContext) -> ImportContext:
        page = min(context.batch_size, int(self.limits()["import_page_size"]))
        return ImportContext(context.watermark, context.attributes, page)

    # --- export --------------------------------------------------------------------------------

    def export(self, changes: Iterable[ExportChange]) -> Iterator[ExportResult]:
        version = self.settings.export_api_version
        limits = self.limits()
        most = int(limits[f"v{version}_batch_size"])
        batch = min(self.settings.batch_size or most, most)
        # v2: the service's per-request bound on member references. v1 has none, but whole
        # member lists add up: pack at most one full-size group's worth per request.
        max_links = int(limits["v2_max_links"] if version == 2 else limits["v1_member_limit"])
        yield from CloudExporter(self.client, version, batch, max_links).export(changes)

    # --- schema --------------------------------------------------------------------------------

    def schema(self) -> ConnectorSchema:
        common = [AttributeSchema("displayName"), AttributeSchema(SOURCE_ANCHOR),
                  AttributeSchema(SYNC_ENABLED), AttributeSchema("mail"),
                  AttributeSchema("mailNickname"),
                  AttributeSchema("proxyAddresses", multivalued=True)]
        return ConnectorSchema(object_types={
            "user": [*common, AttributeSchema("userPrincipalName"),
                     AttributeSchema("givenName"), AttributeSchema("surname"),
                     AttributeSchema("jobTitle"), AttributeSchema("department"),
                     AttributeSchema("accountEnabled"),
                     AttributeSchema("manager", reference=True),
                     AttributeSchema("userCertificate", multivalued=True, binary=True)],
            "group": [*common, AttributeSchema("description"),
                      AttributeSchema("groupTypes", multivalued=True),
                      AttributeSchema("securityEnabled"), AttributeSchema("mailEnabled"),
                      AttributeSchema(MEMBER, multivalued=True, reference=True)],
            "contact": [*common],
        })
