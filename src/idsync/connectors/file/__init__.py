"""The file connector: a directory kept in LDIF files (content file + changelog).

Public API:

* :func:`create_connector` - the connector factory the engine calls.
* :class:`FileConnector` - FullImporter, DeltaImporter, Exporter, MemberDeltaExporter,
  ConnectionTester.
* :func:`apply_changes` - change a file directory like a directory server with a changelog
  would: apply change records to the content file and append them to the changes file.
* :mod:`idsync.filedir.ldif` - the RFC 2849 reader and writer.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from idsync.connectors.file.connector import (
    DEFAULT_BINARY_ATTRIBUTES,
    DEFAULT_OBJECT_TYPES,
    DEFAULT_REFERENCE_ATTRIBUTES,
    ChangelogTruncatedError,
    FileConnector,
    create_connector,
    default_changes_path,
)
from idsync.errors import ObjectError
from idsync.filedir.directory import FileDirectory
from idsync.filedir.entries import ANCHOR_CONTROL_OID, OBJECT_CLASS_CONTROL_OID, Outcome
from idsync.filedir.ldif import (
    AddRecord,
    ChangeRecord,
    ContentRecord,
    Control,
    DeleteRecord,
    LdifError,
    LdifRecord,
    LdifWriter,
    ModDnRecord,
    Modification,
    ModifyRecord,
    format_record,
    read_ldif,
    write_ldif,
)

__all__ = [
    "ANCHOR_CONTROL_OID",
    "DEFAULT_BINARY_ATTRIBUTES",
    "DEFAULT_OBJECT_TYPES",
    "DEFAULT_REFERENCE_ATTRIBUTES",
    "OBJECT_CLASS_CONTROL_OID",
    "AddRecord",
    "ChangeRecord",
    "ChangelogTruncatedError",
    "ContentRecord",
    "Control",
    "DeleteRecord",
    "FileConnector",
    "FileDirectory",
    "LdifError",
    "LdifRecord",
    "LdifWriter",
    "ModDnRecord",
    "Modification",
    "ModifyRecord",
    "Outcome",
    "apply_changes",
    "create_connector",
    "default_changes_path",
    "format_record",
    "read_ldif",
    "write_ldif",
]


def apply_changes(
    path: str | os.PathLike[str],
    records: Iterable[ChangeRecord],
    *,
    changes_path: str | os.PathLike[str] | None = None,
    anchor_attribute: str = "entryUUID",
    reference_attributes: Iterable[str] = DEFAULT_REFERENCE_ATTRIBUTES,
    binary_attributes: Iterable[str] = DEFAULT_BINARY_ATTRIBUTES,
    strict: bool = True,
) -> list[Outcome]:
    """Change a file directory: apply ``records`` (each on its own) to the content file at
    ``path`` in one atomic rewrite, and append the applied ones, stamped with their anchor,
    to the changes file (default :func:`default_changes_path`). Adds without an anchor get a
    new uuid4 ``entryUUID``.

    Returns one :class:`Outcome` per record. With ``strict`` (the default) a refused record
    raises ``ObjectError`` after the others were applied.
    """
    path = os.fspath(path)
    log = os.fspath(changes_path) if changes_path is not None else default_changes_path(path)
    if not os.path.exists(path):
        open(path, "ab").close()
    directory = FileDirectory(path, anchor_attribute, frozenset(binary_attributes),
                              frozenset(reference_attributes))
    records = list(records)
    # Always the rewrite (folding any export journal first): the content file stays what a
    # directory server's export would show, for the scripts that read it (generate_churn).
    outcomes = directory.apply(([record] for record in records), log_path=log, compact=True)
    if strict:
        for record, outcome in zip(records, outcomes, strict=True):
            if not outcome.ok:
                raise ObjectError(outcome.error_code or "error",
                                  f"{record.dn}: {outcome.error_detail}")
    return outcomes
