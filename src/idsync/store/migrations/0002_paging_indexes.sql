-- Indexes that let a run page through a connector space, and find the objects linked to a
-- metaverse object in one connector, without walking the DN index and sorting (measured: each
-- page of a full synchronization scanned the whole connector space, quadratic overall).
CREATE INDEX cs_objects_connector_id ON cs_objects (connector_id, id);
DROP INDEX cs_objects_pending_import;
CREATE INDEX cs_objects_pending ON cs_objects (connector_id, id) WHERE pending_import IS NOT NULL;
DROP INDEX cs_objects_mv;
CREATE INDEX cs_objects_mv_connector ON cs_objects (mv_id, connector_id);
CREATE INDEX pending_exports_page ON pending_exports (connector_id, state, kind, cs_id);
