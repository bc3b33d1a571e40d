"""The nouns of the sync pipeline, as the engine holds them in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from idsync.values import Attributes


class PendingImport(StrEnum):
    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"
    #: The object type changed: the old object is removed and a new one added.
    DELETE_ADD = "delete-add"


class ExportKind(StrEnum):
    """What a pending export does to the connected directory's object (also the kind of the
    change a connector exports)."""
    ADD = "add"
    MODIFY = "modify"
    #: Rename or move; the new DN goes with it. May carry attribute changes too.
    RENAME = "rename"
    DELETE = "delete"


class ExportState(StrEnum):
    PENDING = "pending"
    #: sent to the connected directory, awaiting the confirming import
    EXPORTED = "exported"
    #: an outbound rule of the object failed: not exported until its rules succeed and the
    #: next flow stages it again
    HELD = "held"


class Authority(StrEnum):
    """Who writes a connector space object's directory object (``cs_objects.authority``,
    migration 0016): the synchronization, or the cloud (the directory says so on import:
    ``ImportRecord.cloud_managed``), whose objects' pending exports are held until it returns
    (idsync.engine.authority)."""
    SYNC = "sync"
    CLOUD = "cloud"


class Direction(StrEnum):
    """Of a sync rule, and of the link a rule made between a connector space object and its
    metaverse object."""
    INBOUND = "inbound"      # connector space -> metaverse
    OUTBOUND = "outbound"    # metaverse -> connector space


class LinkType(StrEnum):
    """How a connector space object came to be linked to its metaverse object."""
    JOIN = "Join"
    STICKY_JOIN = "StickyJoin"
    PROVISION = "Provision"


class RunProfile(StrEnum):
    FULL_IMPORT = "Full Import"
    DELTA_IMPORT = "Delta Import"
    FULL_SYNC = "Full Synchronization"
    DELTA_SYNC = "Delta Synchronization"
    EXPORT = "Export"

    @classmethod
    def parse(cls, text: str) -> RunProfile:
        key = text.replace("-", " ").replace("_", " ").strip().lower()
        aliases = {
            "full import": cls.FULL_IMPORT, "fi": cls.FULL_IMPORT,
            "delta import": cls.DELTA_IMPORT, "di": cls.DELTA_IMPORT,
            "full synchronization": cls.FULL_SYNC, "full sync": cls.FULL_SYNC,
            "fs": cls.FULL_SYNC,
            "delta synchronization": cls.DELTA_SYNC, "delta sync": cls.DELTA_SYNC,
            "ds": cls.DELTA_SYNC,
            "export": cls.EXPORT, "e": cls.EXPORT,
        }
        if key not in aliases:
            raise ValueError(
                f"unknown run profile {text!r}; use one of: " + ", ".join(p.value for p in cls))
        return aliases[key]


class RunStatus(StrEnum):
    IN_PROGRESS = "in-progress"
    SUCCESS = "success"
    COMPLETED_WARNINGS = "completed-warnings"
    COMPLETED_IMPORT_ERRORS = "completed-import-errors"
    COMPLETED_SYNC_ERRORS = "completed-sync-errors"
    COMPLETED_EXPORT_ERRORS = "completed-export-errors"
    STOPPED_CONNECTIVITY = "stopped-connectivity"
    STOPPED_SERVER = "stopped-server"
    STOPPED_ERROR_LIMIT = "stopped-error-limit"
    STOPPED_DELETION_THRESHOLD = "stopped-deletion-threshold-exceeded"
    #: An import changed one attribute on too many objects (idsync.engine.import_guards).
    STOPPED_ATTRIBUTE_CHANGE_LIMIT = "stopped-attribute-change-limit"
    STOPPED_CONFIGURATION = "stopped-configuration-error"
    STOPPED_STAGING_MODE = "stopped-staging-mode"
    #: another process took the run lock over (this one's lease had expired): the batch in
    #: progress was rolled back
    STOPPED_LOCK_LOST = "stopped-lock-lost"
    #: never started: another run of the connector holds its run lock
    NO_START_CONNECTOR_BUSY = "no-start-connector-busy"


@dataclass(slots=True, kw_only=True)
class ConnectorRecord:
    id: int
    name: str
    type: str
    settings: dict[str, Any]
    secrets: dict[str, str]
    watermark: dict[str, Any] | None
    full_import_required: bool
    full_sync_required: bool
    #: names of stored secrets no key of the workspace opens (idsync.secrets): not in
    #: ``secrets``; a connector built from this record refuses to start
    unreadable_secrets: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class CSObject:
    id: int
    connector_id: int
    anchor: str | None
    dn: str
    object_type: str | None
    placeholder: bool
    attributes: Attributes
    pending_import: PendingImport | None
    mv_id: int | None
    link_type: LinkType | None
    link_rule_id: int | None
    link_direction: Direction | None
    #: Reference values loaded on demand: attr -> set of target CS ids.
    refs: dict[str, set[int]] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class MVObject:
    id: int
    object_type: str
    attributes: Attributes
    #: attr -> {"connector": id, "rule": id, "precedence": n}
    lineage: dict[str, dict[str, Any]]
    #: attr -> set of target MV ids.
    refs: dict[str, set[int]] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class PendingExport:
    cs_id: int
    connector_id: int
    kind: ExportKind
    new_dn: str | None
    attributes: Attributes
    state: ExportState
    attempts: int
    ref_adds: dict[str, set[int]] = field(default_factory=dict)
    ref_removes: dict[str, set[int]] = field(default_factory=dict)
