"""The certificate a TLS server presents, read without verifying it, so ``idsync doctor`` can
say *why* a TLS connection fails (expired) or will soon fail (expiring), instead of the TLS
library's "can't contact the server".

LDAP StartTLS is spoken by hand (one ExtendedRequest, RFC 4511 4.14): python-ldap does not
hand out the peer certificate.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl

from cryptography import x509

from idsync.administration.doctor_check import FAIL, OK, WARN, Status

#: A certificate expiring sooner than this is a warning.
EXPIRY_WARNING = dt.timedelta(days=30)
_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"
# LDAPMessage { messageID 1, ExtendedRequest { [0] requestName } } in BER.
_STARTTLS_REQUEST = (bytes([0x30, 5 + 2 + len(_STARTTLS_OID), 0x02, 0x01, 0x01,
                            0x77, 2 + len(_STARTTLS_OID), 0x80, len(_STARTTLS_OID)])
                     + _STARTTLS_OID)


class CertificateUnavailable(Exception):
    pass


def server_certificate(host: str, port: int, *, starttls: bool = False,
                       timeout: float = 5.0) -> x509.Certificate:
    """The leaf certificate ``host:port`` presents (``starttls``: an LDAP server on its plain
    port, upgraded first)."""
    context = ssl.create_default_context()
    # Only reading what the server presents; the connector itself always verifies.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            if starttls:
                raw.sendall(_STARTTLS_REQUEST)
                answer = raw.recv(4096)
                if not _starttls_accepted(answer):
                    raise CertificateUnavailable("the server refused StartTLS")
            with context.wrap_socket(raw, server_hostname=host) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateUnavailable(str(exc) or type(exc).__name__) from None
    if not der:
        raise CertificateUnavailable("the server presented no certificate")
    return x509.load_der_x509_certificate(der)


def _starttls_accepted(answer: bytes) -> bool:
    """LDAPMessage { messageID, ExtendedResponse (0x78) { resultCode success, ... } }."""
    def skip_length(at: int) -> int:  # BER length: short form, or 0x8N and N bytes
        return at + 1 + (answer[at] & 0x7F if answer[at] & 0x80 else 0)

    try:
        at = skip_length(1) if answer[0] == 0x30 else -1
        if at < 0 or answer[at] != 0x02:
            return False
        at += 2 + answer[at + 1]  # messageID
        if answer[at] != 0x78:
            return False
        at = skip_length(at + 1)
        return answer[at:at + 3] == b"\x0a\x01\x00"
    except IndexError:
        return False


def expiry_status(cert: x509.Certificate, when: dt.datetime | None = None
                  ) -> tuple[Status, str]:
    """OK / WARN (expires within EXPIRY_WARNING) / FAIL (expired or not yet valid)."""
    when = when or dt.datetime.now(dt.UTC)
    after, before = cert.not_valid_after_utc, cert.not_valid_before_utc
    subject = cert.subject.rfc4514_string() or "(no subject)"
    if after < when:
        return FAIL, (f"the server certificate ({subject}) expired on {after:%Y-%m-%d %H:%M} "
                      "UTC: TLS connections fail; renew it on the server")
    if before > when:
        return FAIL, (f"the server certificate ({subject}) is valid only from "
                      f"{before:%Y-%m-%d %H:%M} UTC: check the server's clock or certificate")
    if after - when < EXPIRY_WARNING:
        days = (after - when).days
        return WARN, (f"the server certificate ({subject}) expires on {after:%Y-%m-%d %H:%M} "
                      f"UTC, in {days} day(s): renew it before then")
    return OK, f"server certificate valid until {after:%Y-%m-%d}"
