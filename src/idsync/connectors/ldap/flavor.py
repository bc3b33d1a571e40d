"""What differs between kinds of directory server where the connector reads and checks them:
the anchor attribute and its text form, how big reference attributes are read, which change
detection a server offers, which partitions are valid and which reference attributes the
server keeps bound to their objects. The reader and the connector ask the flavor instead of
testing the directory type; Active Directory's flavor lives in the ``ad`` package."""

from __future__ import annotations

import ldap.filter

from idsync.connectors.ldap.settings import LdapSettings

#: The LDAP Content Synchronization control (RFC 4533, syncrepl).
SYNC_OID = "1.3.6.1.4.1.4203.1.9.1.1"
#: What OpenLDAP's memberof overlay keeps bound with ``olcMemberOfRefInt: TRUE``.
OPENLDAP_BOUND = ("member", "memberOf")


class DirectoryFlavor:
    """A standards LDAP server (389, ApacheDS...): ``entryUUID`` anchors, ranges paced by the
    server, no reference attribute kept bound to its object."""

    anchor_attribute = "entryUUID"
    #: Partitions must be naming contexts themselves, not entries under one.
    partitions_are_naming_contexts = False
    #: Prefetch the next page of a paged search while this one is converted.
    prefetch_pages = True

    def request_attributes(self, names: list[str], settings: LdapSettings) -> list[str]:
        """The attribute list of a search, as the server should get it."""
        return names

    def range_step(self, settings: LdapSettings) -> int | None:
        """The window of ranged retrieval (None: as the server sends it)."""
        return None

    def anchor_text(self, value: bytes) -> str:
        return value.decode("ascii")

    def anchor_filter_value(self, anchor: str) -> str:
        return str(ldap.filter.escape_filter_chars(anchor))

    def change_detection(self, controls: set[str]) -> str:
        """The change detection ``auto`` means, given the root DSE's supported controls."""
        return "syncrepl" if SYNC_OID in controls else "modify_timestamp"

    def partition_problem(self) -> str:
        """Why a partition that is not a naming context is refused."""
        return "is under none of the server's naming contexts"

    def bound_attributes(self, settings: LdapSettings) -> frozenset[str]:
        """Reference attributes the server keeps bound to their objects (see
        ``LdapConnector.integrity_attributes``)."""
        return frozenset()


class OpenLdapFlavor(DirectoryFlavor):
    """OpenLDAP: the memberof overlay with its refint option (the usual setup, and the demo's)
    binds ``member`` and ``memberOf``."""

    def bound_attributes(self, settings: LdapSettings) -> frozenset[str]:
        return frozenset(OPENLDAP_BOUND)
