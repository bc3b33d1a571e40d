-- Connector space search by subtree and by RDN (the web UI's connector space search, idsync.store
-- .connector_space.search): dn_rev is the normalised DN read backwards, written by every writer
-- of dn_norm, so a subtree (a DN suffix) is one prefix range of an index and a page of it walks
-- 50 index entries, not the whole connector space. `reverse` is registered on every SQLite
-- connection idsync opens (store/database.py); PostgreSQL has its own.
ALTER TABLE cs_objects ADD COLUMN dn_rev TEXT;
UPDATE cs_objects SET dn_rev = reverse(dn_norm);
CREATE INDEX cs_objects_subtree ON cs_objects (connector_id, dn_rev, id);
-- An RDN is a prefix of dn_norm: pages of (dn_norm, id) in the order of cs_objects_dn (0001),
-- which holds the rowid (the id) after its columns.
-- A search by object type pages (object_type, id). Not (placeholder, ...): that index would
-- also answer "connector_id = ? AND placeholder = 0", and SQLite then chose it over the
-- partial index of pending imports and over (connector_id, id) for a run's pages.
CREATE INDEX cs_objects_type_page ON cs_objects (connector_id, object_type, id);
