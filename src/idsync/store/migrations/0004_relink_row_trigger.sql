-- Nothing changes on SQLite: its relink trigger (0003) is already a row trigger that fires only
-- when an UPDATE names mv_id and the value changes. See 0004_relink_row_trigger.postgresql.sql.
SELECT 1;
