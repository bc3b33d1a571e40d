"""A client assertion (RFC 7523, as Entra checks it): a JWT signed with the key of one of the
app's registered certificates, named by its ``x5t`` (SHA-1) or ``x5t#S256`` header; ``aud`` the
token endpoint, ``iss`` and ``sub`` the client id, within ``nbf``/``exp`` (5 minutes of clock
skew, as Entra allows), with a ``jti``; with ``refuse_replay``, a ``jti`` never seen while the
assertion is valid. (MSAL sends one assertion again for 9 minutes, and Entra takes it: the
replay check is a server limit, off by default.)"""

from __future__ import annotations

from typing import Any

import jwt
from cryptography import x509

from clouddir.oauth_errors import OAuthError, invalid_assertion
from clouddir.storage import Store
from clouddir.storage.apps import App, AppCertificate

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The algorithms Entra takes for client assertions (MSAL signs RS256 with a SHA-1
#: thumbprint, PS256 with a SHA-256 one).
ALGORITHMS = ("RS256", "PS256")
CLOCK_SKEW = 300
#: The longest an assertion may be valid, so its replay record is kept a bounded time.
MAX_ASSERTION_LIFETIME = 86_400


def _malformed(detail: str) -> OAuthError:
    return invalid_assertion(50027, f"JWT token is invalid or malformed: {detail}.")


def _certificate(app: App, header: dict[str, Any]) -> AppCertificate:
    # MSAL pads its base64url thumbprints ("="), JOSE does not: compare without padding.
    x5t, x5t_s256 = (str(header.get(name) or "").rstrip("=") for name in ("x5t", "x5t#S256"))
    for cert in app.certificates:
        if (x5t_s256 and x5t_s256 == cert.x5t_s256) or (x5t and x5t == cert.x5t):
            return cert
    if not (x5t or x5t_s256):
        raise _malformed("the header names no certificate (x5t or x5t#S256)")
    raise invalid_assertion(700027, "The certificate with identifier used to sign the client "
                            f"assertion is not registered on application. [Reason - The key "
                            f"was not found., Thumbprint of key used by client: "
                            f"'{x5t_s256 or x5t}']")


def check_assertion(store: Store, app: App, assertion: str, token_endpoint: str,
                    now: float, refuse_replay: bool) -> None:
    """Raise ``OAuthError`` unless ``assertion`` authenticates ``app`` at ``token_endpoint``."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError as exc:
        raise _malformed(str(exc).rstrip(".")) from exc
    if header.get("alg") not in ALGORITHMS:
        raise _malformed(f"the algorithm {header.get('alg')!r} is not one of "
                         f"{', '.join(ALGORITHMS)}")
    cert = _certificate(app, header)
    key = x509.load_pem_x509_certificate(cert.pem.encode()).public_key()
    try:
        claims = jwt.decode(assertion, key,  # type: ignore[arg-type]
                            algorithms=[header["alg"]], audience=token_endpoint,
                            leeway=CLOCK_SKEW,
                            options={"require": ["exp", "aud", "iss", "sub", "jti"]})
    except jwt.InvalidSignatureError as exc:
        raise invalid_assertion(700027, "Client assertion failed signature validation.") from exc
    except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError) as exc:
        raise invalid_assertion(700024, "Client assertion is not within its valid time "
                                "range.") from exc
    except jwt.InvalidAudienceError as exc:
        raise invalid_assertion(50013, "Assertion failed: the audience claim is not the "
                                f"token endpoint {token_endpoint}.") from exc
    except jwt.PyJWTError as exc:
        raise _malformed(str(exc).rstrip(".")) from exc
    if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
        raise invalid_assertion(700021, "Client assertion application identifier doesn't "
                                "match 'client_id' parameter.")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 256 or "\x00" in jti:
        raise _malformed("the jti claim is not a string of 1 to 256 characters")
    expires = int(claims["exp"])
    if expires - now > MAX_ASSERTION_LIFETIME:
        raise invalid_assertion(700024, "Client assertion is not within its valid time range: "
                                "it is valid for more than a day.")
    if refuse_replay and not store.use_assertion_id(app.client_id, jti,
                                                    expires + CLOCK_SKEW):
        raise invalid_assertion(50013, "Assertion failed: the client assertion's jti was "
                                "used before (a replayed assertion).")
