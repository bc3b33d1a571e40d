"""``LdapConnector``: the LDAP / Active Directory connector the engine talks to.

Capabilities: FullImporter, DeltaImporter, Exporter, MemberDeltaExporter, SchemaProvider,
ConnectionTester. The connection opens lazily on first use and is reused until ``close()``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import ldap
from idsync.connectors.base import (
    ConnectorSchema,
    ExportChange,
    ExportResult,
    ImportBatch,
    ImportContext,
    ImportRecord,
)
from idsync.connectors.ldap.ad.flavor import ActiveDirectoryFlavor
from idsync.connectors.ldap.change_detection import ChangeDetector, WatermarkExpired
from idsync.connectors.ldap.change_detection.accesslog import AccesslogDetector
from idsync.connectors.ldap.change_detection.dirsync import DirSyncDetector
from idsync.connectors.ldap.change_detection.syncrepl import SyncreplDetector
from idsync.connectors.ldap.change_detection.usn import ModifyTimestampDetector, UsnDetector
from idsync.connectors.ldap.connection import describe, open_connection
from idsync.connectors.ldap.export import LdapExporter
from idsync.connectors.ldap.flavor import DirectoryFlavor, OpenLdapFlavor
from idsync.connectors.ldap.reader import DirectoryReader
from idsync.connectors.ldap.schema import connector_schema, object_class_names, read_subschema
from idsync.connectors.ldap.scope_check import check_scope
from idsync.connectors.ldap.settings import LdapSettings
from idsync.connectors.ldap.traffic import LdapTrafficMeter
from idsync.connectors.traffic import Traffic
from idsync.errors import ConnectivityError

AD_CAPABILITY = "1.2.840.113556.1.4.800"
#: The flavor of each ``directory_type``; any other server is a standards LDAP server.
FLAVORS: dict[str, type[DirectoryFlavor]] = {"ad": ActiveDirectoryFlavor,
                                             "openldap": OpenLdapFlavor}


class LdapConnector:
    def __init__(self, name: str, settings: LdapSettings, password: str, workspace: str) -> None:
        self.name = name
        self.settings = settings
        self.workspace = workspace
        self.__password = password  # name-mangled, kept out of repr and settings
        self._conn: Any = None
        self._reader: DirectoryReader | None = None
        self._root_dse: dict[str, list[bytes]] | None = None
        self._meter = LdapTrafficMeter()

    def __repr__(self) -> str:
        return f"LdapConnector(name={self.name!r}, uri={self.settings.uri!r})"

    # --- Connector --------------------------------------------------------------------------
    def reference_attributes(self) -> frozenset[str]:
        return frozenset(self.settings.reference_attributes)

    def integrity_attributes(self) -> frozenset[str]:
        """Reference attributes the directory keeps bound to their objects: dropped when the
        object is deleted, rewritten when it is renamed or moved (idsync.engine.
        reference_integrity). The ``integrity_attributes`` setting, else by directory type:
        Active Directory keeps every DN-valued attribute bound (linked attributes, and DN
        values stored by object); OpenLDAP binds ``member`` and ``memberOf`` under the
        memberof overlay with its refint option (the usual setup, and the demo's); other
        attributes, and every attribute of another server, keep the DN as written."""
        if self.settings.integrity_attributes is not None:
            return frozenset(self.settings.integrity_attributes)
        return self.flavor().bound_attributes(self.settings)

    def back_links(self) -> dict[str, str]:
        """``memberOf`` is the back-link of ``member`` (idsync.engine.reference_integrity) on
        Active Directory and under OpenLDAP's memberof overlay, when both are bound."""
        bound = {name.lower() for name in self.integrity_attributes()}
        return {"member": "memberOf"} if {"member", "memberof"} <= bound else {}

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(ldap.LDAPError):
                self._conn.unbind_s()
        self._conn = self._reader = self._root_dse = None

    def test_connection(self) -> None:
        self.reader()

    # --- plumbing ---------------------------------------------------------------------------
    def _open(self, cls: type | None = None) -> Any:
        return self._meter.attach(open_connection(self.settings, self.__password, cls))

    def traffic(self) -> Traffic:
        return self._meter.snapshot()

    def reader(self) -> DirectoryReader:
        if self._reader is None:
            if self._conn is None:
                self._conn = self._open()
            reader = DirectoryReader(self._conn, self.settings, self.flavor())
            # Once per connection: a wrong partition or container stops the run here, named.
            check_scope(self._conn, self.settings, self.root_dse(), flavor=reader.flavor,
                        connector=self.name)
            self._reader = reader
        return self._reader

    def root_dse(self) -> dict[str, list[bytes]]:
        if self._root_dse is None:
            conn = self._conn or self.reader().conn
            found = conn.search_s("", ldap.SCOPE_BASE, "(objectClass=*)",
                                  ["*", "+", "supportedControl", "supportedCapabilities"])
            self._root_dse = found[0][1] if found else {}
        return self._root_dse

    def flavor(self) -> DirectoryFlavor:
        """What differs for this kind of server (see ``idsync.connectors.ldap.flavor``)."""
        return FLAVORS.get(self.directory_type(), DirectoryFlavor)()

    def directory_type(self) -> str:
        if self.settings.directory_type != "auto":
            return self.settings.directory_type
        return self.server_type()

    def server_type(self) -> str:
        """ad / openldap / generic, as the server's root DSE tells (whatever the
        ``directory_type`` setting says): AD advertises its capability OID and
        forestFunctionality, OpenLDAP's root DSE is an OpenLDAProotDSE."""
        if self._conn is None:
            self._conn = self._open()
        try:
            root = self.root_dse()
        except ldap.LDAPError as error:
            raise ConnectivityError(f"cannot read the root DSE of {self.settings.uri}: "
                                    f"{describe(error)}") from None
        caps = {v.decode() for v in root.get("supportedCapabilities", [])}
        if AD_CAPABILITY in caps or any(k.lower() == "forestfunctionality" for k in root):
            return "ad"
        classes = {v.decode().lower() for v in root.get("objectClass", [])}
        return "openldap" if "openldaprootdse" in classes else "generic"

    def change_detector(self) -> ChangeDetector:
        reader = self.reader()
        strategy = self.settings.change_detection
        if strategy == "auto":
            controls = {v.decode() for v in self.root_dse().get("supportedControl", [])}
            strategy = reader.flavor.change_detection(controls)
        detectors: dict[str, Any] = {
            "syncrepl": lambda: SyncreplDetector(reader, self._open),
            "accesslog": lambda: AccesslogDetector(reader),
            "dirsync": lambda: DirSyncDetector(reader),
            "usn": lambda: UsnDetector(reader),
            "modify_timestamp": lambda: ModifyTimestampDetector(reader),
        }
        return detectors[strategy]()

    # --- FullImporter -------------------------------------------------------------------------
    def full_import(self, context: ImportContext) -> Iterator[ImportBatch]:
        reader = self.reader()
        # Taken before reading: changes made during the read are seen again by the next delta.
        watermark = self._guard(self.change_detector().initial_watermark)
        batch: list[ImportRecord] = []
        for page in self._guard_iter(reader.entries(reader.request_attributes(context))):
            for dn, attrs in page:
                record = reader.to_record(dn, attrs, under_search_base=True)
                if record is not None:
                    batch.append(record)
                if len(batch) >= context.batch_size:
                    yield ImportBatch(records=batch)
                    batch = []
        yield ImportBatch(records=batch, watermark=watermark)

    # --- ObjectReader ---------------------------------------------------------------------------
    def read_object(self, dn: str, anchor: str | None, context: ImportContext
                    ) -> ImportRecord | None:
        reader = self.reader()
        entry = self._guard(lambda: reader.read_entry(dn, anchor,
                                                      reader.request_attributes(context)))
        if entry is None:
            return None
        return reader.to_record(entry[0], entry[1])

    # --- DeltaImporter ------------------------------------------------------------------------
    def delta_import(self, context: ImportContext) -> Iterator[ImportBatch]:
        detector = self.change_detector()
        watermark = context.watermark or {}
        if watermark.get("strategy") != detector.name:
            raise WatermarkExpired(
                f"connector {self.name}: no {detector.name} watermark "
                f"(have {watermark.get('strategy')!r}); run a full import first")
        yield from self._guard_iter(detector.changes(watermark, context))

    # --- Exporter / MemberDeltaExporter ----------------------------------------------------------
    def export(self, changes: Iterable[ExportChange]) -> Iterator[ExportResult]:
        return LdapExporter(self.reader()).export(changes)

    def supports_value_deltas(self) -> bool:
        return True

    # --- SchemaProvider ------------------------------------------------------------------------
    def schema(self) -> ConnectorSchema:
        return self._guard(lambda: connector_schema(self.reader().conn, self.settings))

    def object_classes(self) -> list[str]:
        """Every object class the server's subschema defines (for ``connector schema``)."""
        return self._guard(lambda: object_class_names(read_subschema(self.reader().conn)))

    # --- errors -------------------------------------------------------------------------------
    def _guard(self, call: Any) -> Any:
        try:
            return call()
        except (ldap.SERVER_DOWN, ldap.CONNECT_ERROR, ldap.TIMEOUT) as error:
            self.close()
            raise ConnectivityError(f"lost {self.settings.uri}: {error}") from None

    def _guard_iter(self, batches: Iterator[Any]) -> Iterator[Any]:
        while True:
            try:
                item = next(batches)
            except StopIteration:
                return
            except (ldap.SERVER_DOWN, ldap.CONNECT_ERROR, ldap.TIMEOUT) as error:
                self.close()
                raise ConnectivityError(f"lost {self.settings.uri}: {error}") from None
            yield item
