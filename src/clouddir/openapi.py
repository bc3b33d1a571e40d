"""clouddir's OpenAPI 3 document (``GET /openapi.json``): the Graph face, the sync API v1 and
v2, health. Written by hand from the handlers, and held true by a schemathesis run in the test
suite (tests/clouddir/test_clouddir_openapi.py) that checks every answer against it. Value
lengths come from clouddir.value_limits, so the document states the limits the service keeps.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from clouddir.graph.batch import MAX_REQUESTS
from clouddir.graph.model import TYPE_PROPERTIES
from clouddir.value_limits import max_length

Schema = dict[str, Any]

_REF = "#/components/schemas/"


def _ref(name: str) -> Schema:
    return {"$ref": _REF + name}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {"4XX": {"$ref": "#/components/responses/Error"}}


def _op(summary: str, responses: dict[str, Any], *, params: list[Schema] | None = None,
        body: Schema | None = None, public: bool = False) -> Schema:
    op: Schema = {"summary": summary, "responses": {**responses, **({} if public else _ERRORS)}}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": body}}}
    if public:
        op["security"] = []
    return op


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _path_id(name: str = "id") -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_NULLABLE_STRING = {"type": "string", "nullable": True}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_BOOLEAN_PROPERTIES = ("accountEnabled", "securityEnabled", "mailEnabled")
_LIST_PROPERTIES = ("proxyAddresses", "groupTypes")


def _graph_object(object_type: str) -> Schema:
    properties: dict[str, Schema] = {"@odata.type": {"type": "string"}, "id": {"type": "string"},
                                     "onPremisesImmutableId": _NULLABLE_STRING,
                                     "onPremisesSyncEnabled": {"type": "boolean",
                                                               "nullable": True}}
    # The source of authority, returned only when $select names it (clouddir.graph.authority).
    properties["onPremisesSyncBehavior"] = {"type": "object", "properties": {
        "isCloudManaged": {"type": "boolean"}}}
    for name in TYPE_PROPERTIES[object_type]:
        if name in _BOOLEAN_PROPERTIES:
            properties[name] = {"type": "boolean", "nullable": True}
        elif name in _LIST_PROPERTIES:
            properties[name] = _STRINGS
        else:
            properties[name] = _NULLABLE_STRING
    return {"type": "object", "required": ["id"], "properties": properties}


def _graph_write(object_type: str) -> Schema:
    """A create or update body: the writable properties, with Entra's value lengths."""
    properties: dict[str, Schema] = {}
    for name in TYPE_PROPERTIES[object_type]:
        if name in _BOOLEAN_PROPERTIES:
            properties[name] = {"type": "boolean"}
        elif name in _LIST_PROPERTIES:
            properties[name] = {"type": "array", "maxItems": 1000, "items": {
                "type": "string", "maxLength": max_length(name)}}
        else:
            properties[name] = {"type": "string", "maxLength": max_length(name)}
    if object_type == "group":
        properties["members@odata.bind"] = {"type": "array", "maxItems": 20,
                                            "items": {"type": "string"}}
    if object_type == "user":
        properties["onPremisesImmutableId"] = {
            "type": "string", "nullable": True, "maxLength": 256,
            "description": "the sync API's source anchor; unique in the tenant"}
        properties["passwordProfile"] = {
            "type": "object", "description": "required on create; checked, never kept",
            "properties": {"password": {"type": "string", "minLength": 1, "maxLength": 256},
                           "forceChangePasswordNextSignIn": {"type": "boolean"},
                           "forceChangePasswordNextSignInWithMfa": {"type": "boolean"}}}
    return {"type": "object", "properties": properties}


def _collection(item: Schema) -> Schema:
    return {"type": "object", "required": ["value"], "properties": {
        "@odata.context": {"type": "string"}, "@odata.count": {"type": "integer"},
        "@odata.nextLink": {"type": "string"}, "@odata.deltaLink": {"type": "string"},
        "value": {"type": "array", "items": item}}}


_LIST_PARAMS = [
    _query("$filter", {"type": "string"}, "eq, ne, startswith, endswith, any; and, or, not"),
    _query("$select", {"type": "string"}, "comma-separated property names"),
    _query("$top", {"type": "integer", "minimum": 1, "maximum": 999}),
    _query("$skiptoken", {"type": "string"}, "from @odata.nextLink"),
    _query("$count", {"type": "boolean"}, "with the ConsistencyLevel: eventual header"),
    {"name": "ConsistencyLevel", "in": "header", "required": False,
     "schema": {"type": "string", "enum": ["eventual"]}},
]


