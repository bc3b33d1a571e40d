"""The file connector's settings (a directory kept in LDIF files)."""

from __future__ import annotations

from idsync.connectors.settings.schema import ConnectorSchema, Kind, Setting

DEFAULT_OBJECT_TYPES: dict[str, str] = {
    "inetOrgPerson": "user",
    "person": "user",
    "user": "user",
    "groupOfNames": "group",
    "group": "group",
    "contact": "contact",
    "organizationalPerson": "user",
}
DEFAULT_REFERENCE_ATTRIBUTES = ("member", "manager", "managedBy", "secretary", "owner")
DEFAULT_BINARY_ATTRIBUTES = ("objectGUID", "objectSid", "jpegPhoto", "userCertificate")

SCHEMA = ConnectorSchema(
    type="file",
    summary="A directory kept in LDIF files (RFC 2849), so idsync runs with no server. "
            "Relative paths are relative to the workspace. No secrets.",
    settings=(
        Setting("path", Kind.PATH, "the content file: the directory's current state, read by "
                "Full Import", required=True),
        Setting("changes_path", Kind.PATH, "LDIF change records appended by whoever changes "
                "the directory; Delta Import reads them (default: <path> with .changes.ldif)"),
        Setting("export_log", Kind.PATH, "every export is also appended here"),
        Setting("anchor_attribute", Kind.TEXT, "the attribute holding each entry's anchor",
                default="entryUUID"),
        Setting("object_types", Kind.MAPPING, "objectClass -> object type",
                default=DEFAULT_OBJECT_TYPES),
        Setting("reference_attributes", Kind.NAME_LIST, "DN-valued attributes",
                default=DEFAULT_REFERENCE_ATTRIBUTES),
        Setting("binary_attributes", Kind.NAME_LIST, "attributes kept as bytes",
                default=DEFAULT_BINARY_ATTRIBUTES),
        Setting("integrity_attributes", Kind.NAME_LIST, "reference attributes whoever edits "
                "the files keeps bound to their objects on deletes and renames", default=()),
        Setting("create_if_missing", Kind.BOOLEAN, "create an empty content file when there is "
                "none", default=False),
        Setting("allow_file_urls_under", Kind.ABSOLUTE_DIRECTORY, "LDIF values given as "
                "file: URLs are read only from under this directory; default: every URL value "
                "is refused"),
    ),
    refused={},
)
