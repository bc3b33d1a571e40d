"""Value limits per attribute, as Microsoft Entra documents them, for both faces of the service
(the sync API refuses the object with IdentityDataValidationFailed, the Graph face answers 400).

Lengths are in characters (Python ``len``). Sources: Microsoft Graph v1.0 resource pages
``user`` and ``group`` ("Maximum length is N characters"), and Entra's UPN rule (113 characters,
64 before the ``@``); see docs/decisions/clouddir-limits.md. Attributes Entra does not bound
by name get ``DEFAULT_MAX_LENGTH`` (binary ones, base64 on the wire, ``BINARY_MAX_LENGTH``), so
that no value anywhere is unbounded; ``MAX_VALUES`` bounds a multi-valued attribute and
``Limits.max_object_bytes`` the whole object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

MAX_LENGTH: dict[str, int] = {
    "displayName": 256,
    "givenName": 64,
    "surname": 64,
    "mailNickname": 64,
    "userPrincipalName": 113,
    "jobTitle": 128,
    "department": 64,
    "companyName": 64,
    "city": 128,
    "country": 128,
    "state": 128,
    "streetAddress": 1024,
    "postalCode": 40,
    "mobilePhone": 64,
    "description": 1024,
    "mail": 256,
    "proxyAddresses": 256,
    "employeeId": 16,
    "usageLocation": 2,
    # A reference: a cloud id, or the DN of an object not exported yet (as a member is).
    "manager": 2048,
}
#: Any other text attribute (Entra's own longest documented bound is 1024, streetAddress).
DEFAULT_MAX_LENGTH = 1024
#: Binary attributes travel base64-encoded: a 100 KB photo is about 137,000 characters.
BINARY_MAX_LENGTH: dict[str, int] = {
    "userCertificate": 32_768,
    "userSMIMECertificate": 32_768,
    "thumbnailPhoto": 137_000,
}
#: Values of one attribute (proxyAddresses is the largest in practice: tens of values).
MAX_VALUES = 1000
#: Attributes of one object.
MAX_ATTRIBUTES = 250
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$")


def max_length(name: str) -> int:
    return MAX_LENGTH.get(name) or BINARY_MAX_LENGTH.get(name) or DEFAULT_MAX_LENGTH


def name_problem(name: str) -> str | None:
    if not _NAME.match(name):
        return (f"attribute name {name[:40]!r} is not a name (a letter, then up to 127 "
                f"letters, digits, '_', '.' or '-')")
    return None


def values_problem(name: str, values: Sequence[str]) -> str | None:
    """What is wrong with these values of ``name``, in one line; None when they are fine."""
    problem = name_problem(name)
    if problem:
        return problem
    if len(values) > MAX_VALUES:
        return f"{name} holds {len(values)} values; at most {MAX_VALUES} are allowed"
    most = max_length(name)
    for value in values:
        if len(value) > most:
            return (f"{name} value is {len(value)} characters long; at most {most} are "
                    f"allowed")
        if "\x00" in value:
            return f"{name} value holds a NUL character"
    return None


def attributes_problem(attributes: Mapping[str, Sequence[str]]) -> str | None:
    if len(attributes) > MAX_ATTRIBUTES:
        return f"{len(attributes)} attributes; at most {MAX_ATTRIBUTES} are allowed"
    for name, values in attributes.items():
        problem = values_problem(name, values)
        if problem:
            return problem
    return None


def object_size_problem(attributes: Mapping[str, Sequence[str]], most: int) -> str | None:
    size = sum(len(name) + sum(len(v) for v in values) for name, values in attributes.items())
    if size > most:
        return (f"the object's attribute values total {size} characters; at most {most} are "
                f"allowed")
    return None


def text_problem(what: str, value: object, most: int) -> str | None:
    """A free-text field of the wire format (dn, batch_id, ...): a string, bounded, no NUL."""
    if not isinstance(value, str):
        return f"{what} must be a string"
    if len(value) > most:
        return f"{what} is {len(value)} characters long; at most {most} are allowed"
    if "\x00" in value:
        return f"{what} holds a NUL character"
    return None
