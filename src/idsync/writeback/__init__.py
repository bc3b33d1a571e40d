"""Group writeback: Microsoft 365 ("Unified") groups created in the cloud are projected into
the metaverse and provisioned into an OU of the on-premises LDAP directory, members translated
to on-premises DNs by the engine; membership changes flow as value adds and removes because the
engine stages reference deltas.

* ``rules``: the reserved writeback rules for a configuration (``rules/builtin/writeback.yaml``);
* ``copies``: the written-back copies in the writeback OU, which the inbound pass never joins
  nor projects.

Enabling, previewing and disabling it: ``idsync.administration.writeback``. The rollback to
sync API v1: ``idsync.largegroups``.
"""
