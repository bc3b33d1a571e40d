"""The service object shared by the HTTP handlers: store, limits, write budget. It answers
with data (tenants, ``ExportAnswer``) and refusals (``WriteBudgetSpent``); the handlers turn
those into HTTP responses."""

from __future__ import annotations

import orjson

from clouddir.access_tokens import AccessTokens
from clouddir.auth import authenticate
from clouddir.export import apply_batch
from clouddir.messages import ExportAnswer, ExportRequest
from clouddir.quota import ObjectQuota
from clouddir.settings import Limits
from clouddir.storage import Store, Tenant
from clouddir.throttle import WriteBudget
from clouddir.uniqueness import Context, initial_domain


class WriteBudgetSpent(Exception):
    """A batch the tenant's write budget cannot pay for now (refused whole, 429)."""

    def __init__(self, wait: int, message: str) -> None:
        super().__init__(message)
        self.wait = wait
        self.message = message


class Service:
    def __init__(self, store: Store, limits: Limits) -> None:
        self.store = store
        self.limits = limits
        store.default_max_bytes = limits.max_tenant_bytes
        self.budget = WriteBudget(limits.write_budget, limits.write_window)
        # Known tokens need no database round trip (and no wait for the store's lock).
        self._tenants: dict[str, Tenant] = {}
        # Tokens of registered apps (the OAuth token endpoint's), cached until they expire.
        self.access_tokens = AccessTokens(store, limits.token_lifetime)

    def tenant_of(self, authorization: str | None) -> Tenant | None:
        """The tenant an ``Authorization`` header's bearer token names, if any."""
        authorization = authorization or ""
        tenant = self._tenants.get(authorization)
        if tenant is None:
            # An app's access token first: it is answered from memory until it expires.
            tenant = self.access_tokens.tenant_of(authorization)
        if tenant is None:
            tenant = authenticate(self.store, authorization)
            if tenant is not None:
                self._tenants[authorization] = tenant
        return tenant

    def context(self, tenant: Tenant) -> Context:
        return Context(self.store, tenant.id, initial_domain(tenant.name))

    def export_batch(self, tenant: Tenant, request: ExportRequest) -> ExportAnswer:
        """Apply one export batch once: a replayed batch id gets the stored answer and costs
        no write budget; a batch the budget cannot pay for is refused whole
        (``WriteBudgetSpent``)."""
        store = self.store
        with store.transaction(tenant.id):
            stored = store.batch_response(tenant.id, request.batch_id)
            if stored is not None:
                return ExportAnswer(stored, replayed=True)
            wait = self.budget.try_spend(tenant.id, max(1, len(request.changes)))
            if wait:
                raise WriteBudgetSpent(wait, f"write budget of {self.limits.write_budget} per "
                                             f"{self.limits.write_window:g}s spent")
            quota = ObjectQuota.read(store, tenant.id, self.limits.max_objects)
            results = apply_batch(self.context(tenant), self.limits, request.version,
                                  request.changes, quota)
            body = orjson.dumps({"batch_id": request.batch_id, "results": results}).decode()
            store.save_batch(tenant.id, request.batch_id, f"v{request.version}", body)
        return ExportAnswer(body)
