-- What each run sent and received over its connector's transport (requests, bytes sent,
-- bytes received; JSON; NULL for runs recorded before this version): idsync.engine.traffic.
ALTER TABLE runs ADD COLUMN traffic TEXT;
