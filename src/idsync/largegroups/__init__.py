"""Large groups and sync API v1: what idsync holds above the v1 member limit, and what going
back to v1 does to each (``rollback``: ``connector set-api-version --export 1 --import 1``;
``swing``: a staging server on v1 made active again)."""