_EXPAND = _query("$expand", {"type": "string"},
                 "users: manager, or manager($select=...); ignored on other collections")


def _graph_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for collection, object_type in (("users", "user"), ("groups", "group"),
                                    ("contacts", "contact")):
        item = _ref(object_type)
        listing = _op(f"List {collection}", {"200": _json(_collection(item), "a page")},
                      params=[*_LIST_PARAMS, _EXPAND])
        paths[f"/v1.0/{collection}"] = {"get": listing}
        one: dict[str, Any] = {"get": _op(f"Get one of {collection}", {
            "200": _json(item, "the object")}, params=[
            _path_id(), _query("$select", {"type": "string"}), _EXPAND])}
        if object_type != "contact":
            paths[f"/v1.0/{collection}"]["post"] = _op(
                f"Create a cloud-born {object_type}", {"201": _json(item, "created")},
                body=_graph_write(object_type))
            one["patch"] = _op(f"Update a cloud-born {object_type}",
                               {"204": {"description": "updated"}},
                               params=[_path_id()], body=_graph_write(object_type))
            one["delete"] = _op(f"Delete a cloud-born {object_type}",
                                {"204": {"description": "deleted"}}, params=[_path_id()])
        paths[f"/v1.0/{collection}/{{id}}"] = one
        paths[f"/v1.0/{collection}/{{id}}/onPremisesSyncBehavior"] = _sync_behavior(collection)
        paths[f"/v1.0/{collection}/$count"] = {"get": _op(
            f"Count {collection} (ConsistencyLevel: eventual)",
            {"200": {"description": "the count", "content": {"text/plain": {
                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}}},
            params=[_LIST_PARAMS[0], _LIST_PARAMS[-1]])}
        if object_type != "contact":
            paths[f"/v1.0/{collection}/delta"] = {"get": _op(
                f"Changes to {collection} since a $deltatoken", {
                    "200": _json(_collection(_ref("deltaEntry")), "a page of changes")},
                params=[_query("$deltatoken", {"type": "string"}),
                        _query("$skiptoken", {"type": "string"}),
                        _query("$select", {"type": "string"}), _EXPAND,
                        _query("$top", {"type": "integer", "minimum": 1, "maximum": 999})])}
    paths.update(_manager_paths())
    paths["/v1.0/directoryObjects/{id}"] = {"get": _op(
        "Get any object by id", {"200": _json(_ref("directoryObject"), "the object")},
        params=[_path_id()])}
    paths["/v1.0/groups/{id}/members"] = {"get": _op(
        "List a group's members", {"200": _json(_collection(_ref("directoryObject")),
                                                "a page")},
        params=[_path_id(), _query("$top", {"type": "integer", "minimum": 1, "maximum": 999}),
                _query("$skiptoken", {"type": "string"}),
                _query("$select", {"type": "string"})])}
    paths["/v1.0/groups/{id}/members/$ref"] = {"post": _op(
        "Add a member", {"204": {"description": "added"}}, params=[_path_id()],
        body={"type": "object", "required": ["@odata.id"],
              "properties": {"@odata.id": {"type": "string"}}})}
    paths["/v1.0/groups/{id}/members/{member_id}/$ref"] = {"delete": _op(
        "Remove a member", {"204": {"description": "removed"}},
        params=[_path_id(), _path_id("member_id")])}
    paths["/v1.0/$batch"] = {"post": _op(
        f"Up to {MAX_REQUESTS} requests, run in order (no nested $batch)",
        {"200": _json(_ref("batchResponse"), "one response per request")},
        body=_ref("batchRequest"))}
    return paths


def _sync_behavior(collection: str) -> dict[str, Any]:
    """An object's source of authority: read it, switch it (sync writes to a cloud-managed
    object are refused with ObjectCloudManaged)."""
    behavior = {"type": "object", "required": ["id", "isCloudManaged"], "properties": {
        "@odata.context": {"type": "string"}, "@odata.type": {"type": "string"},
        "id": {"type": "string"}, "isCloudManaged": {"type": "boolean"}}}
    return {
        "get": _op(f"The source of authority of one of {collection}",
                   {"200": _json(behavior, "onPremisesSyncBehavior")}, params=[_path_id()]),
        "patch": _op(f"Move the source of authority of one of {collection}",
                     {"204": {"description": "switched"}}, params=[_path_id()],
                     body={"type": "object", "required": ["isCloudManaged"],
                           "additionalProperties": False, "properties": {
                               "isCloudManaged": {"type": "boolean"},
                               "id": {"type": "string"}, "@odata.type": {"type": "string"}}}),
    }


def _manager_paths() -> dict[str, Any]:
    ref_body = {"type": "object", "required": ["@odata.id"],
                "properties": {"@odata.id": {"type": "string"}}}
    return {
        "/v1.0/users/{id}/manager": {"get": _op(
            "A user's manager (404 when none)", {"200": _json(_ref("user"), "the manager")},
            params=[_path_id(), _query("$select", {"type": "string"})])},
        "/v1.0/users/{id}/manager/$ref": {
            "get": _op("A reference to the user's manager", {"200": _json({
                "type": "object", "required": ["@odata.id"],
                "properties": {"@odata.id": {"type": "string"}}}, "the reference")},
                params=[_path_id()]),
            "put": _op("Set a cloud-born user's manager (.../directoryObjects/{id} or "
                       ".../users/{id})", {"204": {"description": "set"}},
                       params=[_path_id()], body=ref_body),
            "delete": _op("Remove a cloud-born user's manager", {
                "204": {"description": "removed"}}, params=[_path_id()])},
        "/v1.0/users/{id}/directReports": {"get": _op(
            "The users whose manager this user is", {
                "200": _json(_collection(_ref("user")), "a page")},
            params=[_path_id(), _query("$top", {"type": "integer", "minimum": 1,
                                                "maximum": 999}),
                    _query("$skiptoken", {"type": "string"}),
                    _query("$select", {"type": "string"})])},
    }


_ATTRIBUTES = {"type": "object", "additionalProperties": _STRINGS,
               "description": "attribute name -> values (binary values base64)"}
_MEMBER_REF = {"oneOf": [{"type": "string"}, {
    "type": "object", "required": ["dn"], "properties": {"dn": {"type": "string"}}}]}
_PROBLEM = {"type": "object", "required": ["code"], "properties": {
    "code": {"type": "string"}, "detail": {"type": "string"},
    "retryable": {"type": "boolean"}}}


def _sync_schemas() -> dict[str, Schema]:
    change = {"type": "object", "required": ["op"], "properties": {
        "ref": {}, "op": {"type": "string", "enum": ["add", "update", "delete"]},
        "object_type": {"type": "string", "enum": ["user", "group", "contact"]},
        "id": {"type": "string", "maxLength": 256}, "dn": {"type": "string", "maxLength": 2048},
        "source_anchor": {"type": "string", "maxLength": 256},
        "attributes": _ATTRIBUTES, "value_adds": _ATTRIBUTES, "value_removes": _ATTRIBUTES,
        "members": {"oneOf": [
            {"type": "array", "items": _MEMBER_REF, "description": "v1: the whole list"},
            {"type": "object", "description": "v2: a delta, or the whole list", "properties": {
                "add": {"type": "array", "items": _MEMBER_REF},
                "remove": {"type": "array", "items": _MEMBER_REF},
                "replace": {"type": "array", "items": _MEMBER_REF}}}]}}}
    result = {"type": "object", "required": ["status", "errors"], "properties": {
        "ref": {}, "status": {"type": "string", "enum": ["ok", "partial", "error"]},
        "id": _NULLABLE_STRING, "dn": _NULLABLE_STRING,
        "errors": {"type": "array", "items": _PROBLEM},
        "warnings": {"type": "array", "items": {"type": "object"}}}}
    entry = {"type": "object", "required": ["op"], "properties": {
        "op": {"type": "string", "enum": ["upsert", "delete"]}, "id": _NULLABLE_STRING,
        "object_type": _NULLABLE_STRING, "dn": _NULLABLE_STRING,
        "source_anchor": _NULLABLE_STRING, "sync_enabled": {"type": "boolean"},
        "cloud_managed": {"type": "boolean", "description": "the source of authority is the "
                          "cloud: export changes to it are refused with ObjectCloudManaged"},
        "attributes": _ATTRIBUTES, "reason": {"type": "string"}, "created": {"type": "boolean"},
        "provisioning_errors": {"type": "array", "items": {"type": "object"}},
        "members": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {
            "type": "object", "properties": {"add": _STRINGS, "remove": _STRINGS}}]}}}
    return {
        "exportRequest": {"type": "object", "required": ["batch_id", "changes"], "properties": {
            "batch_id": {"type": "string", "minLength": 1, "maxLength": 256},
            "changes": {"type": "array", "items": change}}},
        "exportResponse": {"type": "object", "required": ["batch_id", "results"],
                           "properties": {"batch_id": {"type": "string"},
                                          "results": {"type": "array", "items": result}}},
        "importEntry": entry,
    }


