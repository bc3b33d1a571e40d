"""The LDAP connector's settings, parsed once through the ldap schema
(``idsync.connectors.settings.ldap``: every key, its kind, default and description). The bind
password is not a setting: it comes from ``secrets["password"]`` and is never kept here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from idsync.connectors.settings import SCHEMAS
from idsync.connectors.settings.ldap import (
    BUILTIN_BINARY_ATTRIBUTES,
    DEFAULT_OBJECT_TYPES,
    DEFAULT_REFERENCE_ATTRIBUTES,
    DIRECTORY_TYPES,
    STRATEGIES,
)

__all__ = ["DEFAULT_OBJECT_TYPES", "DIRECTORY_TYPES", "STRATEGIES", "LdapSettings",
           "parse_settings"]


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
    reference_attributes: tuple[str, ...] = DEFAULT_REFERENCE_ATTRIBUTES
    #: Reference attributes the directory keeps bound to their objects on deletes and renames
    #: (None: by directory type, see ``LdapConnector.integrity_attributes``).
    integrity_attributes: tuple[str, ...] | None = None
    binary_attributes: tuple[str, ...] = BUILTIN_BINARY_ATTRIBUTES
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


def parse_settings(raw: Mapping[str, Any]) -> LdapSettings:
    """Validate the settings mapping against the ldap schema; raise ``SettingError`` (a
    ``ConfigurationError``) naming the offending key."""
    values = SCHEMAS["ldap"].validate(raw)
    values["object_types"] = dict(values["object_types"])
    values["timeout"] = float(values["timeout"])
    values["binary_attributes"] = BUILTIN_BINARY_ATTRIBUTES + tuple(values["binary_attributes"])
    return LdapSettings(**values)
