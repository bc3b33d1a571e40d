-- The relink journal trigger of 0003 was statement-level: every UPDATE of cs_objects (an
-- export's anchors and DNs, an import's attribute changes) paid a PL/pgSQL call and a join of
-- its old and new rows to find that nothing was relinked, about half of a 500-row anchor
-- update. A row trigger on "UPDATE OF mv_id" with a WHEN clause is skipped by the executor
-- itself unless the statement sets mv_id to a different value, so only real relinks pay. What
-- it records is unchanged (0003). A bulk relink (ConnectorSpaceRepository.set_links) switches
-- the row trigger off for its one statement (setting idsync.relink_journal to 'off') and
-- writes the same entries set-based (idsync.store.reference_journal.record_relinks).
DROP TRIGGER cs_objects_relinked ON cs_objects;
DROP FUNCTION idsync_cs_objects_relinked();

CREATE FUNCTION idsync_cs_object_relinked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ref_changes (space, obj_id, attr, target_id)
    VALUES (1, NEW.id, '*in', 0), (1, NEW.id, '*out', 0)
    ON CONFLICT DO NOTHING;
    INSERT INTO ref_changes (space, obj_id, attr, target_id, old_mv)
    SELECT DISTINCT ON (r.cs_id, r.attr, r.target_id) 1, r.cs_id, r.attr, r.target_id, OLD.mv_id
    FROM cs_refs r JOIN cs_objects h ON h.id = r.cs_id
    WHERE r.target_id = NEW.id AND h.mv_id IS NOT NULL
    ON CONFLICT (space, obj_id, attr, target_id)
    DO UPDATE SET old_mv = coalesce(ref_changes.old_mv, excluded.old_mv);
    INSERT INTO ref_changes (space, obj_id, attr, target_id)
    SELECT DISTINCT 0, m.mv_id, m.attr, m.target_id FROM mv_refs m
    WHERE m.target_id = OLD.mv_id OR m.target_id = NEW.mv_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER cs_objects_relinked AFTER UPDATE OF mv_id ON cs_objects
FOR EACH ROW WHEN (OLD.mv_id IS DISTINCT FROM NEW.mv_id
                   AND current_setting('idsync.relink_journal', true) IS DISTINCT FROM 'off')
EXECUTE FUNCTION idsync_cs_object_relinked();
