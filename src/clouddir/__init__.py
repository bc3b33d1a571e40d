"""clouddir: the cloud directory idsync syncs to.

A multi-tenant HTTP service (Starlette + uvicorn) holding users, groups, contacts and
memberships, with the sync endpoint API in versions 1 and 2 (see docs/sync-api.md) and a
Graph-shaped admin API under ``/v1.0``.
"""

__version__ = "0.1.0"
