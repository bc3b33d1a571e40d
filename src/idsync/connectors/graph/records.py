"""Graph objects as connector-space records: DNs, values, the ``$select`` of each object type,
and the connector schema.

The anchor is the Graph object id and the DN is ``CN=<id>,OU=Users`` / ``CN=<id>,OU=Groups``:
Graph has no DN, and an id-based one is stable (a rename changes no DN) and lets a reference
(``members``, ``manager``) be written as the DN the engine resolves without a look-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from idsync.connectors.base import (
    AttributeSchema,
    ConnectorSchema,
    ImportKind,
    ImportRecord,
    Value,
)
from idsync.connectors.settings.graph import (
    GROUP_ATTRIBUTES,
    MULTIVALUED,
    REFERENCES,
    USER_ATTRIBUTES,
)

MEMBERS = "members"
MANAGER = "manager"
COLLECTIONS = {"user": "users", "group": "groups"}
_OUS = {"user": "Users", "group": "Groups"}
_ODATA_TYPES = {"#microsoft.graph.user": "user", "#microsoft.graph.group": "group"}
#: Read on every object: the source of authority (contract B, issue 18).
SYNC_BEHAVIOR = "onPremisesSyncBehavior"


def dn_of(object_type: str, object_id: str) -> str:
    return f"CN={object_id},OU={_OUS[object_type]}"


def type_of_reference(entry: dict[str, Any]) -> str | None:
    """The object type of a member or manager entry (None: a type idsync does not import,
    such as an organizational contact or a service principal)."""
    odata = entry.get("@odata.type")
    if odata is None:
        return "user"
    return _ODATA_TYPES.get(str(odata))


def reference_dn(entry: dict[str, Any]) -> str | None:
    object_type = type_of_reference(entry)
    object_id = entry.get("id")
    if object_type is None or not object_id:
        return None
    return dn_of(object_type, str(object_id))


def values_of(value: Any) -> list[Value]:
    """A Graph property value as CS values (booleans as "true"/"false", null as none)."""
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list):
        return [v if isinstance(v, str) else str(v) for v in value if v is not None]
    return [value if isinstance(value, str) else str(value)]


def plain_attributes(object_type: str, wanted: Iterable[str]) -> list[str]:
    """The non-reference attributes of ``wanted`` (what ``$select`` names)."""
    known = USER_ATTRIBUTES if object_type == "user" else GROUP_ATTRIBUTES
    return [a for a in wanted if a in known and a not in REFERENCES]


def select(object_type: str, wanted: Iterable[str], delta: bool = False) -> str:
    names = ["id", *plain_attributes(object_type, wanted), SYNC_BEHAVIOR]
    if delta and object_type == "group" and MEMBERS in wanted:
        names.append(MEMBERS)
    if delta and object_type == "user" and MANAGER in wanted:
        names.append(MANAGER)
    return ",".join(names)


def cloud_managed(entry: dict[str, Any]) -> bool | None:
    behavior = entry.get(SYNC_BEHAVIOR)
    if isinstance(behavior, dict) and isinstance(behavior.get("isCloudManaged"), bool):
        return bool(behavior["isCloudManaged"])
    return None


def manager_of(entry: dict[str, Any]) -> list[Value] | None:
    """The manager reference an entry states (``manager`` expanded, or ``manager@delta``), or
    None when it says nothing about it."""
    if "manager" in entry:
        manager = entry["manager"]
        dn = reference_dn(manager) if isinstance(manager, dict) else None
        return [dn] if dn else []
    if "manager@delta" in entry:
        current = [m for m in entry["manager@delta"] or [] if isinstance(m, dict)
                   and "@removed" not in m]
        dn = reference_dn(current[-1]) if current else None
        return [dn] if dn else []
    return None


def full_record(object_type: str, entry: dict[str, Any], wanted: Iterable[str]
                ) -> ImportRecord:
    """A FULL record of a Graph object as listed (references added by the caller)."""
    object_id = str(entry["id"])
    attributes: dict[str, list[Value]] = {}
    for name in plain_attributes(object_type, wanted):
        values = values_of(entry.get(name))
        if values:
            attributes[name] = values
    return ImportRecord(ImportKind.FULL, object_id, dn_of(object_type, object_id), object_type,
                        attributes, cloud_managed=cloud_managed(entry))


def connector_schema(object_types: Iterable[str]) -> ConnectorSchema:
    def attribute(name: str) -> AttributeSchema:
        return AttributeSchema(name, multivalued=name in MULTIVALUED,
                               reference=name in REFERENCES)

    types = {"user": [attribute(a) for a in USER_ATTRIBUTES],
             "group": [attribute(a) for a in GROUP_ATTRIBUTES]}
    return ConnectorSchema(object_types={t: types[t] for t in object_types if t in types})
