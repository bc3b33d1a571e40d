"""The limits' arithmetic, over varied inputs (pure logic: no store)."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from idsync.engine.deletion_limits import DeletionLimit, LimitSource
from idsync.engine.import_guards import AttributeChanges
from idsync.engine.share_limits import ShareLimit

counts = st.integers(min_value=0, max_value=300_000)
percents = st.floats(min_value=0.01, max_value=100, allow_nan=False)
limits = st.builds(DeletionLimit, st.one_of(st.none(), st.integers(1, 10_000)),
                   st.one_of(st.none(), percents), st.integers(1, 1_000),
                   st.sampled_from(list(LimitSource)))


@given(limits, counts, counts, counts)
def test_more_deletes_never_lift_a_deletion_limit(limit: DeletionLimit, a: int, b: int,
                                                  objects: int) -> None:
    low, high = sorted((a, b))
    if limit.exceeded(low, objects):
        assert limit.exceeded(high, objects)


@given(limits, counts, counts)
def test_a_deletion_limit_stops_exactly_at_its_count_or_share(limit: DeletionLimit,
                                                              deletes: int, objects: int) -> None:
    by_count = limit.count is not None and deletes >= limit.count
    by_share = (limit.percent is not None and deletes >= limit.floor
                and deletes * 100 > limit.percent * objects)
    assert limit.exceeded(deletes, objects) is (deletes > 0 and (by_count or by_share))


@given(percents, st.integers(1, 1_000), counts, counts)
def test_small_lists_and_spaces_are_never_held(percent: float, minimum: int, n: int,
                                               size: int) -> None:
    if size < minimum:
        assert not ShareLimit(percent, minimum).exceeded(n, size)
        assert not ShareLimit(percent, minimum).exceeded(n, size)


@given(st.lists(st.tuples(st.sampled_from(["user", "group", ""]),
                          st.sampled_from(["mail", "title", "sn"]),
                          st.booleans(), st.booleans()), max_size=50))
def test_the_saved_counts_of_an_import_read_back_the_same(
        events: list[tuple[str, str, bool, bool]]) -> None:
    changes = AttributeChanges()
    for i, (t, a, cleared, came) in enumerate(events):
        changes.batch.append((i, (t, a), f"cn=o{i}", cleared, came))
    # a store holding no export of ours
    changes.count_batch(SimpleNamespace(exports=SimpleNamespace(
        get_many=lambda ids, with_refs: {})))
    again = AttributeChanges.from_json(changes.to_json())
    assert (again.changed, again.restored, again.samples) == (
        changes.changed, changes.restored, changes.samples)
