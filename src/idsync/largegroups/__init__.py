"""Large groups and sync API versions: switching a cloud connector's API versions
(``api_versions``, ``connector set-api-version``) with what going back to v1 does to each group
above its member limit listed first (``rollback``), and a staging server on v1 made active
again (``swing``)."""