def _import_page(key: str, token: str) -> Schema:
    return {"type": "object", "required": [key, "more", "next", token], "properties": {
        key: {"type": "array", "items": _ref("importEntry")}, "more": {"type": "boolean"},
        "next": _NULLABLE_STRING, token: _NULLABLE_STRING}}


def _sync_paths() -> dict[str, Any]:
    page_size = _query("page_size", {"type": "integer", "minimum": 1},
                       "objects per page (at most import_page_size)")
    paths: dict[str, Any] = {
        "/sync/ping": {"get": _op("The tenant and the server's limits", {"200": _json({
            "type": "object", "required": ["tenant_id", "limits"], "properties": {
                "tenant_id": {"type": "string"},
                "limits": {"type": "object", "additionalProperties": {"type": "number"}}}},
            "the tenant")})},
        "/sync/v1/import": {"get": _op("v1 import: whole objects", {
            "200": _json(_import_page("objects", "watermark"), "a page")},
            params=[_query("watermark", {"type": "string"}), _query("cursor", {"type": "string"}),
                    page_size])},
        "/sync/v2/import": {"get": _op("v2 import: entries with membership deltas", {
            "200": _json(_import_page("changes", "delta_token"), "a page")},
            params=[_query("delta_token", {"type": "string"}),
                    _query("cursor", {"type": "string"}), page_size])},
        "/sync/v1/large-groups": {"get": _op("Groups above v1_member_limit", {"200": _json({
            "type": "object", "required": ["v1_member_limit", "groups"], "properties": {
                "v1_member_limit": {"type": "integer"},
                "groups": {"type": "array", "items": {"type": "object"}}}}, "the groups")})},
    }
    for version in (1, 2):
        paths[f"/sync/v{version}/export"] = {"post": _op(
            f"v{version} export: a batch of changes, each applied or refused alone",
            {"200": _json(_ref("exportResponse"), "one result per change")},
            body=_ref("exportRequest"))}
    return paths


