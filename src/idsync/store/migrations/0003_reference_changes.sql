-- The reference change journal: which values of which reference lists changed since the flows
-- that compare them last ran, so a synchronization compares a 250,000-member group's changed
-- values only (idsync.store.references, docs/decisions/engine.md). Written by triggers, so
-- every way a list or a link changes is recorded, whichever code makes the change.
--   space 1: a connector space list (cs_refs) of a linked object; old_mv is the metaverse
--            object the target was linked to before it was relinked;
--   space 0: a metaverse list (mv_refs), or a target whose link in a connector space changed;
--   attr '*in' / '*out': the object was linked or unlinked, so its lists are compared whole
--            by the next inbound / outbound flow.
CREATE TABLE ref_changes (
    space     INTEGER NOT NULL,
    obj_id    INTEGER NOT NULL,
    attr      TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    old_mv    INTEGER,
    PRIMARY KEY (space, obj_id, attr, target_id)
);

CREATE TRIGGER cs_refs_added AFTER INSERT ON cs_refs
WHEN EXISTS (SELECT 1 FROM cs_objects WHERE id = NEW.cs_id AND mv_id IS NOT NULL)
BEGIN
    INSERT OR IGNORE INTO ref_changes (space, obj_id, attr, target_id)
    VALUES (1, NEW.cs_id, NEW.attr, NEW.target_id);
END;

CREATE TRIGGER cs_refs_removed AFTER DELETE ON cs_refs
WHEN EXISTS (SELECT 1 FROM cs_objects WHERE id = OLD.cs_id AND mv_id IS NOT NULL)
BEGIN
    INSERT OR IGNORE INTO ref_changes (space, obj_id, attr, target_id)
    VALUES (1, OLD.cs_id, OLD.attr, OLD.target_id);
END;

CREATE TRIGGER mv_refs_added AFTER INSERT ON mv_refs
BEGIN
    INSERT OR IGNORE INTO ref_changes (space, obj_id, attr, target_id)
    VALUES (0, NEW.mv_id, NEW.attr, NEW.target_id);
END;

CREATE TRIGGER mv_refs_removed AFTER DELETE ON mv_refs
BEGIN
    INSERT OR IGNORE INTO ref_changes (space, obj_id, attr, target_id)
    VALUES (0, OLD.mv_id, OLD.attr, OLD.target_id);
END;

CREATE TRIGGER cs_objects_relinked AFTER UPDATE OF mv_id ON cs_objects
WHEN OLD.mv_id IS NOT NEW.mv_id
BEGIN
    INSERT OR IGNORE INTO ref_changes (space, obj_id, attr, target_id)
    VALUES (1, NEW.id, '*in', 0), (1, NEW.id, '*out', 0);
    INSERT INTO ref_changes (space, obj_id, attr, target_id, old_mv)
    SELECT 1, r.cs_id, r.attr, r.target_id, OLD.mv_id FROM cs_refs r
    JOIN cs_objects h ON h.id = r.cs_id WHERE r.target_id = NEW.id AND h.mv_id IS NOT NULL
    ON CONFLICT (space, obj_id, attr, target_id)
    DO UPDATE SET old_mv = coalesce(ref_changes.old_mv, excluded.old_mv);
    INSERT OR IGNORE INTO ref_changes (space, obj_id, attr, target_id)
    SELECT 0, mv_id, attr, target_id FROM mv_refs WHERE target_id IN (OLD.mv_id, NEW.mv_id);
END;

CREATE TRIGGER cs_objects_gone AFTER DELETE ON cs_objects
BEGIN
    DELETE FROM ref_changes WHERE space = 1 AND obj_id = OLD.id;
END;

CREATE TRIGGER mv_objects_gone AFTER DELETE ON mv_objects
BEGIN
    DELETE FROM ref_changes WHERE space = 0 AND obj_id = OLD.id;
END;
