"""The LDAP connector's settings, read once from the connector's settings mapping.

Every key is documented in the package docstring (``idsync.connectors.ldap``). The bind
password is not a setting: it comes from ``secrets["password"]`` and is never kept here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from idsync.errors import ConfigurationError

DEFAULT_OBJECT_TYPES: dict[str, tuple[str, ...]] = {
    "user": ("inetOrgPerson", "user"),
    "group": ("groupOfNames", "groupOfUniqueNames", "group"),
    "contact": ("contact",),
}
STRATEGIES = ("auto", "syncrepl", "accesslog", "dirsync", "usn", "modify_timestamp")
DIRECTORY_TYPES = ("auto", "openldap", "ad", "generic")


@dataclass(frozen=True, slots=True)
class LdapSettings:
    uri: str
    bind_dn: str
    partitions: tuple[str, ...]
    include_containers: tuple[str, ...] = ()
    exclude_containers: tuple[str, ...] = ()
    #: object type -> object classes, checked in order; the first type that matches wins.
    object_types: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_OBJECT_TYPES))
    #: Entries with any of these classes are never imported (AD computers are also ``user``s).
    exclude_object_classes: tuple[str, ...] = ("computer",)
    #: Attributes to read (None: every user attribute plus memberOf).
    attributes: tuple[str, ...] | None = None
    reference_attributes: tuple[str, ...] = ("member", "uniqueMember", "manager", "memberOf",
                                             "owner", "secretary", "seeAlso")
    #: Reference attributes the directory keeps bound to their objects on deletes and renames
    #: (None: by directory type, see ``LdapConnector.integrity_attributes``).
    integrity_attributes: tuple[str, ...] | None = None
    binary_attributes: tuple[str, ...] = ("objectGUID", "objectSid", "jpegPhoto", "thumbnailPhoto",
                                          "userCertificate", "userCertificate;binary",
                                          "msExchMailboxGuid", "mS-DS-ConsistencyGuid")
    start_tls: bool = False
    tls_ca_file: str | None = None
    directory_type: str = "auto"
    change_detection: str = "auto"
    page_size: int = 1000
    timeout: float = 10.0
    accesslog_base: str = "cn=accesslog"
    #: Values per modify request when exporting value-level member changes.
    max_values_per_request: int = 5000
    #: Values asked per range when an attribute comes back ranged (AD's MaxValRange).
    range_step: int = 1500

    @property
    def tls(self) -> bool:
        return self.start_tls or self.uri.lower().startswith("ldaps://")


def _tuple(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(str(v) for v in value)
    raise ConfigurationError(f"ldap setting {key!r} must be a string or a list of strings")


def parse_settings(raw: Mapping[str, Any]) -> LdapSettings:
    """Validate the settings mapping; raise ``ConfigurationError`` with the offending key."""
    uri = str(raw.get("uri") or "")
    if not uri.lower().startswith(("ldap://", "ldaps://")):
        raise ConfigurationError("ldap setting 'uri' must start with ldap:// or ldaps://")
    bind_dn = str(raw.get("bind_dn") or "")
    partitions = _tuple(raw.get("partitions") or raw.get("base"), "partitions")
    if not partitions:
        raise ConfigurationError("ldap setting 'partitions' (or 'base') is required")
    for key in ("tls_require_cert", "tls_insecure", "tls_skip_verify"):
        if key in raw:
            # Verification is not optional; trust a CA file instead (tls_ca_file).
            raise ConfigurationError(f"ldap setting {key!r} is not supported: certificates "
                                     "are always verified; set tls_ca_file to trust a private CA")
    object_types = DEFAULT_OBJECT_TYPES
    if raw.get("object_types") is not None:
        mapping = raw["object_types"]
        if not isinstance(mapping, Mapping) or not mapping:
            raise ConfigurationError("ldap setting 'object_types' must map types to classes")
        object_types = {str(k): _tuple(v, f"object_types.{k}") for k, v in mapping.items()}
    strategy = str(raw.get("change_detection", "auto"))
    if strategy not in STRATEGIES:
        raise ConfigurationError(f"ldap setting 'change_detection' must be one of {STRATEGIES}")
    directory_type = str(raw.get("directory_type", "auto"))
    if directory_type not in DIRECTORY_TYPES:
        raise ConfigurationError(f"ldap setting 'directory_type' must be one of {DIRECTORY_TYPES}")
    page_size = int(raw.get("page_size", 1000))
    max_values = int(raw.get("max_values_per_request", 5000))
    if not 1 <= page_size <= 100000 or not 1 <= max_values <= 5000:
        raise ConfigurationError("ldap settings 'page_size' (1..100000) and "
                                 "'max_values_per_request' (1..5000) are out of range")
    attributes = raw.get("attributes")
    integrity = raw.get("integrity_attributes")
    defaults = LdapSettings(uri="ldap://x", bind_dn="", partitions=("x",))
    return LdapSettings(
        uri=uri, bind_dn=bind_dn, partitions=partitions,
        include_containers=_tuple(raw.get("include_containers"), "include_containers"),
        exclude_containers=_tuple(raw.get("exclude_containers"), "exclude_containers"),
        object_types=dict(object_types),
        exclude_object_classes=_tuple(raw.get("exclude_object_classes",
                                              defaults.exclude_object_classes),
                                      "exclude_object_classes"),
        attributes=None if attributes is None else _tuple(attributes, "attributes"),
        reference_attributes=_tuple(raw.get("reference_attributes",
                                            defaults.reference_attributes),
                                    "reference_attributes"),
        integrity_attributes=None if integrity is None else _tuple(integrity,
                                                                   "integrity_attributes"),
        binary_attributes=defaults.binary_attributes
        + _tuple(raw.get("binary_attributes"), "binary_attributes"),
        start_tls=bool(raw.get("start_tls", False)),
        tls_ca_file=raw.get("tls_ca_file"),
        directory_type=directory_type,
        change_detection=strategy,
        page_size=page_size,
        timeout=float(raw.get("timeout", 10.0)),
        accesslog_base=str(raw.get("accesslog_base", "cn=accesslog")),
        max_values_per_request=max_values,
        range_step=int(raw.get("range_step", 1500)),
    )
