"""Schema discovery from slapd's subschema."""

from __future__ import annotations

import pytest
from tests.ldap.helpers import connector

from idsync.connectors.base import SchemaProvider
from idsync.lab.slapd import SlapdServer

pytestmark = pytest.mark.slapd


def test_schema_lists_object_types_with_their_attributes(slapd: SlapdServer) -> None:
    conn = connector(slapd)
    assert isinstance(conn, SchemaProvider)
    schema = conn.schema()
    user = {a.name: a for a in schema.object_types["user"]}
    group = {a.name: a for a in schema.object_types["group"]}
    assert {"uid", "mail", "cn", "sn", "manager", "jpegPhoto"} <= set(user)
    assert user["manager"].reference and user["manager"].multivalued
    assert user["jpegPhoto"].binary
    assert not user["mail"].reference and not user["mail"].binary
    assert user["preferredLanguage"].multivalued is False
    assert group["member"].reference and group["member"].multivalued
    assert schema.object_types["contact"] == []  # no such class on OpenLDAP
    classes = conn.object_classes()
    assert {"inetOrgPerson", "groupOfNames", "organizationalUnit"} <= set(classes)
