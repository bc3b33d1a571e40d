"""``idsync doctor``'s look at an LDAP connector, step by step so each failure is named: the
server reachable, its certificate in date, the bind accepted, every partition present, the
included containers present and inside a partition, and the scope holding objects of the
configured types (an empty scope on a connector that holds objects would make the next full
import stage a delete for every one of them)."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from idsync.administration.certificates import (
    CertificateUnavailable,
    expiry_status,
    server_certificate,
)
from idsync.administration.doctor_check import FAIL, OK, WARN, Check, advice
from idsync.errors import IdsyncError

#: Entries read to learn whether the scope holds anything once excluded containers are out.
SCOPE_SAMPLE = 200


def ldap_checks(name: str, raw_settings: Mapping[str, Any], password: str,
                cs_objects: int) -> list[Check]:
    """The checks of one LDAP connector, stopping at the first step that fails."""
    try:
        import ldap  # only where an LDAP connector exists: python-ldap is an optional package
    except ImportError:
        return [Check(f"connector {name}", FAIL, "ldap: python-ldap is not installed on this "
                      "host: install it (bash scripts/setup.sh --all)")]

    from idsync.connectors.ldap.connection import describe, open_connection
    from idsync.connectors.ldap.scope import Scope, is_under
    from idsync.connectors.ldap.settings import parse_settings

    title = f"connector {name}"
    try:
        settings = parse_settings(raw_settings)
    except IdsyncError as exc:
        return [Check(title, FAIL, f"ldap: {exc}")]
    parts = urlsplit(settings.uri)
    ldaps = settings.uri.lower().startswith("ldaps://")
    host, port = parts.hostname or "localhost", parts.port or (636 if ldaps else 389)
    out: list[Check] = []
    try:
        socket.create_connection((host, port), timeout=min(settings.timeout, 5.0)).close()
    except OSError as exc:
        return [Check(title, FAIL, f"ldap: cannot reach {host}:{port} "
                      f"({exc.strerror or exc}): start the server or correct the uri "
                      f"({advice('set_uri', connector=name)})")]
    if settings.tls:
        try:
            cert = server_certificate(host, port, starttls=not ldaps,
                                      timeout=min(settings.timeout, 5.0))
        except CertificateUnavailable as exc:
            out.append(Check(f"certificate {name}", FAIL,
                             f"no TLS with {host}:{port} ({exc}): check the server's TLS setup"
                             + ("" if ldaps else " or its StartTLS support")))
            return [Check(title, FAIL, "ldap: TLS cannot be set up"), *out]
        status, detail = expiry_status(cert)
        out.append(Check(f"certificate {name}", status, detail))
        if status is FAIL:
            return [Check(title, FAIL, "ldap: TLS fails, see the certificate line"), *out]
    try:
        conn = open_connection(settings, password)
    except IdsyncError as exc:
        text = str(exc)
        if "Invalid credentials" in text:
            detail = (f"ldap: {host} refused the bind as {settings.bind_dn!r} (wrong DN or "
                      f"password): correct bind_dn ({advice('set_bind_dn', connector=name)}) "
                      f"or the password secret ({advice('set_secret_help')})")
        elif "onfidentiality required" in text or "tronger authentication" in text:
            detail = (f"ldap: {host} requires TLS for this bind: use an ldaps:// uri or "
                      f"{advice('set_start_tls', connector=name)}")
        else:
            detail = f"ldap: {text}"
        return [Check(title, FAIL, detail), *out]
    try:
        if not settings.bind_dn:
            out.insert(0, Check(f"bind {name}", WARN,
                                "binds anonymously: an anonymous bind usually sees few or no "
                                "objects; set the sync account "
                                f"({advice('set_bind_dn', connector=name)})"))
        missing = [p for p in settings.partitions if not _exists(conn, ldap, p)]
        if missing:
            contexts = _naming_contexts(conn, ldap)
            return [Check(title, FAIL,
                          f"ldap: partition {', '.join(missing)} does not exist on {host} (or "
                          f"the bind account cannot see it); the server's naming contexts: "
                          f"{', '.join(contexts) or 'none listed'}: correct partitions "
                          f"({advice('set_partitions', connector=name)})"), *out]
        out.insert(0, Check(title, OK, f"ldap: {host}:{port} reachable, bound as "
                            f"{settings.bind_dn or 'anonymous'}, partitions exist"))
        outside = [c for c in settings.include_containers
                   if not any(is_under(c, p) for p in settings.partitions)]
        absent = [c for c in settings.include_containers
                  if c not in outside and not _exists(conn, ldap, c)]
        if outside or absent:
            what = "; ".join(
                ([f"{', '.join(outside)} not inside any partition"] if outside else [])
                + ([f"{', '.join(absent)} does not exist"] if absent else []))
            out.append(Check(f"scope {name}", FAIL,
                             f"include_containers: {what}: nothing there is imported; correct "
                             f"them ({advice('set_containers', connector=name)})"))
            return out
        scope = Scope(settings)
        found = _sample_in_scope(conn, ldap, scope)
        bases = ", ".join(scope.search_bases())
        if found:
            out.append(Check(f"scope {name}", OK, f"objects of the configured types under "
                             f"{bases}"))
        elif cs_objects:
            out.append(Check(f"scope {name}", FAIL,
                             f"no object of the configured types under {bases}, but the "
                             f"connector space holds {cs_objects}: a full import would stage "
                             f"a delete for each; correct partitions or include_containers "
                             f"({advice('set_partitions', connector=name)})"))
        else:
            out.append(Check(f"scope {name}", WARN,
                             f"no object of the configured types under {bases} (object "
                             f"classes {scope.class_filter()}): check partitions, "
                             "include_containers and object_types "
                             f"({advice('show', connector=name)})"))
        return out
    except ldap.LDAPError as exc:
        return [*out, Check(f"scope {name}", FAIL, f"ldap: a search failed: {describe(exc)}")]
    finally:
        conn.unbind_s()


def _exists(conn: Any, ldap: Any, dn: str) -> bool:
    try:
        return bool(conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"]))
    except (ldap.NO_SUCH_OBJECT, ldap.INVALID_DN_SYNTAX):
        return False


def _naming_contexts(conn: Any, ldap: Any) -> list[str]:
    try:
        found = conn.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["namingContexts"])
    except ldap.LDAPError:
        return []
    values = found[0][1].get("namingContexts", []) if found else []
    return [v.decode("utf-8", "replace") for v in values]


def _sample_in_scope(conn: Any, ldap: Any, scope: Any) -> bool:
    """Whether the scope holds at least one object of a configured type (at most
    SCOPE_SAMPLE entries read per search base)."""
    for base in scope.search_bases():
        msgid = conn.search_ext(base, ldap.SCOPE_SUBTREE, scope.class_filter(), ["1.1"],
                                sizelimit=SCOPE_SAMPLE)
        try:
            while True:
                kind, entries, _, _ = conn.result3(msgid, all=0)
                if any(dn and scope.contains_dn(dn) for dn, _ in entries or []):
                    conn.abandon(msgid)
                    return True
                if kind == ldap.RES_SEARCH_RESULT:
                    break
        except ldap.SIZELIMIT_EXCEEDED:
            continue
    return False
