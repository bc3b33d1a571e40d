"""``/v1.0/{users|groups|contacts}/{id}/onPremisesSyncBehavior``: read and switch an object's
source of authority (``isCloudManaged``), as Graph's onPremisesSyncBehavior resource does.

A switch is logged in the change log (clouddir.storage.authority), so the sync API's delta
import and Graph's delta show the object again; while it is true the sync API refuses writes
to the object with ``ObjectCloudManaged`` (clouddir.export).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from clouddir.graph import admin
from clouddir.graph.handlers import body_of, object_type_of
from clouddir.graph.model import SYNC_BEHAVIOR, GraphError, check_id, not_found
from clouddir.responses import json_response
from clouddir.service import Service
from clouddir.storage import DirObject, Tenant

_ODATA_TYPE = "#microsoft.graph.onPremisesSyncBehavior"
#: Read-only members a client may echo back in a PATCH body (Graph ignores them).
_ECHOED = frozenset({"id", "@odata.type", "@odata.context"})


def _object(service: Service, tenant: Tenant, object_type: str, object_id: str) -> DirObject:
    obj = service.store.get(tenant.id, object_id)
    if obj is None or obj.object_type != object_type:
        raise not_found(object_id)
    return obj


def _read(service: Service, tenant: Tenant, object_type: str, object_id: str) -> DirObject:
    with service.store.reading():
        return _object(service, tenant, object_type, object_id)


def _switch(service: Service, tenant: Tenant, object_type: str, object_id: str,
            cloud_managed: bool) -> None:
    with service.store.transaction(tenant.id):
        obj = _object(service, tenant, object_type, object_id)
        admin.writing(service, tenant)
        service.store.set_cloud_managed(obj, cloud_managed)


def parse_behavior(body: Any) -> bool:
    """The ``isCloudManaged`` of a PATCH body; anything else is a 400."""
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.")
    unknown = [k for k in body if k != "isCloudManaged" and k not in _ECHOED]
    if unknown:
        raise GraphError(400, "Request_BadRequest",
                         f"Property '{str(unknown[0])[:64]}' does not exist on type "
                         "'microsoft.graph.onPremisesSyncBehavior' or is read-only.")
    value = body.get("isCloudManaged")
    if not isinstance(value, bool):
        raise GraphError(400, "Request_BadRequest",
                         "Invalid value specified for property 'isCloudManaged': "
                         "expected a boolean.")
    return value


async def get_behavior(request: Request, service: Service, tenant: Tenant) -> Response:
    object_type = object_type_of(request)
    object_id = check_id(request.path_params["id"])
    obj = await run_in_threadpool(_read, service, tenant, object_type, object_id)
    collection = request.path_params["collection"]
    return json_response({
        "@odata.context": f"{str(request.base_url).rstrip('/')}/v1.0/$metadata#{collection}"
                          f"('{obj.id}')/{SYNC_BEHAVIOR}/$entity",
        "@odata.type": _ODATA_TYPE, "id": obj.id, "isCloudManaged": obj.cloud_managed})


async def patch_behavior(request: Request, service: Service, tenant: Tenant) -> Response:
    object_type = object_type_of(request)
    object_id = check_id(request.path_params["id"])
    cloud_managed = parse_behavior(await body_of(request))
    await run_in_threadpool(_switch, service, tenant, object_type, object_id, cloud_managed)
    return Response(status_code=204)
