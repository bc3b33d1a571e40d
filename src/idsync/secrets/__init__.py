"""Connector secrets: sealed at rest under a workspace key kept apart from the database.

``keys`` finds the workspace key (``IDSYNC_KEY``, ``IDSYNC_KEY_FILE`` or ``<workspace>/
secrets.key``), ``cipher`` seals and opens values with it (Fernet), ``rotation`` replaces it,
``redaction`` keeps the values it has seen out of logs and messages, ``files`` gives the
workspace's files and folders their owner-only modes. See docs/decisions/secrets.md.
"""
