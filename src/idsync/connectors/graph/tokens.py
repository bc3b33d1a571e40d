"""Access tokens for Microsoft Graph from MSAL (client credentials, with a client secret or a
certificate): MSAL's in-memory cache serves ``token()`` and renews the token before it
expires; ``renew()`` forces a new one after the API refused the cached one (401).

No hand-written OAuth: the token request, the client assertion and the cache are MSAL's. This
module only builds the application (an HTTP session that trusts ``ca_file`` and ignores the
environment's proxy and CA settings, which would override it) and turns MSAL's failures into
one clear line (ConfigurationError: a setting to fix; ConnectivityError: try again later)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import msal  # type: ignore[import-untyped]  # msal ships no type hints
import requests
from cryptography.hazmat.primitives import serialization

from idsync.errors import ConfigurationError, ConnectivityError

#: Errors of the token endpoint that a setting fixes (client id, secret, certificate, tenant,
#: scope); any other error is taken as the service's, for a later run.
_SETTINGS_ERRORS = {
    "invalid_client": "client_id and the client secret or certificate (key and thumbprint)",
    "unauthorized_client": "client_id and tenant_id (the app must be registered in the tenant)",
    "invalid_scope": "scope (a resource followed by /.default)",
    "invalid_resource": "scope (a resource followed by /.default)",
    "invalid_tenant": "tenant_id and authority",
    "invalid_request": "tenant_id, authority and client_id",
    "unsupported_grant_type": "authority (it must be an Entra-shaped token service)",
}
#: A renew() this soon after the previous one returns that token: several requests refused
#: together (401) must not each fetch a new token.
RENEW_SETTLE_SECONDS = 2.0


class _CountingSession(requests.Session):
    """The HTTP session MSAL uses, counting the token requests (``post``) it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.token_requests = 0

    def post(self, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        self.token_requests += 1
        return super().post(url, *args, **kwargs)


def _one_line(text: str) -> str:
    """An Entra error description without its trace and correlation ids, on one line."""
    text = " ".join(str(text).split())
    return text.split(" Trace ID:")[0].strip()


class MsalTokens:
    """Tokens of one app registration for one scope, from MSAL's confidential client."""

    def __init__(self, tenant_id: str, client_id: str, authority: str, scope: str, *,
                 client_secret: str | None = None, certificate_key: str | None = None,
                 certificate_thumbprint: str | None = None, ca_file: str | Path | None = None,
                 timeout: float = 60.0) -> None:
        if client_secret and (certificate_key or certificate_thumbprint):
            raise ConfigurationError("give the Graph app a client secret or a certificate "
                                     "(private key and thumbprint), not both")
        if not client_secret and not (certificate_key and certificate_thumbprint):
            raise ConfigurationError("the Graph app needs a client secret, or a certificate's "
                                     "private key (PEM) and its thumbprint")
        if certificate_key:
            _check_certificate(certificate_key, certificate_thumbprint or "")
        if not authority.lower().startswith("https://"):
            raise ConfigurationError(f"authority {authority!r} must be an https:// URL (MSAL "
                                     "talks to token services over TLS only)")
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.authority = f"{authority.rstrip('/')}/{tenant_id}"
        self.scope = scope
        self._credential: str | dict[str, str] = (
            client_secret if client_secret else
            {"private_key": certificate_key or "",
             "thumbprint": (certificate_thumbprint or "").replace(":", "")})
        self._timeout = timeout
        self._session = _CountingSession()
        self._session.verify = str(ca_file) if ca_file else True
        # REQUESTS_CA_BUNDLE and proxy variables would override ``verify`` and send the
        # requests elsewhere: the settings are the only source.
        self._session.trust_env = False
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()
        self._renewed_at = 0.0

    def __repr__(self) -> str:
        kind = "secret" if isinstance(self._credential, str) else "certificate"
        return (f"MsalTokens(authority={self.authority!r}, client_id={self.client_id!r}, "
                f"scope={self.scope!r}, credential={kind})")

    @property
    def token_requests(self) -> int:
        """Token requests sent to the token endpoint so far (not the cache's answers)."""
        return self._session.token_requests

    def token(self) -> str:
        """A valid access token: MSAL's cached one, or a new one when it is about to expire."""
        with self._lock:
            return self._acquire()

    def renew(self) -> str:
        """A new access token (the API refused the cached one)."""
        with self._lock:
            if time.monotonic() - self._renewed_at >= RENEW_SETTLE_SECONDS:
                self._application().remove_tokens_for_client()
            token = self._acquire()
            self._renewed_at = time.monotonic()
            return token

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            self._app = self._call(lambda: msal.ConfidentialClientApplication(
                self.client_id, client_credential=self._credential, authority=self.authority,
                instance_discovery=False, http_client=self._session,
                token_cache=msal.TokenCache(), timeout=self._timeout))
        return self._app

    def _acquire(self) -> str:
        app = self._application()
        result = self._call(lambda: app.acquire_token_for_client(scopes=[self.scope]))
        if isinstance(result, dict) and result.get("access_token"):
            return str(result["access_token"])
        raise self._refusal(result if isinstance(result, dict) else {})

    def _refusal(self, result: dict[str, Any]) -> Exception:
        error = str(result.get("error") or "no_token")
        description = _one_line(result.get("error_description") or "no access token in the "
                                "answer")
        where = f"the token endpoint of {self.authority}"
        if error in _SETTINGS_ERRORS:
            return ConfigurationError(f"{where} refused app {self.client_id}: {description} "
                                      f"(check the connector's {_SETTINGS_ERRORS[error]})")
        return ConnectivityError(f"{where} gave no token to app {self.client_id}: {error}: "
                                 f"{description}")

    def _call(self, action: Any) -> Any:
        """Run an MSAL call, its transport and configuration failures as idsync's errors."""
        try:
            return action()
        except requests.exceptions.SSLError as exc:
            raise ConnectivityError(f"cannot verify the TLS certificate of {self.authority} "
                                    "(check ca_file, the CA that signed it): "
                                    f"{_reason(exc)}") from exc
        except requests.exceptions.RequestException as exc:
            raise ConnectivityError(f"cannot reach the authority {self.authority}: "
                                    f"{_reason(exc)}") from exc
        except ValueError as exc:
            # MSAL's word for an authority whose OpenID configuration it cannot read.
            raise ConfigurationError(f"MSAL cannot use the authority {self.authority}: "
                                     f"{_one_line(str(exc)).split('. ')[0]} (check authority "
                                     "and tenant_id)") from exc


def _check_certificate(key_pem: str, thumbprint: str) -> None:
    """A readable private key and a SHA-1 thumbprint, refused now rather than by MSAL later
    (whose messages would not say which setting is wrong)."""
    try:
        serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError("the Graph app's certificate key is not an unencrypted PEM "
                                 "private key") from exc
    hex_digits = thumbprint.replace(":", "")
    if len(hex_digits) != 40 or any(c not in "0123456789abcdefABCDEF" for c in hex_digits):
        raise ConfigurationError("the Graph app's certificate thumbprint must be its SHA-1 "
                                 "thumbprint, 40 hex digits (`clouddir app create` and Entra's "
                                 "portal show it)")


def _reason(exc: Exception) -> str:
    """The innermost cause of a requests failure, one line (urllib3's texts nest)."""
    cause: BaseException = exc
    while cause.__cause__ is not None or (cause.args and isinstance(cause.args[0],
                                                                    BaseException)):
        cause = cause.__cause__ or cause.args[0]
    return _one_line(str(cause))[:300]
