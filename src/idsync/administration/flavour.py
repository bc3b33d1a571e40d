"""Which out-of-box flavour an on-premises connector needs, told by the connector itself.

The flavour decides the source anchor (``objectGUID`` or ``entryUUID``) and the account names
(``sAMAccountName`` or ``uid``/``cn``): the wrong one gives every object a sourceAnchor that
matches nothing in the cloud, and the next cycle stages the whole cloud for deletion. So the
flavour is never a silent default:

* an LDAP connector: the server's root DSE (Active Directory advertises the capability
  1.2.840.113556.1.4.800 and ``forestFunctionality``; OpenLDAP's root DSE has the object class
  ``OpenLDAProotDSE``); when the server cannot be asked, the connector's ``directory_type``
  setting if it names one (the connector reads its anchors by it);
* a file connector: its ``anchor_attribute`` (``objectGUID`` or ``entryUUID``).
"""

from __future__ import annotations

from dataclasses import dataclass

from idsync.connectors import registry
from idsync.errors import ConfigurationError, IdsyncError
from idsync.model import ConnectorRecord

ANCHOR_FLAVOURS = {"objectguid": "ad", "entryuuid": "openldap"}
SETTING_FLAVOURS = {"ad": "ad", "openldap": "openldap"}


@dataclass(frozen=True, slots=True)
class Detection:
    """``flavour`` None: undetectable, and ``how`` says why."""

    flavour: str | None
    how: str


def detect_flavour(record: ConnectorRecord, workspace: str | None) -> Detection:
    """The flavour connector ``record`` needs, and how it was told. ``workspace`` None: no
    server is asked (settings only)."""
    settings = record.settings or {}
    if record.type == "file":
        anchor = str(settings.get("anchor_attribute", "entryUUID"))
        flavour = ANCHOR_FLAVOURS.get(anchor.lower())
        if flavour is None:
            return Detection(None, f"file connector {record.name!r} anchors on {anchor!r}, "
                                   "neither objectGUID (ad) nor entryUUID (openldap)")
        return Detection(flavour, f"file connector {record.name!r} anchors on {anchor}")
    if record.type != "ldap":
        return Detection(None, f"connector {record.name!r} is of type {record.type!r}, not an "
                               "on-premises directory (ldap or file)")
    setting = str(settings.get("directory_type", "auto")).lower()
    uri = settings.get("uri", "?")
    unreachable = "no server was asked"
    if workspace is not None:
        try:
            server = _server_type(record, workspace)
        except IdsyncError as exc:
            unreachable = f"the server could not be asked ({exc})"
        else:
            if server == "ad":
                return Detection("ad", f"the root DSE of {uri} is Active Directory's")
            if server == "openldap":
                return Detection("openldap",
                                 f"the root DSE of {uri} is OpenLDAP's (OpenLDAProotDSE)")
            unreachable = f"the root DSE of {uri} is neither Active Directory's nor OpenLDAP's"
    if setting in SETTING_FLAVOURS:
        return Detection(SETTING_FLAVOURS[setting],
                         f"connector {record.name!r} has directory_type {setting} "
                         f"({unreachable})")
    return Detection(None, unreachable)


def _server_type(record: ConnectorRecord, workspace: str) -> str:
    instance = registry.create(record, workspace)
    try:
        return str(instance.server_type())  # type: ignore[attr-defined]
    finally:
        instance.close()


def choose_flavour(record: ConnectorRecord, asked: str | None, detected: Detection) -> str:
    """The flavour to install: the detected one; ``asked`` must agree with it. Undetectable:
    ``asked`` (given on purpose), else refused."""
    if detected.flavour is None:
        if asked is None:
            raise ConfigurationError(
                f"cannot tell whether {record.name!r} is Active Directory or OpenLDAP: "
                f"{detected.how}; name it with --flavour ad or --flavour openldap")
        return asked
    if asked is not None and asked != detected.flavour:
        raise ConfigurationError(
            f"--flavour {asked} contradicts connector {record.name!r}: {detected.how}, so "
            f"the flavour is {detected.flavour}; leave --flavour out (or fix the connector)")
    return detected.flavour
