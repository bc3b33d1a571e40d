"""The connector space repositories split by concept: ``ConnectorSpaceRepository`` (``Store.cs``)
is all of them, and no method is defined by two of them (the first in its bases would win
silently)."""

from __future__ import annotations

from collections import Counter

from idsync.store.connector_space import ConnectorSpaceRepository


def test_each_method_has_one_home_and_the_whole_has_them_all() -> None:
    concepts = ConnectorSpaceRepository.__bases__
    names = Counter(n for c in concepts for n in vars(c)
                    if callable(vars(c)[n]) and n != "__init__")
    assert [n for n, k in names.items() if k > 1] == []
    assert all(hasattr(ConnectorSpaceRepository, n) for n in names)
    # nothing of its own: every method lives in the repository of its concept
    assert [n for n, v in vars(ConnectorSpaceRepository).items() if callable(v)] == []
