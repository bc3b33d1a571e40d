"""Certificate functions (Cert*, IsCert) over DER or Base64 X.509 data, via ``cryptography``.

Names follow .NET's X509Certificate2 (the rules' origin): DNs print most specific first with
", " between parts, hashes and serial numbers as upper-case hex.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import functools
import hashlib
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID, NameOID

from idsync.expressions.errors import ExpressionRuntimeError
from idsync.expressions.functions.registry import function, mismatch, want_bool, want_str
from idsync.expressions.values import EnumWord

_UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


@functools.lru_cache(maxsize=4096)
def _load(raw: bytes) -> x509.Certificate | None:
    # Rules call several Cert* functions on the same userCertificate values: parse once.
    try:
        return x509.load_der_x509_certificate(raw)
    except ValueError:
        pass
    if raw.lstrip().startswith(b"-----BEGIN"):
        try:
            return x509.load_pem_x509_certificate(raw)
        except ValueError:
            return None
    try:
        return x509.load_der_x509_certificate(
            base64.b64decode(b"".join(raw.split()), validate=True)
        )
    except (ValueError, binascii.Error):
        return None


def _raw(fn: str, value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str) and not isinstance(value, EnumWord):
        return value.encode("ascii", "ignore")
    raise mismatch(fn, "certificate", "binary (DER) or a Base64 string", value)


def _cert(fn: str, value: Any) -> x509.Certificate:
    cert = _load(_raw(fn, value))
    if cert is None:
        raise ExpressionRuntimeError(f"{fn}: the value is not an X.509 certificate")
    return cert


def _dn(name: x509.Name) -> str:
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(name.rdns))


def _cert_fn(name: str, extract: Any) -> None:
    def impl(value: Any) -> Any:
        return None if value is None else extract(_cert(name, value))

    impl.__name__ = name
    impl.__module__ = __name__
    function(name, 1)(impl)


def _spki(cert: x509.Certificate) -> tuple[str, bytes]:
    """Algorithm OID and DER parameters of the subject public key (.NET's key algorithm)."""
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, body, _ = _tlv(der, 0)  # SubjectPublicKeyInfo SEQUENCE
    _, algorithm, _ = _tlv(der, body)  # AlgorithmIdentifier SEQUENCE
    tag, oid_start, oid_end = _tlv(der, algorithm)
    if tag != 0x06:
        raise ExpressionRuntimeError("malformed public key algorithm identifier")
    params_end = _tlv(der, body)[2]
    return _oid(der[oid_start:oid_end]), der[oid_end:params_end]


def _tlv(der: bytes, at: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``at``."""
    tag, length = der[at], der[at + 1]
    start = at + 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(der[start : start + size], "big")
        start += size
    return tag, start, start + length


def _oid(body: bytes) -> str:
    first, value, parts = body[0], 0, []
    parts.extend([min(first // 40, 2), first - 40 * min(first // 40, 2)])
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _public_key_parameters_oid(cert: x509.Certificate) -> str:
    algorithm, params = _spki(cert)
    # EC keys name their curve by OID in the parameters; RSA's are NULL, so .NET reports the
    # algorithm's own OID.
    if params[:1] == b"\x06":
        _, start, end = _tlv(params, 0)
        return _oid(params[start:end])
    return algorithm


def _utc(value: _dt.datetime) -> _dt.datetime:
    # The reference says "local time"; an aware UTC datetime is the same instant and compares
    # correctly with Now().
    return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)


def _not_after(cert: x509.Certificate) -> _dt.datetime:
    return _utc(getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after)


def _not_before(cert: x509.Certificate) -> _dt.datetime:
    return _utc(getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before)


def _critical_extension_oids(cert: x509.Certificate) -> list[str] | None:
    oids = [ext.oid.dotted_string for ext in cert.extensions if ext.critical]
    return oids or None


_cert_fn("CertExtensionOids", _critical_extension_oids)
_cert_fn("CertFormat", lambda c: "X509")
_cert_fn("CertFriendlyName", lambda c: "")  # DER carries no friendly name (a store property)
_cert_fn(
    "CertHashString",
    lambda c: hashlib.sha1(c.public_bytes(serialization.Encoding.DER)).hexdigest().upper(),
)
_cert_fn("CertIssuer", lambda c: _dn(c.issuer))
_cert_fn("CertIssuerDN", lambda c: _dn(c.issuer))
_cert_fn("CertIssuerOid", lambda c: None)  # an X.500 name has no OID of its own: NULL, as .NET
_cert_fn("CertKeyAlgorithm", lambda c: _spki(c)[0])
_cert_fn("CertKeyAlgorithmParams", lambda c: _spki(c)[1].hex().upper())
_cert_fn("CertNotAfter", _not_after)
_cert_fn("CertNotBefore", _not_before)
_cert_fn("CertPublicKeyOid", lambda c: _spki(c)[0])
_cert_fn("CertPublicKeyParametersOid", _public_key_parameters_oid)
_cert_fn("CertSerialNumber", lambda c: f"{c.serial_number:X}".rjust(2, "0"))
_cert_fn("CertSignatureAlgorithmOid", lambda c: c.signature_algorithm_oid.dotted_string)
_cert_fn("CertSubject", lambda c: _dn(c.subject))
_cert_fn("CertSubjectNameDN", lambda c: _dn(c.subject))
_cert_fn("CertSubjectNameOid", lambda c: None)
_cert_fn(
    "CertThumbprint",
    lambda c: hashlib.sha1(c.public_bytes(serialization.Encoding.DER)).hexdigest().upper(),
)
_cert_fn("CertVersion", lambda c: str(c.version.value + 1))


@function("IsCert", 1)
def is_cert(value: Any) -> bool:
    if not isinstance(value, (bytes, bytearray, str)) or isinstance(value, EnumWord):
        return False
    return _load(_raw("IsCert", value)) is not None


_NAME_TYPES = ("SimpleName", "EmailName", "UpnName", "DnsName", "DnsFromAlternativeName", "UrlName")


@function("CertNameInfo", 3)
def cert_name_info(value: Any, name_type: Any, issuer: Any) -> str | None:
    if value is None:
        return None
    cert = _cert("CertNameInfo", value)
    kind = want_str("CertNameInfo", name_type, "x509NameType")
    if kind not in _NAME_TYPES:
        raise ExpressionRuntimeError(
            f"CertNameInfo: x509NameType must be one of {', '.join(_NAME_TYPES)}, got {kind!r}"
        )
    of_issuer = want_bool("CertNameInfo", issuer, "includesIssuerName")
    name = cert.issuer if of_issuer else cert.subject
    alt_oid = (
        ExtensionOID.ISSUER_ALTERNATIVE_NAME if of_issuer else ExtensionOID.SUBJECT_ALTERNATIVE_NAME
    )
    try:
        alt = cert.extensions.get_extension_for_oid(alt_oid).value
    except x509.ExtensionNotFound:
        alt = None
    return _name_info(kind, name, alt)


def _name_info(kind: str, name: x509.Name, alt: Any) -> str | None:
    def attr(oid: x509.ObjectIdentifier) -> str | None:
        found = name.get_attributes_for_oid(oid)
        return str(found[0].value) if found else None

    def alt_values(general_type: Any) -> list[Any]:
        return list(alt.get_values_for_type(general_type)) if alt is not None else []

    if kind == "SimpleName":
        for oid in (
            NameOID.COMMON_NAME,
            NameOID.ORGANIZATIONAL_UNIT_NAME,
            NameOID.ORGANIZATION_NAME,
            NameOID.EMAIL_ADDRESS,
        ):
            if (found := attr(oid)) is not None:
                return found
        return None
    if kind == "EmailName":
        emails = alt_values(x509.RFC822Name)
        return attr(NameOID.EMAIL_ADDRESS) or (emails[0] if emails else None)
    if kind == "UpnName":
        for other in alt_values(x509.OtherName):
            if other.type_id == _UPN_OID:
                return _der_string(other.value)
        return None
    if kind in ("DnsName", "DnsFromAlternativeName"):
        dns = alt_values(x509.DNSName)
        if dns:
            return dns[0]
        return attr(NameOID.COMMON_NAME) if kind == "DnsName" else None
    uris = alt_values(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def _der_string(der: bytes) -> str | None:
    tag, start, end = _tlv(der, 0)
    if tag == 0xA0:  # explicit [0] wrapper
        return _der_string(der[start:end])
    if tag in (0x0C, 0x13, 0x16, 0x1E):
        return der[start:end].decode("utf-16-be" if tag == 0x1E else "utf-8", "replace")
    return None
