"""Checks of one object's data before anything is written (IdentityDataValidationFailed,
LargeObject)."""

from __future__ import annotations

import re

from clouddir.errors import IDENTITY_DATA_VALIDATION_FAILED, LARGE_OBJECT, ChangeRefused

OBJECT_TYPES = frozenset({"user", "group", "contact"})
_UPN = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_CERTIFICATES = ("userCertificate", "userSMIMECertificate")


def check_object_type(object_type: object) -> str:
    if object_type not in OBJECT_TYPES:
        raise ChangeRefused(IDENTITY_DATA_VALIDATION_FAILED,
                            f"object_type must be one of {sorted(OBJECT_TYPES)}")
    return str(object_type)


def check_source_anchor(anchor: str) -> None:
    # The reference: under 60 characters, with non-alphanumerics counting 3.
    weighted = sum(1 if ch.isalnum() else 3 for ch in anchor)
    if not anchor or weighted >= 60 or any(ch.isspace() for ch in anchor):
        raise ChangeRefused(IDENTITY_DATA_VALIDATION_FAILED,
                            f"sourceAnchor {anchor!r} is empty, too long or holds whitespace")


def check_upn(upn: str) -> None:
    local = upn.split("@", 1)[0]
    if (not _UPN.match(upn) or local.startswith(".") or local.endswith(".")
            or ".." in local or len(upn) > 113):
        raise ChangeRefused(IDENTITY_DATA_VALIDATION_FAILED,
                            f"userPrincipalName {upn!r} is not a valid UPN")


def check_attributes(object_type: str, attributes: dict[str, list[str]],
                     max_certificates: int, whole: bool) -> None:
    """``whole``: the attributes are the complete object (an add, or any v1 change)."""
    for name, values in attributes.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ChangeRefused(IDENTITY_DATA_VALIDATION_FAILED,
                                f"attribute {name!r} must be a list of strings")
    if object_type == "user":
        upns = attributes.get("userPrincipalName")
        if upns is None and whole:
            raise ChangeRefused(IDENTITY_DATA_VALIDATION_FAILED, "a user needs userPrincipalName")
        if upns is not None:
            if len(upns) != 1:
                raise ChangeRefused(IDENTITY_DATA_VALIDATION_FAILED,
                                    "userPrincipalName takes exactly one value")
            check_upn(upns[0])
    for name in _CERTIFICATES:
        if len(attributes.get(name, [])) > max_certificates:
            raise ChangeRefused(LARGE_OBJECT,
                                f"{name} holds more than {max_certificates} values")
