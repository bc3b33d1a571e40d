"""The LDAP / Active Directory connector's settings (no python-ldap needed to check them)."""

from __future__ import annotations

from idsync.connectors.settings.schema import ConnectorSchema, Kind, Setting

DEFAULT_OBJECT_TYPES: dict[str, tuple[str, ...]] = {
    "user": ("inetOrgPerson", "user"),
    "group": ("groupOfNames", "groupOfUniqueNames", "group"),
    "contact": ("contact",),
}
STRATEGIES = ("auto", "syncrepl", "accesslog", "dirsync", "usn", "modify_timestamp")
DIRECTORY_TYPES = ("auto", "openldap", "ad", "generic")
DEFAULT_REFERENCE_ATTRIBUTES = ("member", "uniqueMember", "manager", "memberOf", "owner",
                                "secretary", "seeAlso")
BUILTIN_BINARY_ATTRIBUTES = ("objectGUID", "objectSid", "jpegPhoto", "thumbnailPhoto",
                             "userCertificate", "userCertificate;binary", "msExchMailboxGuid",
                             "mS-DS-ConsistencyGuid")
VERIFY_ALWAYS = ("certificates are always verified; set tls_ca_file to trust a private CA")



SCHEMA = ConnectorSchema(
    type="ldap",
    summary="OpenLDAP, Active Directory (Samba AD) or any LDAPv3 directory, through "
            "python-ldap (install with `bash scripts/setup.sh --all` or the `ldap` extra). "
            "Secret: `password` (the bind password).",
    settings=(
        Setting("uri", Kind.URL, "the server: ldap://host:389 or ldaps://host:636",
                required=True, schemes=("ldap", "ldaps")),
        Setting("bind_dn", Kind.TEXT, "DN (or AD user@domain) of the bind account; empty: "
                "anonymous bind", default=""),
        Setting("partitions", Kind.DN_LIST, "the naming contexts to sync (AD: the domain "
                "naming context, e.g. DC=corp,DC=example); checked against the server's root "
                "DSE at the start of each run", required=True, alias="base"),
        Setting("include_containers", Kind.DN_LIST, "only entries under these DNs (OUs); "
                "each must exist under a partition", default=()),
        Setting("exclude_containers", Kind.DN_LIST, "never entries under these DNs", default=()),
        Setting("object_types", Kind.MAPPING, "object type -> object classes, the first type "
                "whose classes match wins", default=DEFAULT_OBJECT_TYPES,
                mapping_values=Kind.NAME_LIST),
        Setting("exclude_object_classes", Kind.NAME_LIST, "entries with any of these classes "
                "are never imported (AD computers are users too)", default=("computer",)),
        Setting("attributes", Kind.NAME_LIST, "attributes to read; default: every user "
                "attribute and memberOf (the rules' attributes when the engine names them)"),
        Setting("reference_attributes", Kind.NAME_LIST, "DN-valued attributes",
                default=DEFAULT_REFERENCE_ATTRIBUTES),
        Setting("integrity_attributes", Kind.NAME_LIST, "reference attributes the directory "
                "keeps bound on deletes and renames; default: every one on AD, member and "
                "memberOf on OpenLDAP, none elsewhere"),
        Setting("binary_attributes", Kind.NAME_LIST, "attributes kept as bytes, added to the "
                "built-in " + ", ".join(BUILTIN_BINARY_ATTRIBUTES), default=()),
        Setting("start_tls", Kind.BOOLEAN, "StartTLS on an ldap:// uri (ldaps:// needs "
                "nothing); the certificate is always verified", default=False),
        Setting("tls_ca_file", Kind.PATH, "PEM file of the CA to trust (default: the "
                "system's trust store)"),
        Setting("directory_type", Kind.TEXT, "anchors and behaviour: auto reads the root "
                "DSE; ad anchors on objectGUID, openldap on entryUUID", default="auto",
                choices=DIRECTORY_TYPES),
        Setting("change_detection", Kind.TEXT, "how Delta Import finds changes; auto: dirsync "
                "(else usn) on AD, syncrepl where RFC 4533 is offered, else modify_timestamp",
                default="auto", choices=STRATEGIES),
        Setting("accesslog_base", Kind.DN, "where change_detection accesslog reads the "
                "OpenLDAP access log", default="cn=accesslog"),
        Setting("page_size", Kind.INTEGER, "entries per paged-results page", default=1000,
                minimum=1, maximum=100000),
        Setting("max_values_per_request", Kind.INTEGER, "values per modify request when "
                "exporting member changes", default=5000, minimum=1, maximum=5000),
        Setting("range_step", Kind.INTEGER, "values asked per range for ranged attributes "
                "(AD's MaxValRange)", default=1500, minimum=1, maximum=100000),
        Setting("timeout", Kind.NUMBER, "network timeout in seconds", default=10.0,
                minimum=0.1, maximum=3600),
    ),
    refused={
        "password": "the bind password is a secret, not a setting: give it as the "
                    "connector's secret 'password'",
        "tls_require_cert": VERIFY_ALWAYS,
        "tls_insecure": VERIFY_ALWAYS,
        "tls_skip_verify": VERIFY_ALWAYS,
    },
    notes="""\
**Partitions and containers on Active Directory.** A partition is a naming context: one of the
values of the root DSE's `namingContexts` (on AD the domain partition `DC=corp,DC=example`, not
an OU). To sync only some OUs, keep the domain partition and list the OUs in
`include_containers`. At the start of every run idsync checks each partition against the root
DSE and each included container for existence, and stops the run with
`stopped-configuration-error` and a one-line message naming the DN when one is wrong.

**DN lists must be quoted YAML.** A value is YAML, and a YAML flow list splits at every comma,
so `--set include_containers=[OU=Sales,DC=corp,DC=example]` is five "DNs". Quote each DN:
`--set 'include_containers=["OU=Sales,DC=corp,DC=example", "OU=IT,DC=corp,DC=example"]'`. One
DN alone may be given as a plain string (`--set partitions=DC=corp,DC=example`). A list holding
a lone `DC=...` piece next to other DNs is refused as a DN split at its commas.

**TLS.** Use `ldaps://host:636`, or `ldap://` with `start_tls=true`. Certificates are always
verified; there is no setting to turn verification off (`tls_require_cert`, `tls_insecure` and
`tls_skip_verify` are refused). Trust a private CA with `tls_ca_file`. A simple bind sends the
password as it is: never bind over plain `ldap://` without `start_tls` outside a lab.

**The bind account.** Give it read access to the partitions (and write access to what idsync
exports to, if anything). For `change_detection: dirsync` on Active Directory (the `auto` choice
there) the account needs the "Replicating Directory Changes" right on the domain partition;
without it the server refuses the DirSync control. `usn` needs only read access (but sees
deletions only through the Deleted Objects container). The password is the connector's secret
`password`, never a setting.
""",
)
