"""The LDAP / Active Directory connector (python-ldap).

Settings (the connector's settings mapping; the bind password is ``secrets["password"]`` and is
never printed, logged or stored with the settings):

``uri``                     ``ldap://host:389`` or ``ldaps://host:636`` (required)
``bind_dn``                 DN (or AD ``user@domain``) for the simple bind
``partitions`` / ``base``   naming context(s) to sync (required; AD: the domain NC)
``include_containers``      only entries under these DNs (default: the whole partitions)
``exclude_containers``      never entries under these DNs
``object_types``            type -> object classes, first match wins. Default
                            ``user: [inetOrgPerson, user]``, ``group: [groupOfNames,
                            groupOfUniqueNames, group]``, ``contact: [contact]``
``exclude_object_classes``  never import these classes (default ``[computer]``)
``attributes``              attributes to read (default ``*`` and ``memberOf``; the rules'
                            attributes when the engine names them)
``reference_attributes``    DN-valued attributes (default member, uniqueMember, manager, ...)
``integrity_attributes``    reference attributes the directory keeps bound to their objects
                            on deletes and renames (refint); default: every one on AD,
                            member and memberOf on OpenLDAP (memberof overlay), none else
``binary_attributes``       extra attributes kept as bytes (objectGUID, objectSid... built in)
``start_tls``               true: StartTLS on ``ldap://`` (ldaps:// needs nothing)
``tls_ca_file``             PEM file of the CA to trust. Certificates are always verified;
                            there is no option to skip verification.
``directory_type``          auto (from the root DSE) | openldap | ad | generic. Anchors:
                            entryUUID (OpenLDAP), objectGUID as a GUID string (AD)
``change_detection``        auto | syncrepl | accesslog | dirsync | usn | modify_timestamp.
                            auto: dirsync (else usn) on AD, syncrepl on servers with RFC 4533,
                            else modify_timestamp
``accesslog_base``          default ``cn=accesslog``
``page_size``               paged results page size (default 1000)
``max_values_per_request``  values per export modify request (default and maximum 5000)
``range_step``              values per range for ranged retrieval (default 1500)
``timeout``                 network timeout in seconds (default 10)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from idsync.connectors.ldap.change_detection import WatermarkExpired
from idsync.connectors.ldap.connector import LdapConnector
from idsync.connectors.ldap.settings import LdapSettings, parse_settings
from idsync.errors import ConfigurationError

__all__ = ["LdapConnector", "LdapSettings", "WatermarkExpired", "create_connector"]


def create_connector(name: str, settings: Mapping[str, Any], secrets: Mapping[str, str],
                     workspace: str) -> LdapConnector:
    """Build the connector (no network traffic until first use)."""
    if "password" in settings:
        raise ConfigurationError("the LDAP bind password belongs in secrets, not settings")
    parsed = parse_settings(settings)
    password = secrets.get("password", "")
    if parsed.bind_dn and not password:
        # A simple bind with a DN and no password is an unauthenticated bind that succeeds
        # on many servers and then reads nothing: refuse it up front.
        raise ConfigurationError(f"connector {name}: no password for bind DN {parsed.bind_dn!r}"
                                 " (secrets['password'])")
    return LdapConnector(name, parsed, password, workspace)
