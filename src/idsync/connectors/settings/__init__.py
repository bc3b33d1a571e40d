"""Every connector type's settings schema, importable without the connectors themselves (so a
missing python-ldap does not stop an LDAP connector's settings from being checked).

``validate(type, settings)`` is what ``connector add|set`` and ``config import`` call; the
connectors parse their settings through the same schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from idsync.connectors.settings import cloud, file, ldap
from idsync.connectors.settings import graph as graph_settings
from idsync.connectors.settings.schema import ConnectorSchema, Kind, Setting, SettingError

SCHEMAS: dict[str, ConnectorSchema] = {
    "file": file.SCHEMA,
    "ldap": ldap.SCHEMA,
    "cloud": cloud.SCHEMA,
    "graph": graph_settings.SCHEMA,
}

__all__ = ["SCHEMAS", "ConnectorSchema", "Kind", "Setting", "SettingError", "validate"]


def validate(connector_type: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings checked against the type's schema, defaults filled in."""
    schema = SCHEMAS.get(connector_type)
    if schema is None:
        raise SettingError(f"unknown connector type {connector_type!r}; known types: "
                           + ", ".join(sorted(SCHEMAS)))
    return schema.validate(settings)
