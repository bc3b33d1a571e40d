"""The cn=config LDIF of the private slapd (see ``idsync.lab.slapd``).

Kept apart from the process handling because it is the part people read to learn what the
test directory looks like: mdb for the suffix and for ``cn=accesslog``, overlays memberof,
syncprov (session log, so refreshOnly syncrepl reports deletes) and accesslog.

``member`` is not indexed by default: on a modify that deletes a value, back-mdb (2.5) deletes
the removed values' index keys and then re-adds the keys of every remaining value (hashed
keys may collide), so one member removed from a 250,000-member group hashed and re-put
250,000 keys (~0.5 s; ~0.05 s without the index). A user's delete removes it from its groups
through memberof's refint, so this decided how long L's churn took. ``memberOf`` (how clients
find a user's groups) stays indexed. ``sortvals`` and ``multival`` are there to measure, off by
default: neither bought anything on that case (bench/slapd_churn.py).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from idsync.lab.tls import TlsMaterial

MAX_SIZE = 10 * 1024**3  # mdb map size: a sparse file, so 10 GiB costs nothing


def ssha(password: str) -> str:
    # {SSHA} is salted SHA-1 by definition (what slappasswd writes).
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def config_ldif(*, workdir: Path, suffix: str, root_dn: str, password: str, accesslog: bool,
                module_dir: str, schema_dir: str, tls: TlsMaterial | None,
                sessionlog: int, sortvals: Sequence[str] = (), multival: str = "",
                member_index: bool = False) -> str:
    pw_hash = ssha(password)
    peer = f"gidNumber={os.getgid()}+uidNumber={os.getuid()},cn=peercred,cn=external,cn=auth"
    tls_attrs = ""
    if tls is not None:
        tls_attrs = (f"olcTLSCACertificateFile: {tls.ca_file}\n"
                     f"olcTLSCertificateFile: {tls.cert_file}\n"
                     f"olcTLSCertificateKeyFile: {tls.key_file}\n")
    sortvals_attr = f"olcSortVals: {' '.join(sortvals)}\n" if sortvals else ""
    multival_attr = f"olcDbMultival: {multival}\n" if multival else ""
    parts = [f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {workdir}/slapd.pid
olcArgsFile: {workdir}/slapd.args
olcLogLevel: none
olcToolThreads: 2
olcThreads: 16
{tls_attrs}
dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {module_dir}
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: syncprov
olcModuleLoad: accesslog

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://{schema_dir}/core.ldif
include: file://{schema_dir}/cosine.ldif
include: file://{schema_dir}/inetorgperson.ldif
include: file://{schema_dir}/nis.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: unlimited
{sortvals_attr}
dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcRootDN: cn=config
olcAccess: to * by dn.exact={peer} manage by * break
"""]
    db = 1
    if accesslog:
        db = 2
        parts.append(f"""
dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: cn=accesslog
olcDbDirectory: {workdir}/accesslog
olcDbMaxSize: {MAX_SIZE}
olcRootDN: {root_dn}
olcDbIndex: default eq
olcDbIndex: entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN
olcDbNoSync: TRUE
olcSizeLimit: unlimited
olcAccess: to * by dn.exact="{root_dn}" read by * none

dn: olcOverlay={{0}}syncprov,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {{0}}syncprov
olcSpNoPresent: TRUE
olcSpReloadHint: TRUE
""")
    parts.append(f"""
dn: olcDatabase={{{db}}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{{db}}}mdb
olcSuffix: {suffix}
olcDbDirectory: {workdir}/data
olcDbMaxSize: {MAX_SIZE}
olcRootDN: {root_dn}
olcRootPW: {pw_hash}
olcSizeLimit: unlimited
olcLimits: dn.exact="{root_dn}" size=unlimited time=unlimited
olcDbIndex: objectClass eq
olcDbIndex: uid,mail,cn,employeeNumber eq
olcDbIndex: {'member,memberOf' if member_index else 'memberOf'} eq
olcDbIndex: entryCSN,entryUUID eq
olcDbIndex: modifyTimestamp eq
olcDbNoSync: TRUE
{multival_attr}olcAccess: to attrs=userPassword by self write by anonymous auth by * none
olcAccess: to * by dn.exact={peer} manage by * read

dn: olcOverlay={{0}}memberof,olcDatabase={{{db}}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {{0}}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={{1}}syncprov,olcDatabase={{{db}}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {{1}}syncprov
olcSpCheckpoint: 100 10
olcSpSessionLog: {sessionlog}
""")
    if accesslog:
        parts.append(f"""
dn: olcOverlay={{2}}accesslog,olcDatabase={{{db}}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcAccessLogConfig
olcOverlay: {{2}}accesslog
olcAccessLogDB: cn=accesslog
olcAccessLogOps: writes
olcAccessLogSuccess: TRUE
olcAccessLogPurge: 07+00:00 01+00:00
""")
    return "".join(parts)
