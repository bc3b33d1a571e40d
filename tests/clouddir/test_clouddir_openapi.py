"""schemathesis against a real clouddir, from the OpenAPI document it publishes: every
operation with generated valid and invalid requests, a real token, and the answers checked for
server errors and against the document (status code, content type, response schema)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.harness.clouddir_server import CloudDirServer, CloudDirTenant

from clouddir.openapi import openapi_document

#: Examples per operation and generation mode: about 40 operations, a couple of minutes on 2
#: cores (measured: docs/decisions/clouddir-limits.md).
EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def st_tenant(clouddir_shared: CloudDirServer) -> CloudDirTenant:
    tenant = clouddir_shared.new_tenant("schemathesis")
    # Something to read: a synced user and group, a cloud-born group with a member.
    with tenant.client() as http:
        http.post("/sync/v2/export", json={"batch_id": "seed", "changes": [
            {"ref": "1", "op": "add", "object_type": "user", "source_anchor": "dXNlcg",
             "dn": "CN=user", "attributes": {"userPrincipalName": ["user@contoso.test"],
                                             "displayName": ["User"]}},
            {"ref": "2", "op": "add", "object_type": "group", "source_anchor": "Z3JvdXA",
             "dn": "CN=group", "attributes": {"displayName": ["Group"]},
             "members": {"add": [{"dn": "CN=user"}]}}]}).raise_for_status()
    return tenant


# The document as the code builds it; test_served_document_is_the_one_tested checks that the
# server publishes this same document. (schemathesis.pytest.from_fixture, which would load it
# from the running server, does not work with pytest 9: it sets Function._nodeid.)
schema = schemathesis.openapi.from_dict(openapi_document())
schema.config.generation.update(modes=["positive", "negative"], max_examples=EXAMPLES,
                                deterministic=True, database="none")


def test_served_document_is_the_one_tested(st_tenant: CloudDirTenant) -> None:
    served = httpx.get(f"{st_tenant.url}/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(openapi_document()))


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=EXAMPLES)
def test_clouddir_answers_as_its_openapi_document_says(case: Any,
                                                       st_tenant: CloudDirTenant) -> None:
    case.call_and_validate(base_url=st_tenant.url, checks=CHECKS,
                           headers={"Authorization": f"Bearer {st_tenant.token}"},
                           timeout=60)
