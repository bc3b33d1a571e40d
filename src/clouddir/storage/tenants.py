"""Tenants: the directories one server holds, each reached by its token's hash."""

from __future__ import annotations

import uuid

from clouddir.storage.database import Database
from clouddir.storage.records import Tenant


class TenantRepository(Database):
    def create_tenant(self, name: str, token_hash: str) -> Tenant:
        tenant = Tenant(id=str(uuid.uuid4()), name=name)
        with self.transaction():
            self._run("INSERT INTO tenants (id, name, token_hash) VALUES (?, ?, ?)",
                      (tenant.id, name, token_hash))
        return tenant

    def tenant_by_token_hash(self, token_hash: str) -> Tenant | None:
        row = self._one("SELECT id, name FROM tenants WHERE token_hash = ?", (token_hash,))
        return Tenant(id=row[0], name=row[1]) if row else None

    def tenant_exists(self, tenant_id: str) -> bool:
        return self._one("SELECT 1 FROM tenants WHERE id = ?", (tenant_id,)) is not None
