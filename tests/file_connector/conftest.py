from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from idsync.connectors.file import FileConnector, create_connector

BASE = """version: 1

dn: dc=contoso,dc=com
objectClass: top
objectClass: dcObject
objectClass: organization
dc: contoso
o: Contoso

dn: ou=Users,dc=contoso,dc=com
objectClass: organizationalUnit
ou: Users
entryUUID: 00000000-0000-4000-8000-00000000000a

dn: uid=alice,ou=Users,dc=contoso,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: alice
cn: Alice Archer
sn: Archer
entryUUID: 00000000-0000-4000-8000-000000000001

dn: uid=bob,ou=Users,dc=contoso,dc=com
objectClass: top
objectClass: inetOrgPerson
uid: bob
cn: Bob Baker
sn: Baker
manager: uid=alice,ou=Users,dc=contoso,dc=com
jpegPhoto:: /9j/
entryUUID: 00000000-0000-4000-8000-000000000002

dn: cn=Team,dc=contoso,dc=com
objectClass: top
objectClass: groupOfNames
cn: Team
member: uid=alice,ou=Users,dc=contoso,dc=com
member: uid=bob,ou=Users,dc=contoso,dc=com
entryUUID: 00000000-0000-4000-8000-000000000003

dn: cn=Partner,dc=contoso,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: contact
cn: Partner
sn: Partner
entryUUID: 00000000-0000-4000-8000-000000000004
"""


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    path = tmp_path / "dir.ldif"
    path.write_text(BASE)
    return path


@pytest.fixture
def make_connector(tmp_path: Path) -> Callable[..., FileConnector]:
    def make(**settings: object) -> FileConnector:
        settings.setdefault("path", "dir.ldif")
        return create_connector("files", settings, {}, str(tmp_path))

    return make
