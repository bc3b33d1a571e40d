"""Certificate functions against certificates made on the spot with ``cryptography``."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from cryptography import x509
from expr_helpers import evaluate

from idsync.expressions import ExpressionRuntimeError


@pytest.fixture
def cert(certificates: dict[str, bytes]) -> bytes:
    return certificates["valid"]


def test_identity_fields(cert: bytes) -> None:
    parsed = x509.load_der_x509_certificate(cert)
    one = {"c": cert}
    assert evaluate("CertSubject([c])", one) == "CN=Joe Doe, O=Contoso, C=US"
    assert evaluate("CertSubjectNameDN([c])", one) == "CN=Joe Doe, O=Contoso, C=US"
    assert evaluate("CertIssuer([c])", one) == "CN=Joe Doe, O=Contoso, C=US"
    assert evaluate("CertThumbprint([c])", one) == hashlib.sha1(cert).hexdigest().upper()
    assert evaluate("CertHashString([c])", one) == evaluate("CertThumbprint([c])", one)
    assert evaluate("CertSerialNumber([c])", one) == "1234ABCD"
    assert evaluate("CertVersion([c])", one) == "3"
    assert evaluate("CertFormat([c])", one) == "X509"
    assert evaluate("CertSignatureAlgorithmOid([c])", one) == "1.2.840.10045.4.3.2"
    assert evaluate("CertKeyAlgorithm([c])", one) == "1.2.840.10045.2.1"
    assert evaluate("CertPublicKeyOid([c])", one) == "1.2.840.10045.2.1"
    assert evaluate("CertPublicKeyParametersOid([c])", one) == "1.2.840.10045.3.1.7"  # P-256
    assert evaluate("CertKeyAlgorithmParams([c])", one) == "06082A8648CE3D030107"
    assert evaluate("CertExtensionOids([c])", one) == ["2.5.29.19"]  # critical only
    assert evaluate("CertNotAfter([c])", one) == parsed.not_valid_after_utc
    assert evaluate("CertNotBefore([c])", one) == parsed.not_valid_before_utc
    assert evaluate("CertIssuerOid([c])", one) is None


@pytest.mark.parametrize(
    ("name_type", "expected"),
    [
        ("SimpleName", "Joe Doe"),
        ("EmailName", "joe@mail.contoso.com"),
        ("UpnName", "joe@contoso.com"),
        ("DnsName", "joe.contoso.com"),
        ("DnsFromAlternativeName", "joe.contoso.com"),
        ("UrlName", None),
    ],
)
def test_cert_name_info(cert: bytes, name_type: str, expected: str | None) -> None:
    assert evaluate(f'CertNameInfo([c], "{name_type}", False)', {"c": cert}) == expected


def test_cert_name_info_of_the_issuer(cert: bytes) -> None:
    assert evaluate('CertNameInfo([c], "SimpleName", True)', {"c": cert}) == "Joe Doe"
    assert evaluate('CertNameInfo([c], "DnsFromAlternativeName", True)', {"c": cert}) is None


def test_base64_and_pem_text_are_accepted(cert: bytes) -> None:
    as_base64 = base64.b64encode(cert).decode()
    assert evaluate("IsCert([c])", {"c": as_base64}) is True
    assert evaluate("CertSerialNumber([c])", {"c": as_base64}) == "1234ABCD"


def test_is_cert_and_errors() -> None:
    assert evaluate("IsCert([c])", {"c": b"not a certificate"}) is False
    assert evaluate("IsCert(5)") is False
    with pytest.raises(ExpressionRuntimeError, match=r"not an X\.509 certificate"):
        evaluate("CertSubject([c])", {"c": b"junk"})


def test_multi_valued_certificates_apply_per_value(certificates: dict[str, bytes]) -> None:
    values = [certificates["valid"], certificates["valid2"]]
    result = evaluate("CertNotAfter([c]) > Now()", {"c": values})
    assert result == [True, True]
    expired = certificates["expired"]
    assert evaluate("CertNotAfter([c]) < Now()", {"c": expired}) is True
    assert isinstance(evaluate("CertNotAfter([c])", {"c": expired}), dt.datetime)
