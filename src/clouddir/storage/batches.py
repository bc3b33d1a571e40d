"""Export batches: the response of each batch a tenant sent, kept so that a batch sent again
(a client retrying after a lost answer) gets the same answer instead of being applied twice."""

from __future__ import annotations

from clouddir.storage.database import Database


class BatchRepository(Database):
    def batch_response(self, tenant_id: str, batch_id: str) -> str | None:
        row = self._one("SELECT response FROM batches WHERE tenant_id = ? AND batch_id = ?",
                        (tenant_id, batch_id))
        return row[0] if row else None

    def save_batch(self, tenant_id: str, batch_id: str, api: str, response: str) -> None:
        self._writing(tenant_id)
        self._run("INSERT INTO batches (tenant_id, batch_id, api, response) VALUES (?, ?, ?, ?)",
                  (tenant_id, batch_id, api, response))
