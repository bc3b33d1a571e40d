"""The UI's pages, one module per window of the Synchronization Service Manager and the Rules
Editor; each has ``routes``, collected by ``idsync.web.app``."""
