"""Credentials sent in clear: an LDAP bind password over plain ``ldap://`` without StartTLS,
a cloud token over ``http://``. Warned by ``idsync doctor`` and when such a connector is added.

Loopback addresses are exempt: traffic to 127.0.0.1 or ::1 does not leave the host (the demo
and the test servers run there).
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from idsync.model import ConnectorRecord


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cleartext_warning(type_: str, settings: Mapping[str, Any],
                      secrets: Mapping[str, str]) -> str | None:
    """One line saying which credential goes over the network in clear and what to do, or
    None when nothing does."""
    if type_ == "ldap":
        uri = str(settings.get("uri") or "")
        host = _host(uri)
        if (uri.lower().startswith("ldap://") and not bool(settings.get("start_tls"))
                and (secrets.get("password") or settings.get("bind_dn"))
                and not is_loopback(host)):
            return (f"the bind password goes to {host} in clear over ldap:// (anyone on the "
                    "network can read it): use an ldaps:// uri or set start_tls=true")
    elif type_ == "cloud":
        url = str(settings.get("url") or "")
        host = _host(url)
        if url.lower().startswith("http://") and secrets.get("token") and not is_loopback(host):
            return (f"the token goes to {host} in clear over http:// (anyone on the network "
                    "can read and reuse it): use an https:// url")
    return None


def warn_cleartext(record: ConnectorRecord) -> None:
    """``connector add``'s hook: the warning on stderr; the connector is still added."""
    warning = cleartext_warning(record.type, record.settings, record.secrets)
    if warning:
        print(f"warning: connector {record.name}: {warning}", file=sys.stderr)


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None
