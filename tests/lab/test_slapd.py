"""The slapd harness itself: starts, loads by slapadd, serves TLS, stops."""

from __future__ import annotations

import pytest

from idsync.lab.ldapdata import DirectoryShape, generate
from idsync.lab.slapd import SlapdServer

pytestmark = pytest.mark.slapd


def test_fresh_server_has_base_entries_and_overlays(slapd: SlapdServer) -> None:
    dns = {dn for dn, _ in slapd.search(slapd.base_dn, scope="one")}
    assert dns == {f"ou=People,{slapd.base_dn}", f"ou=Groups,{slapd.base_dn}"}
    slapd.add(f"uid=x,ou=People,{slapd.base_dn}",
              {"objectClass": "inetOrgPerson", "uid": "x", "cn": "X", "sn": "Y"})
    slapd.add(f"cn=g,ou=Groups,{slapd.base_dn}",
              {"objectClass": "groupOfNames", "cn": "g",
               "member": f"uid=x,ou=People,{slapd.base_dn}"})
    (_, user), = slapd.search(slapd.base_dn, "(uid=x)", attrs=["memberOf"])
    assert user["memberOf"] == [f"cn=g,ou=Groups,{slapd.base_dn}".encode()]  # memberof overlay
    log = slapd.search("cn=accesslog", "(reqType=add)", attrs=["reqDN"])
    assert len(log) == 2  # accesslog overlay


def test_slapadd_bulk_load_and_stop(slapd_factory) -> None:  # type: ignore[no-untyped-def]
    shape = DirectoryShape(users=50, groups=3)
    server = slapd_factory(ldif="".join(generate(shape)))
    assert len(server.search(server.base_dn, "(objectClass=inetOrgPerson)", attrs=["1.1"])) == 50
    pid_dir = server.dir
    server.stop()
    assert not server.running
    assert pid_dir.exists()


def test_tls_server_offers_ldaps_with_throwaway_ca(slapd_tls: SlapdServer) -> None:
    import ldap

    conn = ldap.initialize(slapd_tls.ldaps_uri)
    conn.set_option(ldap.OPT_X_TLS_CACERTFILE, slapd_tls.ca_file)
    conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
    conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    conn.simple_bind_s(slapd_tls.bind_dn, slapd_tls.password)
    assert conn.whoami_s() == f"dn:{slapd_tls.bind_dn}"


def test_session_server_is_shared_and_speaks_start_tls(slapd_session: SlapdServer) -> None:
    import ldap

    conn = ldap.initialize(slapd_session.uri)
    conn.set_option(ldap.OPT_X_TLS_CACERTFILE, slapd_session.ca_file)
    conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
    conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    conn.start_tls_s()
    conn.simple_bind_s(slapd_session.bind_dn, slapd_session.password)
    assert conn.whoami_s() == f"dn:{slapd_session.bind_dn}"
