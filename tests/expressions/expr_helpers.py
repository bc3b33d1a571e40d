"""Helpers for the expression tests (a uniquely named module: conftest names collide)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from idsync.expressions import DictContext, compile_expression


def evaluate(
    source: str,
    attributes: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
    imported: dict[str, Any] | None = None,
) -> Any:
    return compile_expression(source)(DictContext(attributes or {}, parameters or {}, imported))


def make_certificate(
    common_name: str,
    not_after: dt.datetime,
    *,
    upn: str | None = None,
    dns: str | None = None,
    email: str | None = None,
) -> bytes:
    """A self-signed DER certificate (EC P-256: quick to generate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    alt: list[x509.GeneralName] = []
    if dns:
        alt.append(x509.DNSName(dns))
    if email:
        alt.append(x509.RFC822Name(email))
    if upn:
        encoded = b"\x0c" + bytes([len(upn.encode())]) + upn.encode()
        alt.append(x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), encoded))
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x1234ABCD)
        .not_valid_before(not_after - dt.timedelta(days=365))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.DER)
