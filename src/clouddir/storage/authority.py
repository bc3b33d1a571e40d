"""The source of authority of an object: on premises (sync writes it) or the cloud (Graph's
``onPremisesSyncBehavior.isCloudManaged``: sync writes are refused with ``ObjectCloudManaged``).
A row in ``cloud_managed`` per cloud-managed object; ``DirObject.cloud_managed`` reads it.
A switch is a change of the object: it is logged, so the sync API's delta import and Graph's
delta show the object again with its new authority."""

from __future__ import annotations

from clouddir.storage.changes import ChangeLog
from clouddir.storage.records import OBJECT_CHANGED, DirObject


class AuthorityRepository(ChangeLog):
    def set_cloud_managed(self, obj: DirObject, cloud_managed: bool) -> bool:
        """Inside ``transaction(obj.tenant_id)``; True when the authority changed (logged)."""
        self._writing(obj.tenant_id)
        if obj.cloud_managed == cloud_managed:
            return False
        if cloud_managed:
            self._run("INSERT INTO cloud_managed (object_seq, tenant_id) VALUES (?, ?)",
                      (obj.seq, obj.tenant_id))
        else:
            self._run("DELETE FROM cloud_managed WHERE object_seq = ?", (obj.seq,))
        obj.cloud_managed = cloud_managed
        self.log(obj.tenant_id, obj.seq, OBJECT_CHANGED)
        return True
