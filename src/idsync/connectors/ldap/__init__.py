"""The LDAP / Active Directory connector (python-ldap).

Its settings (every key, kind, default and meaning) are declared once in
``idsync.connectors.settings.ldap``, which checks them when they are set and prints them as
``idsync connector settings ldap`` (docs/settings.md). The bind password is
``secrets["password"]``: never a setting, never printed, logged or stored with the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from idsync.connectors.ldap.change_detection import WatermarkExpired
from idsync.connectors.ldap.connector import LdapConnector
from idsync.connectors.ldap.settings import LdapSettings, parse_settings
from idsync.errors import ConfigurationError

__all__ = ["LdapConnector", "LdapSettings", "WatermarkExpired", "create_connector"]


def create_connector(name: str, settings: Mapping[str, Any], secrets: Mapping[str, str],
                     workspace: str) -> LdapConnector:
    """Build the connector (no network traffic until first use)."""
    if "password" in settings:
        raise ConfigurationError("the LDAP bind password belongs in secrets, not settings")
    parsed = parse_settings(settings)
    password = secrets.get("password", "")
    if parsed.bind_dn and not password:
        # A simple bind with a DN and no password is an unauthenticated bind that succeeds
        # on many servers and then reads nothing: refuse it up front.
        raise ConfigurationError(f"connector {name}: no password for bind DN {parsed.bind_dn!r}"
                                 " (secrets['password'])")
    return LdapConnector(name, parsed, password, workspace)
