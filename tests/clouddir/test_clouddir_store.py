"""The store itself, on SQLite and on PostgreSQL (a private server, or the run's
``IDSYNC_TEST_DATABASE_URL``): identical behaviour, tenant confinement, units of work, and the
change log's USN order under concurrent writers, which delta import depends on."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.harness.postgres import postgres_schema, postgres_url

from clouddir.storage import (
    MEMBER_ADDED,
    OBJECT_CHANGED,
    OBJECT_CREATED,
    DirObject,
    Quarantined,
    SqliteStore,
    Store,
    open_store,
)

__all__ = ["postgres_schema", "postgres_url"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        made: Store = SqliteStore(tmp_path / "c.db")
    else:
        made = open_store(request.getfixturevalue("postgres_schema"))
    yield made
    made.close()


def _user(store: Store, tenant_id: str, name: str) -> DirObject:
    return store.insert(DirObject(tenant_id, "", "user", f"CN={name},DC=x", name, True,
                                  {"displayName": [name]}))


def test_scenario_reads_back_the_same_on_both_stores(store: Store) -> None:
    tenant = store.create_tenant("contoso", "hash-1")
    assert store.tenant_by_token_hash("hash-1") == tenant
    with store.transaction(tenant.id):
        alice, bob = _user(store, tenant.id, "Alice"), _user(store, tenant.id, "Bob")
        grp = store.insert(DirObject(tenant.id, "", "group", "CN=G", "g", True, {}))
        for obj in (alice, bob, grp):
            store.log(tenant.id, obj.seq, OBJECT_CREATED)
        store.add_members(tenant.id, grp.seq, [alice.seq, bob.seq])
        store.claim_unique(tenant.id, "upn", "alice@x", alice.seq)
        item = Quarantined(bob.seq, "upn", "userPrincipalName", "Alice@x", None, alice.seq)
        store.quarantine(tenant.id, item)
        # The same key again replaces the row (an upsert on both dialects).
        store.quarantine(tenant.id, Quarantined(bob.seq, "upn", "userPrincipalName", "Alice@x",
                                                "alice1234@x", alice.seq))
        store.save_batch(tenant.id, "b1", "v2", '{"ok": true}')
    assert store.batch_response(tenant.id, "b1") == '{"ok": true}'
    assert store.get(tenant.id, alice.id) == alice
    assert store.find_by_anchor(tenant.id, "Bob") == bob
    assert store.resolve_dns(tenant.id, ["cn=alice,dc=x", "CN=nobody"]) == {
        "cn=alice,dc=x": alice.seq}
    assert store.resolve_ids(tenant.id, [alice.id, "missing"]) == {alice.id: alice.seq}
    assert store.present_members(grp.seq, [alice.seq, 10_000]) == {alice.seq}
    assert store.member_dns(grp.seq) == ["CN=Alice,DC=x", "CN=Bob,DC=x"]
    assert store.get_by_seq(tenant.id, grp.seq).member_count == 2
    [waiting] = store.quarantined_waiting_for(tenant.id, "upn", "alice@x")
    assert waiting.replacement == "alice1234@x"
    assert store.unique_holder(tenant.id, "upn", "alice@x") == alice.seq

    with store.transaction(tenant.id):
        store.delete(alice)
    assert store.get(tenant.id, alice.id) is None
    assert store.dns_of(tenant.id, [alice.seq, bob.seq]) == {
        alice.seq: "CN=Alice,DC=x", bob.seq: "CN=Bob,DC=x"}
    assert store.refs_of(tenant.id, [alice.seq]) == {alice.seq: (alice.id, "user")}
    assert store.member_seqs(grp.seq) == {bob.seq}
    assert store.unique_holder(tenant.id, "upn", "alice@x") is None
    kinds = [(c.kind, c.object_seq, c.member_seq)
             for c in store.changes_between(tenant.id, 0, store.max_usn(tenant.id), 100)]
    assert kinds == [("n", alice.seq, None), ("n", bob.seq, None), ("n", grp.seq, None),
                     ("+", grp.seq, alice.seq), ("+", grp.seq, bob.seq),
                     ("-", grp.seq, alice.seq), ("d", alice.seq, None)]


def test_a_tenant_sees_only_its_own_objects(store: Store) -> None:
    mine, theirs = store.create_tenant("a", "h-a"), store.create_tenant("b", "h-b")
    with store.transaction(theirs.id):
        other = _user(store, theirs.id, "Eve")
        store.log(theirs.id, other.seq, OBJECT_CREATED)
    assert store.get(mine.id, other.id) is None
    assert store.get_by_seq(mine.id, other.seq) is None
    assert store.get_many_by_seq(mine.id, [other.seq]) == {}
    assert store.resolve_ids(mine.id, [other.id]) == {}
    assert store.resolve_dns(mine.id, ["cn=eve,dc=x"]) == {}
    assert store.page_objects(mine.id, 0, 10) == []
    assert store.max_usn(mine.id) == 0


def test_writes_need_the_tenants_transaction(store: Store) -> None:
    tenant = store.create_tenant("a", "h-a")
    obj = DirObject(tenant.id, "", "user", "CN=A", "a", True, {})
    with pytest.raises(RuntimeError, match="transaction"):
        store.insert(obj)
    with store.transaction(), pytest.raises(RuntimeError, match="transaction"):
        store.log(tenant.id, 1, OBJECT_CHANGED)
    with store.reading(), pytest.raises(RuntimeError, match="reading"):  # noqa: SIM117
        with store.transaction(tenant.id):
            pass


def test_a_refused_change_leaves_the_rest_of_the_transaction(store: Store) -> None:
    tenant = store.create_tenant("a", "h-a")
    with store.transaction(tenant.id):
        kept = _user(store, tenant.id, "Kept")
        store.claim_unique(tenant.id, "upn", "x@y", kept.seq)
        with pytest.raises(ValueError, match="refused"), store.savepoint():
            gone = _user(store, tenant.id, "Gone")
            store.claim_unique(tenant.id, "upn", "gone@y", gone.seq)
            raise ValueError("refused")
        _user(store, tenant.id, "After")
    assert [o.source_anchor for o in store.page_objects(tenant.id, 0, 10)] == ["Kept", "After"]
    assert store.unique_holder(tenant.id, "upn", "gone@y") is None


def test_a_failed_statement_fails_the_whole_unit(store: Store) -> None:
    """Nothing expects a statement to fail (uniqueness is checked before claiming): one that
    does fails the whole batch, on PostgreSQL too, where it is reported by a later read."""
    tenant = store.create_tenant("a", "h-a")
    with pytest.raises(Exception, match=r"(?i)unique"), store.transaction(tenant.id):
        kept = _user(store, tenant.id, "Kept")
        with store.savepoint():
            store.claim_unique(tenant.id, "upn", "x@y", kept.seq)
            store.claim_unique(tenant.id, "upn", "x@y", kept.seq)
        _user(store, tenant.id, "After")
    assert store.page_objects(tenant.id, 0, 10) == []
    with store.transaction(tenant.id):  # and the store goes on
        _user(store, tenant.id, "Next")
    assert [o.source_anchor for o in store.page_objects(tenant.id, 0, 10)] == ["Next"]


def test_reading_is_one_snapshot(store: Store) -> None:
    tenant = store.create_tenant("a", "h-a")

    def write() -> None:
        with store.transaction(tenant.id):
            store.log(tenant.id, _user(store, tenant.id, "Late").seq, OBJECT_CREATED)

    with store.reading():
        before = store.max_usn(tenant.id)
        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.2)  # SQLite: the writer waits for the reader; PostgreSQL: it commits
        assert store.max_usn(tenant.id) == before
        assert store.page_objects(tenant.id, 0, 10) == []
    writer.join(10)
    assert store.max_usn(tenant.id) > before


def test_delta_reader_never_misses_a_change_of_concurrent_writers(store: Store) -> None:
    """Writers of one tenant log changes and hold their transaction open a moment; a reader
    polls like delta import (everything above its last watermark, up to the current maximum).
    Were USNs visible out of order (usn 11 committed before usn 10), the reader would move its
    watermark past 10 and never see it."""
    tenant = store.create_tenant("a", "h-a")
    with store.transaction(tenant.id):
        grp = store.insert(DirObject(tenant.id, "", "group", "CN=G", "g", True, {}))
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for i in range(15):
                with store.transaction(tenant.id):
                    store.add_members(tenant.id, grp.seq, [offset + i])
                    time.sleep(0.005)  # a commit that comes late
        except BaseException as exc:
            errors.append(exc)

    seen: list[int] = []
    watermark = 0

    def poll() -> None:
        nonlocal watermark
        with store.reading():
            high = store.max_usn(tenant.id)
            seen.extend(c.usn for c in store.changes_between(tenant.id, watermark, high, 10_000))
        watermark = high

    writers = [threading.Thread(target=writer, args=(1000 * (n + 1),)) for n in range(3)]
    for thread in writers:
        thread.start()
    while any(thread.is_alive() for thread in writers):
        poll()
        time.sleep(0.001)
    poll()
    assert not errors
    every = [c.usn for c in store.changes_between(tenant.id, 0, store.max_usn(tenant.id),
                                                   10_000)]
    assert len(every) == 45 and all(c.kind == MEMBER_ADDED for c in store.changes_between(
        tenant.id, 0, store.max_usn(tenant.id), 10_000))
    assert seen == every


def test_writers_of_different_tenants_do_not_wait_for_each_other(postgres_schema: str) -> None:
    """PostgreSQL only (SQLite has one writer): the write lock is per tenant."""
    store = open_store(postgres_schema)
    slow, fast = store.create_tenant("slow", "h-1"), store.create_tenant("fast", "h-2")
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store.transaction(slow.id):
            store.log(slow.id, 1, OBJECT_CHANGED)
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        with store.transaction(fast.id):
            store.log(fast.id, 1, OBJECT_CHANGED)
        assert time.monotonic() - started < 2
    finally:
        release.set()
        thread.join(10)
        store.close()


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://db.example/clouddir", "unsupported database URL scheme"),
    ("postgresql://nobody@127.0.0.1:1/clouddir", "cannot connect to postgresql://"),
    ("postgresql://u:secret@127.0.0.1:1/db", "postgresql://u:***@127.0.0.1:1/db"),
])
def test_serve_refuses_a_bad_database_url_with_one_line(url: str, message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "clouddir.cli", "serve", "--db", url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr and "secret" not in done.stderr


def test_prefetched_answers_follow_the_transactions_writes(store: Store) -> None:
    """What ``prefetch`` learnt stays exact through claims, releases, inserts, deletes and a
    rolled-back savepoint: each answer equals the query it stands for."""
    tenant = store.create_tenant("a", "h-a")
    with store.transaction(tenant.id):
        holder = _user(store, tenant.id, "Holder")
        store.claim_unique(tenant.id, "upn", "taken@x", holder.seq)
    pairs = {("upn", "taken@x"), ("upn", "free@x"), ("nick", "n1")}
    with store.transaction(tenant.id):
        store.prefetch(tenant.id, ["Holder", "New", "Gone"], pairs)
        assert store.unique_holder(tenant.id, "upn", "taken@x") == holder.seq
        assert store.unique_holder(tenant.id, "upn", "free@x") is None
        assert store.find_by_anchor(tenant.id, "Holder") == holder
        assert store.find_by_anchor(tenant.id, "New") is None
        new = _user(store, tenant.id, "New")
        assert store.find_by_anchor(tenant.id, "New") == new
        store.claim_unique(tenant.id, "upn", "free@x", new.seq)
        assert store.unique_holder(tenant.id, "upn", "free@x") == new.seq
        store.release_unique(tenant.id, "upn", "taken@x")
        assert store.unique_holder(tenant.id, "upn", "taken@x") is None
        with pytest.raises(RuntimeError), store.savepoint():
            gone = _user(store, tenant.id, "Gone")
            store.claim_unique(tenant.id, "nick", "n1", gone.seq)
            raise RuntimeError("refused")
        assert store.find_by_anchor(tenant.id, "Gone") is None
        assert store.unique_holder(tenant.id, "nick", "n1") is None
        store.delete(new)
        assert store.unique_holder(tenant.id, "upn", "free@x") is None
    # And outside the unit the store asks the database again, which agrees.
    assert store.unique_holder(tenant.id, "upn", "free@x") is None
    assert store.unique_holder(tenant.id, "upn", "taken@x") is None
    assert store.find_by_anchor(tenant.id, "Gone") is None


def test_objects_created_after_prefetch_keep_change_order(store: Store) -> None:
    """A backend may hand out the batch's seqs up front: objects still get increasing seqs
    in the order they are created, distinct from any created without one."""
    tenant = store.create_tenant("a", "h-a")
    with store.transaction(tenant.id):
        before = _user(store, tenant.id, "Before")
        store.prefetch(tenant.id, ["A", "B"], set(), new_objects=2)
        made = [_user(store, tenant.id, name) for name in ("A", "B", "C")]
    seqs = [before.seq] + [o.seq for o in made]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    with store.transaction(tenant.id):
        after = _user(store, tenant.id, "After")
    assert after.seq > seqs[-1]
    assert [o.source_anchor for o in store.page_objects(tenant.id, 0, 10)] == [
        "Before", "A", "B", "C", "After"]
