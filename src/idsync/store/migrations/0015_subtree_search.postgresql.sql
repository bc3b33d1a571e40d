-- As 0015_subtree_search.sql; the prefix ranges compare bytes (COLLATE "C"), whatever the
-- database's collation, so the ranges the search asks are the ones the indexes hold.
ALTER TABLE cs_objects ADD COLUMN dn_rev TEXT COLLATE "C";
UPDATE cs_objects SET dn_rev = reverse(dn_norm);
CREATE INDEX cs_objects_subtree ON cs_objects (connector_id, dn_rev, id);
CREATE INDEX cs_objects_dn_page ON cs_objects (connector_id, (dn_norm COLLATE "C"), id);
-- A search by object type pages (object_type, id). Not (placeholder, ...): that index would
-- also answer "connector_id = ? AND placeholder = 0", and SQLite then chose it over the
-- partial index of pending imports and over (connector_id, id) for a run's pages.
CREATE INDEX cs_objects_type_page ON cs_objects (connector_id, object_type, id);
