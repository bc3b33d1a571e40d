-- PostgreSQL text of 0003_reference_changes.sql: the same journal. Statement-level triggers
-- with transition tables: one INSERT ... SELECT per statement, so a bulk import (COPY, unnest)
-- pays one set operation, not a PL/pgSQL call per row (a row trigger tripled a full import's
-- staging). PostgreSQL allows a transition table only on a one-event trigger without a column
-- list, hence one trigger per event and a join of old and new rows on updates.
CREATE TABLE ref_changes (
    space     BIGINT NOT NULL,
    obj_id    BIGINT NOT NULL,
    attr      TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    old_mv    BIGINT,
    PRIMARY KEY (space, obj_id, attr, target_id)
);

CREATE FUNCTION idsync_cs_refs_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ref_changes (space, obj_id, attr, target_id)
    SELECT DISTINCT 1, n.cs_id, n.attr, n.target_id FROM idsync_rows n
    JOIN cs_objects c ON c.id = n.cs_id WHERE c.mv_id IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER cs_refs_added AFTER INSERT ON cs_refs REFERENCING NEW TABLE AS idsync_rows
FOR EACH STATEMENT EXECUTE FUNCTION idsync_cs_refs_added();

CREATE TRIGGER cs_refs_removed AFTER DELETE ON cs_refs REFERENCING OLD TABLE AS idsync_rows
FOR EACH STATEMENT EXECUTE FUNCTION idsync_cs_refs_added();

CREATE FUNCTION idsync_mv_refs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ref_changes (space, obj_id, attr, target_id)
    SELECT DISTINCT 0, n.mv_id, n.attr, n.target_id FROM idsync_rows n
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER mv_refs_added AFTER INSERT ON mv_refs REFERENCING NEW TABLE AS idsync_rows
FOR EACH STATEMENT EXECUTE FUNCTION idsync_mv_refs_changed();

CREATE TRIGGER mv_refs_removed AFTER DELETE ON mv_refs REFERENCING OLD TABLE AS idsync_rows
FOR EACH STATEMENT EXECUTE FUNCTION idsync_mv_refs_changed();

CREATE FUNCTION idsync_cs_objects_relinked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Most updates (an import's attribute changes) relink nothing: one pass to find out.
    IF NOT EXISTS (SELECT 1 FROM idsync_new n JOIN idsync_old o ON o.id = n.id
                   WHERE o.mv_id IS DISTINCT FROM n.mv_id) THEN
        RETURN NULL;
    END IF;
    INSERT INTO ref_changes (space, obj_id, attr, target_id)
    SELECT 1, n.id, m.attr, 0 FROM idsync_new n JOIN idsync_old o ON o.id = n.id
    CROSS JOIN (VALUES ('*in'), ('*out')) AS m (attr) WHERE o.mv_id IS DISTINCT FROM n.mv_id
    ON CONFLICT DO NOTHING;
    INSERT INTO ref_changes (space, obj_id, attr, target_id, old_mv)
    SELECT DISTINCT ON (r.cs_id, r.attr, r.target_id) 1, r.cs_id, r.attr, r.target_id, o.mv_id
    FROM idsync_new n JOIN idsync_old o ON o.id = n.id JOIN cs_refs r ON r.target_id = n.id
    JOIN cs_objects h ON h.id = r.cs_id
    WHERE o.mv_id IS DISTINCT FROM n.mv_id AND h.mv_id IS NOT NULL
    ON CONFLICT (space, obj_id, attr, target_id)
    DO UPDATE SET old_mv = coalesce(ref_changes.old_mv, excluded.old_mv);
    INSERT INTO ref_changes (space, obj_id, attr, target_id)
    SELECT DISTINCT 0, m.mv_id, m.attr, m.target_id
    FROM idsync_new n JOIN idsync_old o ON o.id = n.id
    JOIN mv_refs m ON m.target_id IN (o.mv_id, n.mv_id)
    WHERE o.mv_id IS DISTINCT FROM n.mv_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER cs_objects_relinked AFTER UPDATE ON cs_objects
REFERENCING OLD TABLE AS idsync_old NEW TABLE AS idsync_new
FOR EACH STATEMENT EXECUTE FUNCTION idsync_cs_objects_relinked();

CREATE FUNCTION idsync_cs_objects_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM ref_changes r USING idsync_rows o WHERE r.space = 1 AND r.obj_id = o.id;
    RETURN NULL;
END $$;

CREATE TRIGGER cs_objects_gone AFTER DELETE ON cs_objects REFERENCING OLD TABLE AS idsync_rows
FOR EACH STATEMENT EXECUTE FUNCTION idsync_cs_objects_gone();

CREATE FUNCTION idsync_mv_objects_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM ref_changes r USING idsync_rows o WHERE r.space = 0 AND r.obj_id = o.id;
    RETURN NULL;
END $$;

CREATE TRIGGER mv_objects_gone AFTER DELETE ON mv_objects REFERENCING OLD TABLE AS idsync_rows
FOR EACH STATEMENT EXECUTE FUNCTION idsync_mv_objects_gone();
