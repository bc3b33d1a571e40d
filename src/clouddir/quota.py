"""The per-tenant storage quota: objects per tenant.

Entra counts a tenant's directory objects against a quota (50,000 by default, 300,000 once a
domain is verified) and refuses a create past it with ``Directory_QuotaExceeded``; reads,
updates and deletes go on, so a tenant at its quota can always clean up. clouddir does the
same, with the server's ``Limits.max_objects`` as the default and a tenant's own quota, set by
``clouddir tenant create --max-objects`` or ``clouddir tenant quota``, kept by the store
(``clouddir.storage.quotas``).
Object size is bounded apart (``Limits.max_object_bytes``), so objects bound bytes too.
"""

from __future__ import annotations

from dataclasses import dataclass

from clouddir.storage import Store

QUOTA_EXCEEDED = "Directory_QuotaExceeded"
QUOTA_MESSAGE = ("The directory object quota limit for the tenant has been exceeded ({used} of "
                 "{quota} objects). Ask the administrator to raise the tenant's quota "
                 "(clouddir tenant quota) or delete objects to reduce the used quota.")


class QuotaExceeded(Exception):
    def __init__(self, used: int, quota: int) -> None:
        super().__init__(QUOTA_MESSAGE.format(used=used, quota=quota))
        self.used = used
        self.quota = quota


@dataclass(slots=True)
class ObjectQuota:
    """The room left for new objects, read once per unit of work (one export batch, one admin
    create) inside its transaction: the tenant's writers take turns, so the count holds."""

    quota: int
    used: int

    @classmethod
    def read(cls, store: Store, tenant_id: str, default: int) -> ObjectQuota:
        own = store.tenant_max_objects(tenant_id)
        return cls(own if own is not None else default, store.object_count(tenant_id))

    def check(self) -> None:
        """Before creating an object: refuse when the quota is reached."""
        if self.used >= self.quota:
            raise QuotaExceeded(self.used, self.quota)

    def created(self) -> None:
        self.used += 1
