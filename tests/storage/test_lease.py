"""The lease of a partition in PostgreSQL, and the fence on every write (``ucs.storage.lease``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text

from ucs.core.effects import CallRecord
from ucs.storage import committer
from ucs.storage.lease import Fence, Fenced, Keeper, Lease, check
from ucs.storage.store import Health, Store, database_url


def _call(uid: str) -> dict[str, object]:
    return {"uniqueid": uid, "created": 100.0, "cause": 3, "connected": None}


Leases = Callable[..., Lease]
Stores = Callable[..., Store]


@pytest.fixture
def stores(pg_url: str) -> Iterator[Callable[..., Store]]:
    """Stores of a cluster's node on the test database, stopped and closed at the end."""
    made: list[Store] = []

    def store(*, process: bool = False) -> Store:
        made.append(Store(pg_url, retry=0.0, process=process, cluster=True))
        made[-1].migrate()
        return made[-1]

    yield store
    for each in made:
        each.stop()
        each.engine.dispose()


@pytest.fixture
def leases(pg_url: str) -> Iterator[Callable[..., Lease]]:
    """Leases on the test database's partition ``main``, all let go at the end."""
    made: list[Lease] = []

    def lease(node: str, seconds: float = 3.0) -> Lease:
        made.append(Lease(database_url(pg_url), "main", node, seconds=seconds))
        return made[-1]

    yield lease
    for each in made:
        each.release()


def _owner(leases: Leases) -> tuple[Lease, Fence]:
    """Node a, owner of the partition, and its fence."""
    a = leases("a")
    fence = a.try_acquire()
    assert fence is not None
    return a, fence


def _take(lease: Lease) -> Fence | None:
    """Take the partition, within 5 s: PostgreSQL frees a lock once it has seen the old
    owner's connection end, a moment after it ends."""
    for _ in range(50):
        fence = lease.try_acquire()
        if fence is not None:
            return fence
        time.sleep(0.1)
    return None


def test_one_node_owns_a_partition_and_the_next_takes_it_when_its_connection_ends(
    leases: Leases, stores: Stores
) -> None:
    stores()
    a, b = leases("a"), leases("b")
    assert a.try_acquire() == Fence("main", 1)
    assert b.try_acquire() is None  # a standby
    owner = b.owner()
    assert owner is not None and (owner.node, owner.epoch, owner.expired) == ("a", 1, False)
    assert a.renew() is None
    a._close()  # what PostgreSQL sees when a node dies: its lease connection ends
    assert _take(b) == Fence("main", 2)
    assert a.renew() is not None  # a, had it lived on, has lost it


def test_an_owner_that_stops_renewing_is_ended_and_replaced(leases: Leases, stores: Stores) -> None:
    stores()
    a, b = leases("a", seconds=0.5), leases("b", seconds=0.5)
    assert a.try_acquire() is not None
    assert b.try_acquire() is None  # a's lease holds
    time.sleep(0.8)  # a is paused: it renews nothing, but its connection (and lock) stay
    assert b.try_acquire() is None  # b ends a's lease connection …
    assert _take(b) == Fence("main", 2)  # … and takes the lock once PostgreSQL has let it go
    assert "failed" in (a.renew() or "")  # a, resumed, finds its lease gone


def test_a_new_owner_says_where_it_is_reached_only_once_it_serves(
    pg_url: str, stores: Stores
) -> None:
    """Its row has no address from the take-over until ``publish`` (once it listens), so the
    other nodes hand it no client while it loads the partition; an old owner cannot publish."""
    stores()
    url = database_url(pg_url)
    a = Lease(url, "main", "a", advertise="http://a/", sip="10.0.0.1:5060")
    b = Lease(url, "main", "b", advertise="http://b/", sip="10.0.0.2:5060")
    try:
        assert a.try_acquire() is not None
        engine = create_engine(url)
        where = text("SELECT node, url, sip FROM partition_owner WHERE partition = 'main'")

        def row() -> tuple[str, str | None, str | None]:
            with engine.connect() as conn:
                found = conn.execute(where).one()
            return (found.node, found.url, found.sip)

        assert row() == ("a", None, None)  # loading
        assert a.publish()
        assert row() == ("a", "http://a/", "10.0.0.1:5060")
        a._close()  # a dies
        assert _take(b) == Fence("main", 2)
        assert row() == ("b", None, None)  # not a's address, not b's yet
        assert not a.publish()  # a, had it lived on, is no longer the owner
        assert row() == ("b", None, None)
        assert b.publish()
        assert row() == ("b", "http://b/", "10.0.0.2:5060")
        engine.dispose()
    finally:
        a.release()
        b.release()


