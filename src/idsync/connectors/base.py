"""What a connector is, as the engine sees it.

A connector links idsync to one connected directory. The engine never checks a connector's
type: it asks for a capability (``FullImporter``, ``DeltaImporter``, ``Exporter``...) the way
ConnId connectors declare what they can do by the operations they implement.

Records crossing the boundary are plain dataclasses:

* import: the connector yields ``ImportBatch`` objects; each holds ``ImportRecord``s and the
  watermark that is true once the batch is staged. The engine commits the batch and its
  watermark in one transaction, so a crash repeats at most the batch in flight.
* export: the engine hands the connector ``ExportChange``s and gets one ``ExportResult`` per
  change back; a bad object fails alone.

Values are ``str`` or ``bytes`` (binary attributes such as objectGUID). Values of reference
attributes (``member``, ``manager``...) are DN strings on import and ``ExportRef``s on export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from idsync.model import ExportKind

Value = str | bytes
Watermark = dict[str, Any]


class ImportKind(StrEnum):
    """What an import record says about one object."""

    #: The whole current state of the object (full import, or a delta that re-sends the object).
    #: Attributes not listed are absent.
    FULL = "full"
    #: A change: ``attributes`` replace those attributes wholesale (an empty list removes the
    #: attribute), ``value_adds`` / ``value_removes`` change single values of multi-valued
    #: attributes, a ``dn`` that differs from the staged one is a rename or move.
    MODIFY = "modify"
    #: The object is gone from the connected directory.
    DELETE = "delete"


@dataclass(slots=True)
class ImportRecord:
    kind: ImportKind
    #: The immutable id of the object in its directory (entryUUID, objectGUID as a GUID string,
    #: cloud id). ``None`` only on a DELETE or MODIFY that the directory reports by DN alone.
    anchor: str | None
    dn: str
    #: The connector's object type (``user``, ``group``, ``contact``, ``inetOrgPerson``...).
    object_type: str | None = None
    attributes: dict[str, list[Value]] = field(default_factory=dict)
    value_adds: dict[str, list[Value]] = field(default_factory=dict)
    value_removes: dict[str, list[Value]] = field(default_factory=dict)
    #: The object's source of authority is the cloud (Graph's
    #: ``onPremisesSyncBehavior.isCloudManaged``, the sync API's ``cloud_managed``): exports
    #: to it are held until it is False again. None: the connector does not say.
    cloud_managed: bool | None = None


@dataclass(slots=True)
class UnreadableRecord:
    """A record the connector read but could not understand (malformed source data): an
    import error, never a delete. A full import with one infers no delete of the object it
    names, and none at all when it cannot say which object that is
    (idsync.engine.unreadable)."""

    #: The import error code (e.g. ``ldif-record-unreadable``).
    code: str
    #: Where and why, in one line: ``FILE, line N: reason``.
    detail: str
    #: The DN and anchor of the object the record stands for, when they could still be read.
    dn: str | None = None
    anchor: str | None = None


@dataclass(slots=True)
class ImportBatch:
    records: list[ImportRecord]
    #: The watermark to store once this batch is staged (None: leave it as it is).
    watermark: Watermark | None = None
    #: Records of this stretch of the source that could not be read.
    unreadable: list[UnreadableRecord] = field(default_factory=list)


@dataclass(slots=True)
class ImportContext:
    """What the engine tells a connector when an import starts."""

    #: The stored delta watermark (None before the first import).
    watermark: Watermark | None
    #: Attributes the sync rules read from this connector (None: everything the connector has).
    attributes: frozenset[str] | None = None
    batch_size: int = 1000


@dataclass(frozen=True, slots=True)
class ExportRef:
    """A reference value on export: the target object's DN and, once known, its anchor."""

    dn: str
    anchor: str | None = None


ExportValue = str | bytes | ExportRef


@dataclass(slots=True)
class ExportChange:
    cs_id: int
    kind: ExportKind
    dn: str
    object_type: str
    anchor: str | None = None
    new_dn: str | None = None
    #: ADD: every attribute of the new object. MODIFY/RENAME: attributes replaced wholesale
    #: (an empty list removes the attribute).
    attributes: dict[str, list[ExportValue]] = field(default_factory=dict)
    #: Value-level changes of multi-valued attributes (members): only to connectors that are
    #: ``MemberDeltaExporter``s; others get the whole list in ``attributes``.
    value_adds: dict[str, list[ExportValue]] = field(default_factory=dict)
    value_removes: dict[str, list[ExportValue]] = field(default_factory=dict)


@dataclass(slots=True)
class ExportResult:
    cs_id: int
    ok: bool
    #: The anchor the directory gave a new object (ADD), so later references can name it.
    anchor: str | None = None
    #: The DN the directory actually used, when it differs from the requested one.
    dn: str | None = None
    error_code: str | None = None
    error_detail: str | None = None
    #: A transient failure (said in the export error's detail; every failed export stays
    #: pending and is sent again by the next export run). None: as the error code registry
    #: (idsync.error_codes) says for ``error_code``.
    retryable: bool | None = None


@dataclass(frozen=True, slots=True)
class AttributeSchema:
    name: str
    multivalued: bool = False
    reference: bool = False
    binary: bool = False


@dataclass(slots=True)
class ConnectorSchema:
    object_types: dict[str, list[AttributeSchema]]


# --- capabilities -------------------------------------------------------------------------


@runtime_checkable
class Connector(Protocol):
    """Every connector: built from its settings, says which attributes are references."""

    name: str

    def reference_attributes(self) -> frozenset[str]: ...

    def close(self) -> None: ...


@runtime_checkable
class FullImporter(Protocol):
    def full_import(self, context: ImportContext) -> Iterator[ImportBatch]:
        """Yield the whole directory in scope. The last batch's watermark is the starting
        point of the next delta import."""
        ...


@runtime_checkable
class DeltaImporter(Protocol):
    def delta_import(self, context: ImportContext) -> Iterator[ImportBatch]:
        """Yield the changes since ``context.watermark``."""
        ...


@runtime_checkable
class ObjectReader(Protocol):
    def read_object(self, dn: str, anchor: str | None, context: ImportContext
                    ) -> ImportRecord | None:
        """One object as a full import would read it now: a FULL record, found by ``dn``
        (or by ``anchor`` when the object was renamed), or None when it is gone or out of the
        connector's scope. Preview one object (idsync.administration.object_preview) reads
        only that object from the directory."""
        ...


@runtime_checkable
class Exporter(Protocol):
    def export(self, changes: Iterable[ExportChange]) -> Iterator[ExportResult]:
        """Apply each change; one result per change, in any order. Raises
        ``ConnectivityError`` only when the directory cannot be reached at all."""
        ...


@runtime_checkable
class MemberDeltaExporter(Protocol):
    """Marker: the connector takes value-level adds and removes of multi-valued attributes.
    Connectors without it get whole value lists."""

    def supports_value_deltas(self) -> bool: ...


class ExportBatchSize(Protocol):
    """Optional: how many changes the connector wants per ``export`` call (the engine's
    default is 500). A connector whose call has a fixed cost, such as rewriting a file, asks
    for more."""

    export_batch_size: int


@runtime_checkable
class SchemaProvider(Protocol):
    def schema(self) -> ConnectorSchema: ...


@runtime_checkable
class ConnectionTester(Protocol):
    def test_connection(self) -> None:
        """Raise ``ConnectivityError`` when the directory cannot be reached or bound."""
        ...


class ConnectorFactory(Protocol):
    def __call__(self, name: str, settings: Mapping[str, Any], secrets: Mapping[str, str],
                 workspace: str) -> Connector: ...
