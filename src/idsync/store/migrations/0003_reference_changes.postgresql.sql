-- PostgreSQL text of 0003_reference_changes.sql: the same journal, triggers as functions.
CREATE TABLE ref_changes (
    space     BIGINT NOT NULL,
    obj_id    BIGINT NOT NULL,
    attr      TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    old_mv    BIGINT,
    PRIMARY KEY (space, obj_id, attr, target_id)
);

CREATE FUNCTION idsync_cs_refs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r cs_refs;
BEGIN
    IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
    IF EXISTS (SELECT 1 FROM cs_objects WHERE id = r.cs_id AND mv_id IS NOT NULL) THEN
        INSERT INTO ref_changes (space, obj_id, attr, target_id)
        VALUES (1, r.cs_id, r.attr, r.target_id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cs_refs_changed AFTER INSERT OR DELETE ON cs_refs
FOR EACH ROW EXECUTE FUNCTION idsync_cs_refs_changed();

CREATE FUNCTION idsync_mv_refs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r mv_refs;
BEGIN
    IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
    INSERT INTO ref_changes (space, obj_id, attr, target_id)
    VALUES (0, r.mv_id, r.attr, r.target_id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER mv_refs_changed AFTER INSERT OR DELETE ON mv_refs
FOR EACH ROW EXECUTE FUNCTION idsync_mv_refs_changed();

CREATE FUNCTION idsync_cs_objects_relinked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ref_changes (space, obj_id, attr, target_id)
    VALUES (1, NEW.id, '*in', 0), (1, NEW.id, '*out', 0) ON CONFLICT DO NOTHING;
    INSERT INTO ref_changes (space, obj_id, attr, target_id, old_mv)
    SELECT 1, r.cs_id, r.attr, r.target_id, OLD.mv_id FROM cs_refs r
    JOIN cs_objects h ON h.id = r.cs_id WHERE r.target_id = NEW.id AND h.mv_id IS NOT NULL
    ON CONFLICT (space, obj_id, attr, target_id)
    DO UPDATE SET old_mv = coalesce(ref_changes.old_mv, excluded.old_mv);
    INSERT INTO ref_changes (space, obj_id, attr, target_id)
    SELECT 0, mv_id, attr, target_id FROM mv_refs WHERE target_id IN (OLD.mv_id, NEW.mv_id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER cs_objects_relinked AFTER UPDATE OF mv_id ON cs_objects
FOR EACH ROW WHEN (OLD.mv_id IS DISTINCT FROM NEW.mv_id)
EXECUTE FUNCTION idsync_cs_objects_relinked();

CREATE FUNCTION idsync_object_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM ref_changes WHERE space = TG_ARGV[0]::bigint AND obj_id = OLD.id;
    RETURN NULL;
END $$;

CREATE TRIGGER cs_objects_gone AFTER DELETE ON cs_objects
FOR EACH ROW EXECUTE FUNCTION idsync_object_gone(1);

CREATE TRIGGER mv_objects_gone AFTER DELETE ON mv_objects
FOR EACH ROW EXECUTE FUNCTION idsync_object_gone(0);
