"""Connection: bind failures, unreachable servers, TLS with verification (real slapd)."""

from __future__ import annotations

import pytest
from tests.ldap.helpers import connector, full

from idsync.connectors.base import ImportContext
from idsync.connectors.ldap import create_connector
from idsync.errors import ConfigurationError, ConnectivityError
from idsync.lab.slapd import SlapdServer, free_port
from idsync.lab.tls import make_ca

pytestmark = pytest.mark.slapd


def test_wrong_password_raises_connectivity_error_without_the_password(slapd: SlapdServer
                                                                       ) -> None:
    conn = create_connector("corp", slapd.connector_settings(), {"password": "not-the-pw-42"},
                            "/nonexistent")
    with pytest.raises(ConnectivityError) as caught:
        full(conn)
    assert "Invalid credentials" in str(caught.value)
    assert "not-the-pw-42" not in str(caught.value)
    assert "not-the-pw-42" not in repr(conn)


def test_unreachable_server_raises_connectivity_error() -> None:
    conn = create_connector("corp", {"uri": f"ldap://127.0.0.1:{free_port()}",
                                     "bind_dn": "cn=admin,dc=example,dc=com",
                                     "base": "dc=example,dc=com", "timeout": 2},
                            {"password": "x"}, "/nonexistent")
    with pytest.raises(ConnectivityError, match=r"127\.0\.0\.1"):
        conn.test_connection()


def test_good_bind_passes_connection_test(slapd: SlapdServer) -> None:
    connector(slapd).test_connection()


def test_ldaps_with_trusted_ca(slapd_tls: SlapdServer) -> None:
    conn = connector(slapd_tls, uri=slapd_tls.ldaps_uri)
    assert conn.directory_type() == "openldap"
    assert full(conn)[-1].watermark is not None


def test_start_tls_with_trusted_ca(slapd_tls: SlapdServer) -> None:
    conn = connector(slapd_tls, start_tls=True)
    conn.test_connection()
    assert conn.reader().conn.whoami_s() == f"dn:{slapd_tls.bind_dn}"


@pytest.mark.parametrize("mode", ["ldaps", "start_tls"])
def test_untrusted_certificate_is_refused(slapd_tls: SlapdServer, tmp_path, mode: str) -> None:  # type: ignore[no-untyped-def]
    other_ca, _, _ = make_ca(tmp_path / "other", "some other CA")
    settings = {"tls_ca_file": str(other_ca)}
    if mode == "ldaps":
        settings["uri"] = slapd_tls.ldaps_uri  # type: ignore[assignment]
    else:
        settings["start_tls"] = True  # type: ignore[assignment]
    conn = connector(slapd_tls, **settings)
    with pytest.raises(ConnectivityError):
        conn.test_connection()


def test_verification_cannot_be_switched_off(slapd_tls: SlapdServer) -> None:
    with pytest.raises(ConfigurationError, match="always verified"):
        connector(slapd_tls, tls_require_cert="never")
    with pytest.raises(ConfigurationError, match="secrets"):
        create_connector("corp", slapd_tls.connector_settings(password="x"), {}, "/x")


def test_bind_dn_without_password_is_refused(slapd: SlapdServer) -> None:
    with pytest.raises(ConfigurationError, match="no password"):
        create_connector("corp", slapd.connector_settings(), {}, "/x")


def test_sample_directory_for_the_demo() -> None:
    from idsync.lab.sample import sample_directory

    server = sample_directory(users=40, groups=3)
    try:
        got = [r for b in connector(server).full_import(
            ImportContext(None))
            for r in b.records]
        assert sum(r.object_type == "user" for r in got) == 40
        assert sum(r.object_type == "group" for r in got) == 3
    finally:
        server.close()


def test_start_tls_against_a_server_without_tls_fails_instead_of_going_plain(
        slapd: SlapdServer) -> None:
    conn = connector(slapd, start_tls=True)
    with pytest.raises(ConnectivityError):
        conn.test_connection()
