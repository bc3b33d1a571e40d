"""The cloud connector: links idsync to a clouddir tenant through the sync API v1 or v2.

Settings: declared in ``idsync.connectors.settings.cloud`` (``idsync connector settings
cloud``). Secrets: ``token``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from idsync.connectors.cloud.connector import CloudConnector, CloudSettings
from idsync.errors import ConfigurationError

__all__ = ["CloudConnector", "CloudSettings", "create_connector"]


def create_connector(name: str, settings: Mapping[str, Any], secrets: Mapping[str, str],
                     workspace: str) -> CloudConnector:
    """The connector factory the registry calls (``workspace`` is not needed: all state
    lives in the engine's watermark)."""
    token = secrets.get("token")
    if not token:
        raise ConfigurationError(f"connector {name!r}: secret 'token' is missing")
    return CloudConnector(name, CloudSettings.parse(settings), token)
