"""Opening a bound python-ldap connection: StartTLS or ldaps:// with verification, simple bind.

Certificates are always verified (``OPT_X_TLS_DEMAND``); a private CA is trusted by naming its
file in ``tls_ca_file``. A failed bind, an unreachable server or a TLS failure raises
``ConnectivityError``; the message names the server and the bind DN, never the password.
"""

from __future__ import annotations

from typing import Any

import ldap.ldapobject

import ldap
from idsync.connectors.ldap.oplog import log_operations
from idsync.connectors.ldap.settings import LdapSettings
from idsync.errors import ConnectivityError

_CONNECTIVITY_ERRORS = (ldap.SERVER_DOWN, ldap.CONNECT_ERROR, ldap.TIMEOUT,
                        ldap.INVALID_CREDENTIALS, ldap.INAPPROPRIATE_AUTH, ldap.UNAVAILABLE,
                        ldap.STRONG_AUTH_REQUIRED, ldap.CONFIDENTIALITY_REQUIRED, ldap.BUSY,
                        ldap.UNWILLING_TO_PERFORM)


def describe(error: ldap.LDAPError) -> str:
    """``desc: info`` from a python-ldap error (its args[0] is a dict)."""
    info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    desc = info.get("desc") or type(error).__name__
    extra = info.get("info")
    return f"{desc}: {extra}" if extra else str(desc)


def result_code(error: ldap.LDAPError) -> int | None:
    info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    code = info.get("result")
    return int(code) if code is not None else None


def open_connection(settings: LdapSettings, password: str, cls: type | None = None) -> Any:
    """A bound python-ldap connection (``cls``: an LDAPObject subclass such as a syncrepl
    consumer), ready for searches."""
    try:
        conn = log_operations((cls or ldap.ldapobject.LDAPObject)(settings.uri, bytes_mode=False))
        conn.protocol_version = 3
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, settings.timeout)
        conn.set_option(ldap.OPT_TIMEOUT, max(settings.timeout, 60.0))
        if settings.tls:
            conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
            if settings.tls_ca_file:
                conn.set_option(ldap.OPT_X_TLS_CACERTFILE, settings.tls_ca_file)
            conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # must come last: applies the options
        if settings.start_tls and not settings.uri.lower().startswith("ldaps://"):
            conn.start_tls_s()
        conn.simple_bind_s(settings.bind_dn, password)
    except ldap.INVALID_CREDENTIALS as error:
        raise ConnectivityError(f"cannot bind to {settings.uri} as {settings.bind_dn!r}: "
                                f"{describe(error)}; check the connector's bind_dn and its "
                                "password secret") from None
    except (ldap.STRONG_AUTH_REQUIRED, ldap.CONFIDENTIALITY_REQUIRED) as error:
        raise ConnectivityError(f"cannot bind to {settings.uri} as {settings.bind_dn!r}: "
                                f"{describe(error)}; the server wants TLS: use an ldaps:// uri "
                                "or set start_tls=true") from None
    except _CONNECTIVITY_ERRORS as error:
        raise ConnectivityError(f"cannot bind to {settings.uri} as {settings.bind_dn!r}: "
                                f"{describe(error)}") from None
    except ldap.LDAPError as error:
        raise ConnectivityError(f"cannot connect to {settings.uri}: {describe(error)}") from None
    return conn
