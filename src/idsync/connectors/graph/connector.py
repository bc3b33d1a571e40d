"""The graph connector: idsync's link to a Microsoft Entra ID tenant (or clouddir) through
Microsoft Graph."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from idsync.connectors.base import (
    ConnectorSchema,
    ExportChange,
    ExportResult,
    ImportBatch,
    ImportContext,
    ImportRecord,
)
from idsync.connectors.graph.client import GraphClient, TokenSource, tls_verify
from idsync.connectors.graph.config import GraphSettings
from idsync.connectors.graph.delta_import import DeltaImport
from idsync.connectors.graph.errors import GraphApiError
from idsync.connectors.graph.export import GraphExporter
from idsync.connectors.graph.full_import import FullImport
from idsync.connectors.graph.records import (
    COLLECTIONS,
    MANAGER,
    MEMBERS,
    connector_schema,
    full_record,
    manager_of,
)
from idsync.connectors.traffic import Traffic
from idsync.errors import ConfigurationError, ConnectivityError

__all__ = ["GraphConnector", "GraphSettings"]

_OU_TYPES = {"ou=users": "user", "ou=groups": "group"}


class GraphConnector:
    """FullImporter, DeltaImporter, Exporter, MemberDeltaExporter, ObjectReader,
    SchemaProvider and ConnectionTester for a tenant through Graph."""

    def __init__(self, name: str, settings: GraphSettings, tokens: TokenSource,
                 client: GraphClient | None = None) -> None:
        self.name = name
        self.settings = settings
        self.client = client or GraphClient(
            settings.graph_url, tokens, timeout=settings.timeout,
            max_retries=settings.max_retries, concurrency=settings.concurrency,
            write_budget=settings.write_budget, write_window=settings.write_window,
            verify=tls_verify(settings.tls_ca_file))

    def __repr__(self) -> str:  # never the secrets, nor the token
        return (f"GraphConnector({self.name!r}, graph_url={self.settings.graph_url!r}, "
                f"tenant_id={self.settings.tenant_id!r})")

    # --- Connector ---------------------------------------------------------------------------

    def reference_attributes(self) -> frozenset[str]:
        return frozenset({MEMBERS, MANAGER})

    def close(self) -> None:
        self.client.close()

    def traffic(self) -> Traffic:
        return self.client.traffic

    def supports_value_deltas(self) -> bool:
        # Members go out as members@odata.bind adds and $ref deletes, never a whole list.
        return True

    def schema(self) -> ConnectorSchema:
        return connector_schema(self.settings.object_types)

    def test_connection(self) -> None:
        """A token, and one GET of the first object type's collection."""
        collection = COLLECTIONS[self.settings.object_types[0]]
        with self._graph_errors():
            self.client.get(f"/{collection}", {"$select": "id", "$top": 1})

    # --- import --------------------------------------------------------------------------------

    def full_import(self, context: ImportContext) -> Iterator[ImportBatch]:
        with self._graph_errors():
            yield from FullImport(self.client, self.settings).run(context)

    def delta_import(self, context: ImportContext) -> Iterator[ImportBatch]:
        with self._graph_errors():
            yield from DeltaImport(self.name, self.client, self.settings).run(context)

    def read_object(self, dn: str, anchor: str | None, context: ImportContext
                    ) -> ImportRecord | None:
        """ObjectReader: one GET of the object (its manager expanded), and a group's members."""
        object_type, object_id = _parse_dn(dn)
        object_id = anchor or object_id
        if object_type is None or not object_id or \
                object_type not in self.settings.object_types:
            return None
        full = FullImport(self.client, self.settings)
        params = full.list_params(object_type)
        params.pop("$top", None)
        with self._graph_errors():
            try:
                entry = self.client.get(f"/{COLLECTIONS[object_type]}/{object_id}", params)
            except GraphApiError as exc:
                if exc.status in (400, 404):
                    return None
                raise
            wanted = self.settings.attributes(object_type)
            record = full_record(object_type, entry, wanted)
            if object_type == "user" and MANAGER in wanted and manager_of(entry):
                record.attributes[MANAGER] = manager_of(entry) or []
            if object_type == "group" and MEMBERS in wanted:
                record.attributes[MEMBERS] = full.members_of(object_id)
        return record

    # --- export --------------------------------------------------------------------------------

    def export(self, changes: Iterable[ExportChange]) -> Iterator[ExportResult]:
        yield from GraphExporter(self.client, self.settings).export(changes)

    # --- errors --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _graph_errors(self) -> Iterator[None]:
        """A refused token or permission, or Graph down, ends the run stopped-connectivity;
        another refused request is a configuration problem (a bad attribute in $select...)."""
        try:
            yield
        except GraphApiError as exc:
            if exc.status in (401, 403) or exc.status >= 500 or exc.status == 429:
                raise ConnectivityError(f"connector {self.name!r}: Graph answered {exc}") \
                    from exc
            raise ConfigurationError(f"connector {self.name!r}: Graph refused a request: "
                                     f"{exc}") from exc


def _parse_dn(dn: str) -> tuple[str | None, str | None]:
    """``CN=<id>,OU=Users`` -> (user, id); anything else -> (None, None)."""
    rdn, _, rest = dn.partition(",")
    key, _, value = rdn.partition("=")
    object_type = _OU_TYPES.get(rest.replace(" ", "").lower())
    if key.strip().lower() != "cn" or object_type is None:
        return None, None
    return object_type, value.strip() or None
