"""Administrator operations: export preview, configuration export/import, database backup and
restore, and the installation doctor."""
