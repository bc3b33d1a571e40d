"""Checks of one object's data before anything is written (IdentityDataValidationFailed,
LargeObject)."""

from __future__ import annotations

import re
from typing import Any

from clouddir.errors import IDENTITY_DATA_VALIDATION_FAILED, LARGE_OBJECT, ChangeRefused
from clouddir.value_limits import attributes_problem, text_problem

OBJECT_TYPES = frozenset({"user", "group", "contact"})
_UPN = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_CERTIFICATES = ("userCertificate", "userSMIMECertificate")


def check_object_type(object_type: object) -> str:
    if object_type not in OBJECT_TYPES:
        raise ChangeRefused(IDENTITY_DATA_VALIDATION_FAILED,
                            f"object_type must be one of {sorted(OBJECT_TYPES)}")
    return str(object_type)


#: DNs and ids of the wire format (an AD DN is at most a few hundred characters).
MAX_DN = 2048
MAX_ID = 256


def check_change_shape(change: dict[str, Any]) -> None:
    """The fields of one change have the types the sync API documents (docs/sync-api.md)."""
    for name, most in (("id", MAX_ID), ("dn", MAX_DN), ("source_anchor", MAX_ID)):
        if change.get(name) is not None:
            problem = text_problem(name, change[name], most)
            if problem:
                raise ChangeRefused(IDENTITY_DATA_VALIDATION_FAILED, problem)
    for part in ("value_adds", "value_removes"):
        values = change.get(part)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise ChangeRefused(IDENTITY_DATA_VALIDATION_FAILED, f"{part} must be a map")
        check_value_lists(part, values)


def check_value_lists(part: str, attributes: dict[str, Any]) -> None:
    for name, values in attributes.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ChangeRefused(IDENTITY_DATA_VALIDATION_FAILED,
                                f"{part} {name[:40]!r} must be a list of strings")
    problem = attributes_problem(attributes)
    if problem:
        raise ChangeRefused(IDENTITY_DATA_VALIDATION_FAILED, problem)


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
    check_value_lists("attribute", attributes)
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
