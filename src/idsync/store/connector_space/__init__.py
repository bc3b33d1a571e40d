"""Connector spaces: the staging copy of each connected directory, one repository per concept.

``objects`` (rows and their own columns), ``search`` (pages and searches), ``links`` (to the
metaverse), ``reference_values`` (one row per member/manager value), ``placeholders`` (DNs
referenced but not held) and ``staging`` (an import batch's set-based writes).
``ConnectorSpaceRepository`` is all of them in one, the ``Store.cs`` callers have used since
before the split; new code asks the repository of its concept (``Store.placeholders``...).
"""

from __future__ import annotations

from idsync.store.connector_space.links import CSLinkRepository
from idsync.store.connector_space.objects import CSObjectRepository
from idsync.store.connector_space.placeholders import PlaceholderRepository
from idsync.store.connector_space.reference_values import ReferenceValueRepository
from idsync.store.connector_space.search import CSSearch
from idsync.store.connector_space.staging import StagingRepository


class ConnectorSpaceRepository(CSObjectRepository, CSSearch, CSLinkRepository,
                               ReferenceValueRepository, PlaceholderRepository,
                               StagingRepository):
    """Every connector space repository's methods on one object (each keeps only ``db``)."""


__all__ = ["CSLinkRepository", "CSObjectRepository", "CSSearch", "ConnectorSpaceRepository",
           "PlaceholderRepository", "ReferenceValueRepository", "StagingRepository"]