def test_a_released_lease_is_taken_at_once(leases: Leases, stores: Stores) -> None:
    stores()
    a, b = leases("a"), leases("b")
    assert a.try_acquire() is not None
    a.release()
    assert b.try_acquire() == Fence("main", 2)  # at once: no expiry waited for


def test_writes_under_an_old_epoch_are_refused_and_change_nothing(
    leases: Leases, stores: Stores
) -> None:
    store = stores()
    a, first = _owner(leases)
    store.fence_with(first)
    store.deliver(CallRecord(_call("1.1"), (), 1))
    store.flush()
    assert [c["uniqueid"] for c in store.cdr()] == ["1.1"]
    a._close()
    b = leases("b")
    assert _take(b) == Fence("main", 2)
    fenced: list[str] = []
    store.writer.on_fenced = fenced.append
    store.deliver(CallRecord(_call("1.2"), (), 1))
    store.flush()
    assert [c["uniqueid"] for c in store.cdr()] == ["1.1"]  # nothing written
    assert fenced and "epoch 2" in fenced[0]
    assert store.health is Health.FAILING and store.writer.backlog == 0
    with pytest.raises(Fenced):
        store.set_setting("x", "y")  # the store's own writes too
    assert store.setting("x") is None


def test_a_writer_process_started_before_the_lease_writes_under_its_fence(
    leases: Leases, stores: Stores
) -> None:
    """A standby starts its writer's child before it waits for a partition; the child is told
    the fence with its first batch once the partition is taken, and is refused after a
    take-over by another node."""
    store = stores(process=True)
    store.prestart()  # as a standby does, before the lease
    a, first = _owner(leases)
    store.fence_with(first)
    store.start()
    child = store.writer.committer
    assert isinstance(child, committer.ProcessCommitter)
    fenced: list[str] = []
    store.writer.on_fenced = fenced.append
    for n in range(600):  # until the child, not the writer's thread, writes
        store.deliver(CallRecord(_call(f"3.{n}"), (), 1))
        store.flush()
        if child.ready:
            break
        time.sleep(0.1)
    assert child.ready and not fenced
    with store.engine.connect() as conn:
        partitions = {r[0] for r in conn.execute(text("SELECT partition FROM cdr"))}
    assert partitions == {"main"}
    written = len(store.cdr())
    a._close()
    b = leases("b")
    assert _take(b) == Fence("main", 2)
    store.deliver(CallRecord(_call("3.last"), (), 1))
    store.flush()
    assert len(store.cdr()) == written  # refused by the child: it holds epoch 1's fence
    assert fenced and "epoch 2" in fenced[0]


def test_the_writer_process_is_fenced_too(leases: Leases, stores: Stores) -> None:
    store = stores(process=True)
    a, first = _owner(leases)
    store.fence_with(first)
    store.start()
    fenced: list[str] = []
    store.writer.on_fenced = fenced.append
    store.deliver(CallRecord(_call("2.1"), (), 1))
    store.flush()
    a._close()
    b = leases("b")
    assert _take(b) == Fence("main", 2)
    store.deliver(CallRecord(_call("2.2"), (), 1))
    store.flush()
    assert [c["uniqueid"] for c in store.cdr()] == ["2.1"]
    assert fenced


def test_a_take_over_waits_for_a_checked_write_and_ends_one_that_hangs(
    leases: Leases, stores: Stores
) -> None:
    store = stores()
    a, first = _owner(leases)
    paused = store.engine.connect()
    tx = paused.begin()
    check(paused, first)  # a's writer checked its epoch … and was paused before committing
    a._close()
    b = leases("b")
    assert _take(b) == Fence("main", 2)  # ended the paused write after a second
    with pytest.raises(Exception, match="terminat"):
        paused.execute(text("INSERT INTO settings (key, value) VALUES ('late', 'write')"))
        tx.commit()
    paused.invalidate()
    assert store.setting("late") is None


def test_the_keeper_says_when_the_partition_is_lost(leases: Leases, stores: Stores) -> None:
    stores()
    a = leases("a")
    assert a.try_acquire() is not None
    lost: list[str] = []
    keeper = Keeper(a, lost.append, every=0.05)
    keeper.start()
    time.sleep(0.2)
    assert lost == []
    with a.engine.connect() as conn:  # another node's take-over, as the row shows it
        conn.execute(text("UPDATE partition_owner SET epoch = epoch + 1"))
        conn.commit()
    for _ in range(100):
        if lost:
            break
        time.sleep(0.05)
    assert lost == ["another node took the partition over"]
    keeper.stop()


def test_a_cluster_needs_postgresql(tmp_path: object) -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        Lease("sqlite:///x.db", "main", "a")
