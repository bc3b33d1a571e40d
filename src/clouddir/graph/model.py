"""Directory objects as Microsoft Graph v1.0 shows them, and Graph-shaped errors."""

from __future__ import annotations

import re
from typing import Any

from clouddir.errors_http import graph_error_body
from clouddir.storage import DirObject
from clouddir.value_limits import values_problem

COLLECTIONS = {"users": "user", "groups": "group", "contacts": "contact"}
ODATA_TYPES = {"user": "#microsoft.graph.user", "group": "#microsoft.graph.group",
               "contact": "#microsoft.graph.orgContact"}
#: Graph properties kept as one-value attributes, booleans, and lists.
SCALARS = ("displayName", "userPrincipalName", "mailNickname", "mail", "givenName", "surname",
           "description", "jobTitle", "department", "employeeId", "usageLocation")
BOOLEANS = ("securityEnabled", "mailEnabled", "accountEnabled")
LISTS = ("proxyAddresses", "groupTypes")
WRITABLE = frozenset((*SCALARS, *BOOLEANS, *LISTS))
#: Accepted on writes and not kept (write-only in Graph, or not modelled here).
IGNORED = frozenset({"passwordProfile", "passwordPolicies", "visibility"})
#: Per type: the properties Graph has (others are left out of the representation).
TYPE_PROPERTIES = {
    "user": ("displayName", "userPrincipalName", "mailNickname", "mail", "givenName", "surname",
             "jobTitle", "department", "accountEnabled", "proxyAddresses", "employeeId",
             "usageLocation"),
    "group": ("displayName", "mailNickname", "mail", "description", "securityEnabled",
              "mailEnabled", "groupTypes", "proxyAddresses"),
    "contact": ("displayName", "mailNickname", "mail", "givenName", "surname",
                "proxyAddresses"),
}
#: The source of authority (``{"isCloudManaged": bool}``), on users, groups and contacts.
SYNC_BEHAVIOR = "onPremisesSyncBehavior"
ON_PREMISES_MASTERED = ("Unable to update the specified properties for on-premises mastered "
                        "Directory Sync objects or objects currently undergoing migration.")


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self, client_request_id: str | None = None) -> dict[str, Any]:
        return graph_error_body(self.code, self.message, client_request_id)


#: Object ids are UUIDs; anything this service could never have issued is refused before a
#: store look-up (PostgreSQL refuses NUL characters outright).
_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")


def check_id(object_id: str) -> str:
    if not _ID.match(object_id):
        raise GraphError(400, "Request_BadRequest",
                         f"Invalid object identifier '{object_id[:64]}'.")
    return object_id


def not_found(object_id: str) -> GraphError:
    return GraphError(404, "Request_ResourceNotFound",
                      f"Resource '{object_id}' does not exist or one of its queried reference-"
                      f"property objects are not present.")


def to_graph(obj: DirObject) -> dict[str, Any]:
    out: dict[str, Any] = {"@odata.type": ODATA_TYPES[obj.object_type], "id": obj.id}
    for name in TYPE_PROPERTIES[obj.object_type]:
        values = obj.attributes.get(name)
        if name in BOOLEANS:
            out[name] = (values[0].lower() == "true") if values else None
        elif name in LISTS:
            out[name] = list(values or [])
        else:
            out[name] = values[0] if values else None
    out["onPremisesImmutableId"] = obj.source_anchor
    out["onPremisesSyncEnabled"] = True if obj.sync_enabled else None
    # Returned only when $select names it, as Graph does (``select`` drops it otherwise).
    out[SYNC_BEHAVIOR] = {"isCloudManaged": obj.cloud_managed}
    return out


def from_graph(body: dict[str, Any]) -> dict[str, list[str] | None]:
    """Graph properties -> attribute values (None: remove the attribute). A value of the wrong
    type, or longer than Entra allows (clouddir.value_limits), is a 400."""
    unknown = [k for k in body if k not in WRITABLE and k not in IGNORED and "@" not in k]
    if unknown:
        raise GraphError(400, "Request_BadRequest",
                         f"Property '{unknown[0][:64]}' does not exist on type or is read-only.")
    attributes: dict[str, list[str] | None] = {}
    for name, value in body.items():
        if "@" in name or name in IGNORED:
            continue
        if value is None or value == []:
            attributes[name] = None
        elif name in BOOLEANS:
            if not isinstance(value, bool):
                raise _invalid(name, "a boolean")
            attributes[name] = ["true" if value else "false"]
        elif name in LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _invalid(name, "a list of strings")
            attributes[name] = list(value)
        else:
            if not isinstance(value, str):
                raise _invalid(name, "a string")
            attributes[name] = [value]
        problem = values_problem(name, attributes[name] or [])
        if problem:
            raise GraphError(400, "Request_BadRequest",
                             f"Invalid value specified for property '{name}': {problem}.")
    return attributes


def _invalid(name: str, expected: str) -> GraphError:
    return GraphError(400, "Request_BadRequest",
                      f"Invalid value specified for property '{name}': expected {expected}.")


def select(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if SYNC_BEHAVIOR in obj and SYNC_BEHAVIOR not in (fields or ()):
        obj = {k: v for k, v in obj.items() if k != SYNC_BEHAVIOR}
    if not fields:
        return obj
    keep = {"@odata.type", "id", *fields}
    return {k: v for k, v in obj.items() if k in keep}
