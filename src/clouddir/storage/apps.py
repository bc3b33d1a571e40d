"""App registrations and what the token endpoint keeps: each app's secret hashes and
certificates, the access tokens it issued (hashed, with their expiry) and the client
assertion ids it has seen (refused if replayed while the assertion is valid)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from clouddir.storage.database import Database
from clouddir.storage.records import Tenant


@dataclass(frozen=True, slots=True)
class AppCertificate:
    #: SHA-1 of the DER certificate, upper-case hex (what Entra's portal shows).
    thumbprint: str
    #: The same SHA-1, base64url without padding (a JWT header's ``x5t``).
    x5t: str
    #: SHA-256 of the DER certificate, base64url without padding (``x5t#S256``).
    x5t_s256: str
    pem: str


@dataclass(slots=True)
class App:
    client_id: str
    tenant_id: str
    name: str
    secret_hashes: list[str] = field(default_factory=list)
    certificates: list[AppCertificate] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    tenant: Tenant
    client_id: str
    expires_at: int


class AppRepository(Database):
    def create_app(self, tenant_id: str, name: str, secret_hash: str | None,
                   certificate: AppCertificate | None) -> App:
        app = App(client_id=str(uuid.uuid4()), tenant_id=tenant_id, name=name)
        with self.transaction():
            self._run("INSERT INTO apps (client_id, tenant_id, name) VALUES (?, ?, ?)",
                      (app.client_id, tenant_id, name))
            if secret_hash is not None:
                self._run("INSERT INTO app_secrets (client_id, secret_hash) VALUES (?, ?)",
                          (app.client_id, secret_hash))
                app.secret_hashes.append(secret_hash)
            if certificate is not None:
                self._run("INSERT INTO app_certificates (client_id, thumbprint, x5t, x5t_s256, "
                          "pem) VALUES (?, ?, ?, ?, ?)",
                          (app.client_id, certificate.thumbprint, certificate.x5t,
                           certificate.x5t_s256, certificate.pem))
                app.certificates.append(certificate)
        return app

    def app(self, client_id: str) -> App | None:
        """The app with this client id, whichever tenant holds it."""
        with self.reading():
            row = self._one("SELECT client_id, tenant_id, name FROM apps WHERE client_id = ?",
                            (client_id,))
            if row is None:
                return None
            app = App(client_id=row[0], tenant_id=row[1], name=row[2])
            app.secret_hashes = [r[0] for r in self._rows(
                "SELECT secret_hash FROM app_secrets WHERE client_id = ?", (client_id,))]
            app.certificates = [AppCertificate(*r) for r in self._rows(
                "SELECT thumbprint, x5t, x5t_s256, pem FROM app_certificates "
                "WHERE client_id = ? ORDER BY thumbprint", (client_id,))]
        return app

    def apps_of(self, tenant_id: str) -> list[App]:
        ids = [r[0] for r in self._rows(
            "SELECT client_id FROM apps WHERE tenant_id = ? ORDER BY name, client_id",
            (tenant_id,))]
        return [app for app in map(self.app, ids) if app is not None]

    def save_access_token(self, token_hash: str, tenant_id: str, client_id: str,
                          expires_at: int) -> None:
        self._run("INSERT INTO access_tokens (token_hash, tenant_id, client_id, expires_at) "
                  "VALUES (?, ?, ?, ?)", (token_hash, tenant_id, client_id, expires_at))

    def access_token(self, token_hash: str) -> IssuedToken | None:
        """The issued token with this hash, expired or not (the caller compares the time)."""
        row = self._one("SELECT t.id, t.name, a.client_id, a.expires_at FROM access_tokens a "
                        "JOIN tenants t ON t.id = a.tenant_id WHERE a.token_hash = ?",
                        (token_hash,))
        if row is None:
            return None
        return IssuedToken(Tenant(id=row[0], name=row[1]), row[2], int(row[3]))

    def use_assertion_id(self, client_id: str, jti: str, expires_at: int) -> bool:
        """Record an assertion id; False if it was already recorded (a replay)."""
        row = self._one("INSERT INTO assertion_ids (client_id, jti, expires_at) "
                        "VALUES (?, ?, ?) ON CONFLICT (client_id, jti) DO NOTHING "
                        "RETURNING jti", (client_id, jti, expires_at))
        return row is not None

    def prune_tokens(self, tokens_before: int, assertions_before: int) -> None:
        """Drop access tokens expired before ``tokens_before`` and assertion ids whose
        assertion expired before ``assertions_before`` (seconds since the epoch)."""
        with self.transaction():
            self._run("DELETE FROM access_tokens WHERE expires_at < ?", (tokens_before,))
            self._run("DELETE FROM assertion_ids WHERE expires_at < ?", (assertions_before,))
