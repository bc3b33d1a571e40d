"""The file connector: a small directory kept in LDIF files, so idsync runs with no server.

* ``path`` (the content file) is the directory's current state; full import streams it.
* ``changes_path`` is the directory's changelog (LDIF change records appended by whoever changes
  the directory, e.g. :func:`apply_changes`); delta import reads it from a byte offset.
* export applies changes to the directory and appends them to ``export_log`` when set. A content
  file under 1 MiB is rewritten atomically by each export call; a larger one gets the applied
  change records in ``<path>.journal`` (entries found through ``<path>.index``), folded into
  the content file when the journal passes a quarter of its size, by every full import and by
  :meth:`FileConnector.compact` (``python -m idsync.connectors.file compact PATH``).
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from idsync.connectors.base import (
    ExportChange,
    ExportRef,
    ExportResult,
    ExportValue,
    ImportBatch,
    ImportContext,
    ImportKind,
    ImportRecord,
    UnreadableRecord,
    Value,
)
from idsync.connectors.file import traffic as file_traffic
from idsync.connectors.file.records import control_value, fold_modifications, strip_binary_option
from idsync.connectors.file.unreadable import RecordChecks, Refused
from idsync.connectors.file.watermark import FileWatermark
from idsync.connectors.settings import SCHEMAS
from idsync.connectors.settings.file import (
    DEFAULT_BINARY_ATTRIBUTES,
    DEFAULT_OBJECT_TYPES,
    DEFAULT_REFERENCE_ATTRIBUTES,
)
from idsync.connectors.traffic import Traffic
from idsync.error_codes import ErrorCode
from idsync.errors import ConfigurationError, ConnectivityError, IdsyncError
from idsync.filedir.directory import FileDirectory
from idsync.filedir.dn import normalize_dn, parent_dn, rdn_of, rdn_values, split_dn
from idsync.filedir.entries import (
    ANCHOR_CONTROL_OID,
    OBJECT_CLASS_CONTROL_OID,
    anchor_string,
    get_first,
    new_dn_of,
)
from idsync.filedir.files import file_size
from idsync.filedir.ldif import (
    AddRecord,
    ChangeRecord,
    ContentRecord,
    DeleteRecord,
    LdifError,
    ModDnRecord,
    Modification,
    ModifyRecord,
    is_attribute_description,
)
from idsync.filedir.ldif.urls import url_root_setting
from idsync.model import ExportKind, RunProfile

#: Namespace of the anchors made up for hand-written entries that carry no anchor attribute.
DN_ANCHOR_NAMESPACE = uuid.UUID("5d3c1f0e-8a49-4f0b-9d7e-6c1b2a3f4e50")


class ChangelogTruncatedError(IdsyncError):
    """The changes file is shorter than the delta watermark: it was rotated or truncated, so
    the changes in between are lost. Run a full import."""


def default_changes_path(path: str) -> str:
    """``dir/contoso.ldif`` -> ``dir/contoso.changes.ldif``."""
    stem, ext = os.path.splitext(path)
    return f"{stem}.changes{ext or '.ldif'}"


class FileConnector:
    """FullImporter, DeltaImporter, Exporter, MemberDeltaExporter and ConnectionTester over
    LDIF files. See the module docstring for the files it uses."""

    #: Memory follows the batch. (An export call into a small content file rewrites it
    #: once; a large one only appends to the journal.)
    export_batch_size = 20_000

    def __init__(
        self,
        name: str,
        path: str,
        *,
        changes_path: str | None = None,
        export_log: str | None = None,
        anchor_attribute: str = "entryUUID",
        object_types: Mapping[str, str] | None = None,
        reference_attributes: Iterable[str] = DEFAULT_REFERENCE_ATTRIBUTES,
        binary_attributes: Iterable[str] = DEFAULT_BINARY_ATTRIBUTES,
        create_if_missing: bool = False,
        integrity_attributes: Iterable[str] = (),
        allow_file_urls_under: str | None = None,
    ) -> None:
        self.name = name
        self.path = path
        self.changes_path = changes_path or default_changes_path(path)
        self.export_log = export_log
        self.anchor_attribute = anchor_attribute
        self.object_types = dict(object_types if object_types is not None
                                 else DEFAULT_OBJECT_TYPES)
        self._types_lower = {k.lower(): v for k, v in self.object_types.items()}
        self._references = frozenset(reference_attributes)
        self._integrity = frozenset(integrity_attributes)
        self._binary = frozenset(binary_attributes)
        self.directory = FileDirectory(path, anchor_attribute, self._binary, self._references)
        #: How the LDIF files are read: malformed records refused one by one, URL values
        #: refused unless allow_file_urls_under names their directory
        #: (docs/decisions/ldif-input.md).
        self.checks = RecordChecks(self._binary, anchor_attribute, _dn_anchor,
                                   allow_file_urls_under)
        if create_if_missing and not os.path.exists(path):
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "ab"):
                pass

    # --- Connector --------------------------------------------------------------------

    def reference_attributes(self) -> frozenset[str]:
        return self._references

    def integrity_attributes(self) -> frozenset[str]:
        """Reference attributes bound to their objects (idsync.engine.reference_integrity).
        The files keep every DN as written, as a directory server without a referential
        integrity overlay does, so none by default; ``integrity_attributes`` names those that
        whoever edits the files keeps bound (removing a deleted entry's DN from them,
        rewriting a renamed one's), as OpenLDAP's memberof overlay does for ``member``."""
        return self._integrity

    def close(self) -> None:
        """Nothing stays open between calls. The journal is not folded here: the engine
        closes after every run, and that would cost a rewrite per run again."""

    def compact(self) -> bool:
        """Fold the export journal into the content file, so the content file alone shows
        the directory's current state. Returns whether there was a journal to fold."""
        return self.directory.compact()

    def traffic_mark(self, watermark: dict[str, Any] | None) -> file_traffic.TrafficMark:
        return file_traffic.mark(self, watermark)

    def run_traffic(self, mark: object, profile: RunProfile,
                    watermark: dict[str, Any] | None) -> Traffic | None:
        if not isinstance(mark, file_traffic.TrafficMark):
            raise TypeError(f"not this connector's traffic mark: {mark!r}")
        return file_traffic.run_traffic(self, mark, profile, watermark)

    def supports_value_deltas(self) -> bool:
        return True

    def test_connection(self) -> None:
        if not os.path.isfile(self.path):
            raise ConnectivityError(f"{self.name}: content file {self.path} does not exist")
        if not os.access(self.path, os.R_OK):
            raise ConnectivityError(f"{self.name}: content file {self.path} is not readable")

    # --- import -----------------------------------------------------------------------

    def full_import(self, context: ImportContext) -> Iterator[ImportBatch]:
        self.test_connection()
        # Take the changelog size first: a change landing during the import is then read
        # again by the next delta import (at least once), never skipped.
        # The journal is folded first: a full import reads every entry anyway, and then it
        # reads one file. The handle opened under the lock keeps this version readable even
        # if an export replaces the file meanwhile.
        with self.directory.locked():
            self.directory.compact_held()
            offset = file_size(self.changes_path)
            content = open(self.path, "rb")  # noqa: SIM115 - closed below, after the stream
        with content:
            yield from self._full_batches(content, context, offset)

    def read_object(self, dn: str, anchor: str | None, context: ImportContext
                    ) -> ImportRecord | None:
        """ObjectReader: the entry at ``dn`` in the content file, checked and converted as
        a full import does (an entry without a synced object class is None)."""
        self.test_connection()
        data = self.directory.read_record(dn)
        if data is None:
            return None
        for record in self.checks.entries(io.BytesIO(data), self.path):
            if isinstance(record, Refused):
                raise ConfigurationError(f"{self.name}: {dn}: {record.error.detail}")
            return self._full_record(record.dn, record.attributes, context, None)
        return None

    def _full_batches(self, content: Any, context: ImportContext,
                      offset: int) -> Iterator[ImportBatch]:
        batch: list[ImportRecord] = []
        unreadable: list[UnreadableRecord] = []
        for record in self.checks.entries(content, self.path):
            if isinstance(record, Refused):
                unreadable.append(record.error)
                continue
            imported = self._full_record(record.dn, record.attributes, context, None)
            if imported is None:
                continue
            batch.append(imported)
            if len(batch) >= context.batch_size:
                yield ImportBatch(batch, unreadable=unreadable)
                batch, unreadable = [], []
        yield ImportBatch(batch, FileWatermark(offset).to_dict(), unreadable)

    def delta_import(self, context: ImportContext) -> Iterator[ImportBatch]:
        self.test_connection()
        start = FileWatermark.from_dict(context.watermark).offset
        with self.directory.locked():
            end = file_size(self.changes_path)
        if end < start:
            raise ChangelogTruncatedError(
                f"{self.changes_path} is {end} bytes, the watermark is at {start}: "
                "run a full import")
        resolver = _AnchorResolver(self)
        batch: list[ImportRecord] = []
        unreadable: list[UnreadableRecord] = []
        if end > start:
            for record in self.checks.changes(self.changes_path, start, end):
                if isinstance(record, Refused):
                    # An import error, and the watermark moves on: the engine requires a
                    # full import, which reads the entry's state from the content file.
                    unreadable.append(record.error)
                else:
                    batch.extend(self._delta_records(record, context, resolver))
                if len(batch) + len(unreadable) >= context.batch_size:
                    # The offset after this record: a crash resumes at the next one.
                    yield ImportBatch(batch, FileWatermark(record.end_offset).to_dict(),
                                      unreadable)
                    batch, unreadable = [], []
        yield ImportBatch(batch, FileWatermark(end).to_dict(), unreadable)

    def _object_type(self, attributes: dict[str, list[Value]]) -> str | None:
        # The last mapped objectClass wins: LDIF lists superclasses first (top, person,
        # organizationalPerson, contact), so the last one is the most specific.
        found = None
        for value in _values(attributes, "objectClass"):
            if isinstance(value, str) and value.lower() in self._types_lower:
                found = self._types_lower[value.lower()]
        return found

    def _full_record(self, dn: str, attributes: dict[str, list[Value]],
                     context: ImportContext, anchor: str | None) -> ImportRecord | None:
        object_type = self._object_type(attributes)
        if object_type is None:
            return None  # OUs, the base entry: not objects the engine syncs
        anchor = anchor or anchor_string(get_first(attributes, self.anchor_attribute))
        if anchor is None:
            # Hand-written entries may lack an anchor; a DN-derived one is stable until the
            # entry is renamed (documented in docs/decisions/file-connector.md).
            anchor = _dn_anchor(dn)
        return ImportRecord(ImportKind.FULL, anchor, dn, object_type,
                            self._select(strip_binary_option(attributes), context))

    def _select(self, attributes: dict[str, list[Value]],
                context: ImportContext) -> dict[str, list[Value]]:
        if context.attributes is None:
            return attributes
        wanted = {name.lower() for name in context.attributes}
        wanted |= {"objectclass", self.anchor_attribute.lower()}
        return {k: v for k, v in attributes.items() if k.lower() in wanted}

    def _delta_records(self, record: object, context: ImportContext,
                       resolver: _AnchorResolver) -> list[ImportRecord]:
        if isinstance(record, ContentRecord):
            raise LdifError(f"{self.changes_path} holds an entry without changetype "
                            f"({record.dn})", record.line)
        assert isinstance(record, AddRecord | DeleteRecord | ModifyRecord | ModDnRecord)
        anchor = control_value(record, ANCHOR_CONTROL_OID)
        if isinstance(record, AddRecord):
            full = self._full_record(record.dn, record.attributes, context, anchor)
            return [full] if full is not None else []
        classes = control_value(record, OBJECT_CLASS_CONTROL_OID)
        object_type = None
        if classes is not None:
            object_type = self._object_type({"objectClass": list(classes.split())})
            if object_type is None:
                return []  # a change to an OU or another entry that is not an object
        records = self._change_records(record, context, resolver, anchor)
        for imported in records:
            imported.object_type = object_type
        return records

    def _change_records(self, record: DeleteRecord | ModifyRecord | ModDnRecord,
                        context: ImportContext, resolver: _AnchorResolver,
                        anchor: str | None) -> list[ImportRecord]:
        if isinstance(record, DeleteRecord):
            anchor = anchor or resolver.anchor(record.dn)
            return [ImportRecord(ImportKind.DELETE, anchor, record.dn)]
        if isinstance(record, ModifyRecord):
            anchor = anchor or resolver.anchor(record.dn)
            modify = ImportRecord(ImportKind.MODIFY, anchor, record.dn)
            fold_modifications(modify, record.modifications)
            modify.attributes = self._select(modify.attributes, context)
            modify.value_adds = self._select(modify.value_adds, context)
            modify.value_removes = self._select(modify.value_removes, context)
            return [modify]
        new_dn = new_dn_of(record)
        anchor = anchor or resolver.anchor(new_dn)
        if anchor is None:
            # A rename we cannot tie to an object: report the old DN gone; the entry comes
            # back under its new DN with the next full import.
            return [ImportRecord(ImportKind.DELETE, None, record.dn)]
        rename = ImportRecord(ImportKind.MODIFY, anchor, new_dn)
        old_rdn, new_rdn = rdn_values(rdn_of(record.dn)), rdn_values(record.newrdn)
        if old_rdn != new_rdn:
            if record.deleteoldrdn:
                for attribute, value in old_rdn:
                    rename.value_removes.setdefault(attribute, []).append(value)
            for attribute, value in new_rdn:
                rename.value_adds.setdefault(attribute, []).append(value)
        return [rename]

    # --- export -----------------------------------------------------------------------

    def export(self, changes: Iterable[ExportChange]) -> Iterator[ExportResult]:
        if not os.path.isfile(self.path):
            raise ConnectivityError(f"{self.name}: content file {self.path} does not exist")
        accepted: list[ExportChange] = []
        units: list[list[ChangeRecord]] = []
        refused: list[ExportResult] = []
        for change in changes:
            try:
                units.append(self._export_records(change))
                accepted.append(change)
            except _BadChange as bad:
                refused.append(ExportResult(change.cs_id, False, error_code=bad.code,
                                            error_detail=bad.detail))
        yield from refused
        outcomes = self.directory.apply(units, log_path=self.export_log)
        for change, outcome in zip(accepted, outcomes, strict=True):
            yield ExportResult(change.cs_id, outcome.ok, anchor=outcome.anchor,
                               dn=outcome.dn if outcome.ok else None,
                               error_code=outcome.error_code, error_detail=outcome.error_detail)

    def _export_records(self, change: ExportChange) -> list[ChangeRecord]:
        _check_dn(change.dn)
        if change.kind is ExportKind.ADD:
            attributes = _ldif_values(change.attributes)
            if not _values(attributes, "objectClass"):
                attributes = {"objectClass": [self._object_class_for(change.object_type)],
                              **attributes}
            if change.anchor and not _values(attributes, self.anchor_attribute):
                attributes[self.anchor_attribute] = [change.anchor]
            return [AddRecord(change.dn, attributes)]
        if change.kind is ExportKind.DELETE:
            return [DeleteRecord(change.dn)]
        records: list[ChangeRecord] = []
        dn = change.dn
        if change.kind is ExportKind.RENAME:
            if not change.new_dn:
                raise _BadChange(ErrorCode.INVALID_DN_SYNTAX, "rename without a new DN")
            _check_dn(change.new_dn)
            superior = parent_dn(change.new_dn)
            moved = normalize_dn(superior) != normalize_dn(parent_dn(change.dn))
            records.append(ModDnRecord(change.dn, rdn_of(change.new_dn), True,
                                       superior if moved else None))
            dn = change.new_dn
        mods = self._modifications(change)
        if mods or change.kind is ExportKind.MODIFY:
            records.append(ModifyRecord(dn, mods))
        return records

    def _modifications(self, change: ExportChange) -> list[Modification]:
        mods: list[Modification] = []
        for name, values in _ldif_values(change.attributes).items():
            mods.append(Modification("replace", name, values))
        for name, values in _ldif_values(change.value_removes).items():
            if values:
                mods.append(Modification("delete", name, values))
        for name, values in _ldif_values(change.value_adds).items():
            if values:
                mods.append(Modification("add", name, values))
        return mods

    def _object_class_for(self, object_type: str) -> str:
        for object_class, mapped in self.object_types.items():
            if mapped == object_type:
                return object_class
        return object_type


class _BadChange(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class _AnchorResolver:
    """For change records without the anchor control (hand-written changelogs): DN -> anchor
    from the content file, read once, on first need, per delta import."""

    def __init__(self, connector: FileConnector) -> None:
        self.connector = connector
        self.index: dict[str, str] | None = None

    def anchor(self, dn: str) -> str | None:
        if self.index is None:
            self.index = {}
            connector = self.connector
            # The content file must hold the export journal's changes too.
            connector.directory.compact()
            # Tolerantly: a record a full import reports as unreadable names no anchor here.
            with open(connector.path, "rb") as content:
                for record in connector.checks.entries(content, connector.path):
                    if isinstance(record, ContentRecord):
                        value = get_first(record.attributes, connector.anchor_attribute)
                        anchor = anchor_string(value)
                        if anchor is not None:
                            self.index[normalize_dn(record.dn)] = anchor
        return self.index.get(normalize_dn(dn))


def _dn_anchor(dn: str) -> str:
    """The anchor of an entry without the anchor attribute: derived from its DN."""
    return str(uuid.uuid5(DN_ANCHOR_NAMESPACE, normalize_dn(dn)))


def _check_dn(dn: str) -> None:
    rdns = split_dn(dn)
    if not rdns or not all("=" in rdn and rdn.split("=", 1)[0].strip() for rdn in rdns):
        raise _BadChange(ErrorCode.INVALID_DN_SYNTAX, f"invalid DN {dn!r}")


def _ldif_values(attributes: Mapping[str, list[ExportValue]]) -> dict[str, list[Value]]:
    out: dict[str, list[Value]] = {}
    for name, values in attributes.items():
        if not is_attribute_description(name):
            raise _BadChange(ErrorCode.UNDEFINED_ATTRIBUTE_TYPE, f"invalid attribute name {name!r}")
        out[name] = [value.dn if isinstance(value, ExportRef) else value for value in values]
    return out


def _values(attributes: Mapping[str, list[Any]], name: str) -> list[Any]:
    lowered = name.lower()
    for key, values in attributes.items():
        if key.lower() == lowered:
            return values
    return []


def create_connector(name: str, settings: Mapping[str, Any], secrets: Mapping[str, str],
                     workspace: str) -> FileConnector:
    """Build a file connector from its settings (checked against the file schema,
    idsync.connectors.settings.file); relative paths are relative to ``workspace``. Raises
    ``SettingError`` (a ConfigurationError) naming the offending key."""
    values = SCHEMAS["file"].validate(settings)

    def resolve(key: str) -> str | None:
        value = values[key]
        return None if value is None else os.path.join(workspace, os.path.expanduser(value))

    try:  # the schema checked the shape; this resolves the directory's symlinks
        urls_under = url_root_setting(values)
    except ValueError as exc:
        raise ConfigurationError(f"{name}: {exc}") from None
    path = resolve("path")
    assert path is not None
    return FileConnector(
        name,
        path,
        changes_path=resolve("changes_path"),
        export_log=resolve("export_log"),
        anchor_attribute=values["anchor_attribute"],
        object_types=values["object_types"],
        reference_attributes=values["reference_attributes"],
        binary_attributes=values["binary_attributes"],
        integrity_attributes=values["integrity_attributes"],
        create_if_missing=values["create_if_missing"],
        allow_file_urls_under=urls_under,
    )