@cache
def openapi_document() -> dict[str, Any]:
    graph_error = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message", "innerError"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "innerError": {"type": "object", "properties": {
                "date": {"type": "string"}, "request-id": {"type": "string"},
                "client-request-id": {"type": "string"}}}}}}}
    batch_item = {"type": "object", "required": ["id", "method", "url"], "properties": {
        "id": {"type": "string"}, "method": {"type": "string"}, "url": {"type": "string"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "body": {}}}
    schemas: dict[str, Schema] = {
        "user": _graph_object("user"), "group": _graph_object("group"),
        "contact": _graph_object("contact"),
        "directoryObject": {"type": "object", "required": ["id"], "properties": {
            "@odata.type": {"type": "string"}, "id": {"type": "string"}}},
        "deltaEntry": {"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"}, "@removed": {"type": "object"},
            "members@delta": {"type": "array", "items": {"type": "object"}},
            "manager@delta": {"type": "array", "items": {"type": "object"}}}},
        "batchRequest": {"type": "object", "required": ["requests"], "properties": {
            "requests": {"type": "array", "minItems": 1, "maxItems": MAX_REQUESTS,
                         "items": batch_item}}},
        "batchResponse": {"type": "object", "required": ["responses"], "properties": {
            "responses": {"type": "array", "items": {
                "type": "object", "required": ["id", "status"], "properties": {
                    "id": {"type": "string"}, "status": {"type": "integer"},
                    "headers": {"type": "object"}, "body": {}}}}}},
        "graphError": graph_error,
        **_sync_schemas(),
    }
    paths = {
        "/health": {"get": _op("Liveness", {"200": _json({
            "type": "object", "required": ["status"],
            "properties": {"status": {"type": "string"}}}, "up")}, public=True)},
        "/openapi.json": {"get": _op("This document", {"200": _json(
            {"type": "object"}, "OpenAPI 3")}, public=True)},
        **_sync_paths(),
        **_graph_paths(),
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "clouddir", "version": "1",
                 "description": "The sync endpoint API (v1, v2) and the admin API shaped like "
                                "Microsoft Graph v1.0. See docs/sync-api.md."},
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "clouddir tenant create prints it"}},
            "schemas": schemas,
            "responses": {"Error": _json(_ref("graphError"), "Graph's error body")},
        },
    }
