"""Checking the configured scope against the server at the start of a run: every partition is
a naming context (Active Directory) or an entry under one (other servers), and every included
or excluded container exists. A wrong DN (a typo, an OU given as a partition, a DN list split
at its commas) stops the run with one line naming it, instead of a raw NO_SUCH_OBJECT in the
middle of an import."""

from __future__ import annotations

from typing import Any

import ldap
from idsync.connectors.ldap.connection import describe
from idsync.connectors.ldap.flavor import DirectoryFlavor
from idsync.connectors.ldap.scope import dn_key, is_under
from idsync.connectors.ldap.settings import LdapSettings
from idsync.errors import ConfigurationError

SEE = "see `idsync connector settings ldap`"


def naming_contexts(root_dse: dict[str, list[bytes]]) -> list[str]:
    for key, values in root_dse.items():
        if key.lower() == "namingcontexts":
            return [v.decode("utf-8", "replace") for v in values]
    return []


def check_scope(conn: Any, settings: LdapSettings, root_dse: dict[str, list[bytes]],
                *, flavor: DirectoryFlavor, connector: str) -> None:
    """Raise ConfigurationError naming the first partition or container that is wrong."""
    contexts = naming_contexts(root_dse)
    keys = {dn_key(c) for c in contexts}
    listed = ", ".join(contexts) or "none"
    for partition in settings.partitions:
        if dn_key(partition) in keys:
            continue
        if contexts and (flavor.partitions_are_naming_contexts
                         or not any(is_under(partition, c) for c in contexts)):
            what = flavor.partition_problem()
            raise ConfigurationError(
                f"connector {connector}: partition {partition!r} {what}; naming contexts: "
                f"{listed} ({SEE})")
        _must_exist(conn, partition, "partition", connector)
    for container in settings.include_containers:
        if not any(is_under(container, p) for p in settings.partitions):
            # The full import would silently skip it (Scope.search_bases).
            raise ConfigurationError(
                f"connector {connector}: include_containers {container!r} is under none of "
                f"the partitions ({', '.join(settings.partitions)}) ({SEE})")
        _must_exist(conn, container, "include_containers", connector)


def _must_exist(conn: Any, dn: str, what: str, connector: str) -> None:
    try:
        conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"])
    except ldap.NO_SUCH_OBJECT:
        raise ConfigurationError(
            f"connector {connector}: {what} {dn!r} does not exist on the server (check the "
            f"DN's spelling; quote each DN in a YAML list; {SEE})") from None
    except ldap.INVALID_DN_SYNTAX:
        raise ConfigurationError(
            f"connector {connector}: {what} {dn!r} is not a valid DN ({SEE})") from None
    except (ldap.INSUFFICIENT_ACCESS, ldap.NO_SUCH_ATTRIBUTE) as error:
        raise ConfigurationError(
            f"connector {connector}: the bind account cannot read {what} {dn!r} "
            f"({describe(error)}); grant it read access") from None
