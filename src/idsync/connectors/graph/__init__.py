"""The graph connector: links idsync to a Microsoft Entra ID tenant (or clouddir) through
Microsoft Graph, with tokens from MSAL.

Settings: declared in ``idsync.connectors.settings.graph`` (``idsync connector settings
graph``). Secrets: ``client_secret``, or ``certificate_key`` with ``certificate_thumbprint``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from idsync.connectors.graph.client import GraphClient, TokenSource
from idsync.connectors.graph.config import GraphSettings
from idsync.connectors.graph.connector import GraphConnector
from idsync.connectors.graph.errors import DeltaTokenExpired, GraphApiError
from idsync.connectors.graph.tokens import MsalTokens
from idsync.connectors.settings.graph import check_credentials

__all__ = ["DeltaTokenExpired", "GraphApiError", "GraphClient", "GraphConnector",
           "GraphSettings", "create_connector", "msal_tokens"]


def create_connector(name: str, settings: Mapping[str, Any], secrets: Mapping[str, str],
                     workspace: str) -> GraphConnector:
    """The connector factory the registry calls (``workspace`` is not needed: all state
    lives in the engine's watermark). Refuses neither or both credentials."""
    parsed = GraphSettings.parse(settings)
    check_credentials(name, secrets)
    return GraphConnector(name, parsed, msal_tokens(parsed, secrets))


def msal_tokens(settings: GraphSettings, secrets: Mapping[str, str]) -> TokenSource:
    """The app's tokens from MSAL (client credentials, MSAL's cache, renewed before expiry)."""
    return MsalTokens(settings.tenant_id, settings.client_id, settings.authority,
                            settings.scope, client_secret=secrets.get("client_secret") or None,
                            certificate_key=secrets.get("certificate_key") or None,
                            certificate_thumbprint=secrets.get("certificate_thumbprint")
                            or None, ca_file=settings.tls_ca_file, timeout=settings.timeout)
