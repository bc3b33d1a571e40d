"""Active Directory's flavor of the connector (see ``idsync.connectors.ldap.flavor``)."""

from __future__ import annotations

from idsync.connectors.ldap.ad.guid import guid_filter_value, guid_to_str
from idsync.connectors.ldap.controls.dirsync import DIRSYNC_OID
from idsync.connectors.ldap.flavor import DirectoryFlavor
from idsync.connectors.ldap.settings import LdapSettings


class ActiveDirectoryFlavor(DirectoryFlavor):
    """objectGUID anchors; big reference attributes read range by range with our window;
    partitions are naming contexts; every DN-valued attribute is kept bound (linked
    attributes, and DN values stored by object)."""

    anchor_attribute = "objectGUID"
    partitions_are_naming_contexts = True
    # Ranged look-ups may interleave searches with a paged one.
    prefetch_pages = False

    def request_attributes(self, names: list[str], settings: LdapSettings) -> list[str]:
        # Ask AD for big reference attributes range by range from the first value on, so the
        # range loop runs with our window even where the server would not force it.
        refs = {r.lower() for r in settings.reference_attributes} - {"manager"}
        step = settings.range_step
        return [f"{n};range=0-{step - 1}" if n.lower() in refs else n for n in names]

    def range_step(self, settings: LdapSettings) -> int | None:
        return settings.range_step

    def anchor_text(self, value: bytes) -> str:
        return guid_to_str(value)

    def anchor_filter_value(self, anchor: str) -> str:
        return guid_filter_value(anchor)

    def change_detection(self, controls: set[str]) -> str:
        return "dirsync" if DIRSYNC_OID in controls else "usn"

    def partition_problem(self) -> str:
        return ("is not a naming context of this Active Directory (a partition is a naming "
                "context such as the domain DN; scope OUs with include_containers)")

    def bound_attributes(self, settings: LdapSettings) -> frozenset[str]:
        return frozenset(settings.reference_attributes)
