"""Schema discovery from the server's subschema (``subschemaSubentry``)."""

from __future__ import annotations

from typing import Any

import ldap.schema
from ldap.schema.models import AttributeType, ObjectClass

from idsync.connectors.base import AttributeSchema, ConnectorSchema
from idsync.connectors.ldap.settings import LdapSettings

DN_SYNTAX = "1.3.6.1.4.1.1466.115.121.1.12"
BINARY_SYNTAXES = {"1.3.6.1.4.1.1466.115.121.1.40", "1.3.6.1.4.1.1466.115.121.1.5",
                   "1.3.6.1.4.1.1466.115.121.1.28", "1.3.6.1.4.1.1466.115.121.1.8",
                   "1.3.6.1.4.1.1466.115.121.1.9", "1.3.6.1.4.1.1466.115.121.1.10"}


def read_subschema(conn: Any) -> ldap.schema.SubSchema:
    dn = conn.search_subschemasubentry_s("")
    entry = conn.read_subschemasubentry_s(dn, attrs=["objectClasses", "attributeTypes"])
    return ldap.schema.SubSchema(entry, check_uniqueness=0)


def object_class_names(subschema: ldap.schema.SubSchema) -> list[str]:
    names = [subschema.get_obj(ObjectClass, oid).names for oid in subschema.listall(ObjectClass)]
    return sorted(n[0] for n in names if n)


def attributes_of(subschema: ldap.schema.SubSchema, classes: list[str],
                  binary_names: set[str]) -> list[AttributeSchema]:
    known = [c for c in classes if subschema.get_obj(ObjectClass, c) is not None]
    if not known:
        return []
    must, may = subschema.attribute_types(known, raise_keyerror=0)
    out: dict[str, AttributeSchema] = {}
    for oid in [*must, *may]:
        at = subschema.get_obj(AttributeType, oid)
        if at is None or not at.names:
            continue
        syntax = subschema.get_inheritedattr(AttributeType, oid, "syntax") or ""
        syntax = syntax.split("{")[0]
        single = bool(subschema.get_inheritedattr(AttributeType, oid, "single_value"))
        name = at.names[0]
        out[name.lower()] = AttributeSchema(
            name=name, multivalued=not single, reference=syntax == DN_SYNTAX,
            binary=syntax in BINARY_SYNTAXES or name.lower() in binary_names)
    return sorted(out.values(), key=lambda a: a.name.lower())


def connector_schema(conn: Any, settings: LdapSettings) -> ConnectorSchema:
    """Each configured object type with the attributes its object classes allow."""
    subschema = read_subschema(conn)
    binary = {b.lower() for b in settings.binary_attributes}
    return ConnectorSchema(object_types={
        name: attributes_of(subschema, list(classes), binary)
        for name, classes in settings.object_types.items()})
