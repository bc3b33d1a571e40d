-- The source of authority of a connector space object (idsync.model.Authority): 'sync' (the
-- engine writes it) or 'cloud' (the directory says the cloud manages it: Graph's
-- onPremisesSyncBehavior.isCloudManaged, the sync API's cloud_managed). Written by the import
-- stages from ImportRecord.cloud_managed and by an export the directory refused with it.
-- The export run holds the pending exports of a 'cloud' object (idsync.engine.authority).
ALTER TABLE cs_objects ADD COLUMN authority TEXT NOT NULL DEFAULT 'sync';
-- When the export run first held the object's changes (event 6956 once per object, not per
-- run); NULL while nothing is held. Cleared when the authority returns.
ALTER TABLE cs_objects ADD COLUMN held_since TEXT;
-- The few cloud-managed objects of a connector, without reading the others.
CREATE INDEX cs_objects_cloud ON cs_objects (connector_id, id) WHERE authority = 'cloud';
