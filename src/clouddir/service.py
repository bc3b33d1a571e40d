"""The service object shared by the HTTP handlers: store, limits, write budget."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from clouddir.auth import authenticate
from clouddir.errors_http import graph_error_body
from clouddir.export import apply_batch
from clouddir.quota import ObjectQuota
from clouddir.settings import Limits
from clouddir.storage import Store, Tenant
from clouddir.throttle import WriteBudget
from clouddir.uniqueness import Context, initial_domain


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None,
                  ) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers,
                    media_type="application/json")


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> Response:
    return json_response(graph_error_body(code, message), status, headers)


class Service:
    def __init__(self, store: Store, limits: Limits) -> None:
        self.store = store
        self.limits = limits
        store.default_max_bytes = limits.max_tenant_bytes
        self.budget = WriteBudget(limits.write_budget, limits.write_window)
        # Known tokens need no database round trip (and no wait for the store's lock).
        self._tenants: dict[str, Tenant] = {}

    def tenant_of(self, request: Request) -> Tenant | None:
        authorization = request.headers.get("authorization") or ""
        tenant = self._tenants.get(authorization)
        if tenant is None:
            tenant = authenticate(self.store, authorization)
            if tenant is not None:
                self._tenants[authorization] = tenant
        return tenant

    def unauthorized(self) -> Response:
        return error_response(401, "InvalidAuthenticationToken",
                              "missing or unknown bearer token",
                              {"WWW-Authenticate": "Bearer"})

    def context(self, tenant: Tenant) -> Context:
        return Context(self.store, tenant.id, initial_domain(tenant.name))

    def export_batch(self, tenant: Tenant, version: int, batch_id: str,
                     changes: list[dict[str, Any]]) -> Response:
        """Apply one export batch once: a replayed batch id gets the stored response and costs
        no write budget; a batch the budget cannot pay for is refused whole with 429."""
        store = self.store
        with store.transaction(tenant.id):
            stored = store.batch_response(tenant.id, batch_id)
            if stored is not None:
                return Response(stored, media_type="application/json",
                                headers={"X-Batch-Replayed": "true"})
            wait = self.budget.try_spend(tenant.id, max(1, len(changes)))
            if wait:
                return error_response(429, "TooManyRequests",
                                      f"write budget of {self.limits.write_budget} per "
                                      f"{self.limits.write_window:g}s spent",
                                      {"Retry-After": str(wait)})
            quota = ObjectQuota.read(store, tenant.id, self.limits.max_objects)
            results = apply_batch(self.context(tenant), self.limits, version, changes, quota)
            body = orjson.dumps({"batch_id": batch_id, "results": results}).decode()
            store.save_batch(tenant.id, batch_id, f"v{version}", body)
        return Response(body, media_type="application/json")
