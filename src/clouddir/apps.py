"""App registrations: a client id, secrets (random, shown once, stored as SHA-256 like the
tenants' tokens) and certificates (the public PEM and its thumbprints)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from clouddir.auth import hash_token
from clouddir.storage import Store
from clouddir.storage.apps import App, AppCertificate


class BadCertificate(ValueError):
    """A certificate file clouddir cannot register (not PEM, not RSA)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_secret() -> str:
    # Entra's secrets are 40 characters with a "~" after a 3-character hint; the shape does
    # not matter to clients, the entropy (240 bits) does.
    return secrets.token_urlsafe(30)


def certificate_of(pem: bytes) -> AppCertificate:
    """The certificate a PEM file holds, with its thumbprints. Only RSA keys: Entra signs
    and checks client assertions with RS256 (or PS256)."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise BadCertificate("not a PEM X.509 certificate") from exc
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise BadCertificate("the certificate's key is not RSA (client assertions are RS256)")
    der = cert.public_bytes(serialization.Encoding.DER)
    sha1 = cert.fingerprint(hashes.SHA1())  # x5t is SHA-1 by definition
    return AppCertificate(thumbprint=sha1.hex().upper(), x5t=b64url(sha1),
                          x5t_s256=b64url(hashlib.sha256(der).digest()),
                          pem=cert.public_bytes(serialization.Encoding.PEM).decode())


def create_app(store: Store, tenant_id: str, name: str, with_secret: bool,
               certificate_pem: bytes | None) -> tuple[App, str | None]:
    """Register an app; returns it and its secret (None without one), shown only now."""
    certificate = certificate_of(certificate_pem) if certificate_pem is not None else None
    secret = new_secret() if with_secret else None
    app = store.create_app(tenant_id, name, hash_token(secret) if secret else None,
                           certificate)
    return app, secret


def secret_matches(app: App, secret: str) -> bool:
    digest = hash_token(secret)
    # Every stored hash compared, in constant time each.
    return any([hmac.compare_digest(digest, known) for known in app.secret_hashes])
