"""The hand-off's look-ups kept a short while (``ucs.web.handoff.Whereabouts``), on the test
PostgreSQL with real leases, on a virtual clock: a reconnect storm costs no round trip per
attempt, and a client is never handed to a stale owner for longer than the cache's life."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import insert, update

from ucs.core.directory import Directory
from ucs.demo import DEMO_PHONE_SECRETS, demo_directory
from ucs.storage import schema as t
from ucs.storage.lease import Lease
from ucs.storage.store import Store, database_url
from ucs.web.handoff import Whereabouts

TTL = Whereabouts.OWNER_TTL


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    """The demo directory, agent1 in partition ``north``, a session token of agent1's."""
    store = Store(pg_url, retry=0.0, cluster=True)
    store.migrate()
    d = demo_directory()
    store.seed(d, {a.username: f"hash-{a.username}" for a in d.agents.values()}, DEMO_PHONE_SECRETS)
    with store.engine.begin() as conn:
        conn.execute(
            update(t.agents).where(t.agents.c.username == "agent1").values(partition="north")
        )
        agent1 = conn.execute(t.agents.select().where(t.agents.c.username == "agent1")).one()
        conn.execute(insert(t.tokens).values(token="digest-1", agent_id=agent1.id))
    yield store
    store.stop()
    store.engine.dispose()


@pytest.fixture
def leases(pg_url: str) -> Iterator[list[Lease]]:
    made: list[Lease] = []
    yield made
    for lease in made:
        lease.release()


def _owner(
    pg_url: str, leases: list[Lease], node: str, seconds: float = 3.0, *, serves: bool = True
) -> Lease:
    """``node`` takes north, and (``serves``) says where it is reached, as once it listens."""
    lease = Lease(database_url(pg_url), "north", node, seconds=seconds, advertise=f"http://{node}/")
    leases.append(lease)
    for _ in range(50):  # PostgreSQL frees the lock a moment after the old owner let go
        if lease.try_acquire() is not None:
            if serves:
                assert lease.publish()
            return lease
        time.sleep(0.1)
    raise AssertionError(f"{node} did not take the partition")


def test_the_owner_is_asked_once_a_while_and_the_new_one_is_seen_after_the_ttl(
    store: Store, pg_url: str, leases: list[Lease]
) -> None:
    clock = Clock()
    catalog = store.load_directory("CZ")
    places = Whereabouts(store.engine, lambda: catalog, clock)

    async def run() -> None:
        a = _owner(pg_url, leases, "a")
        first = await places.owner("north")
        assert first is not None and (first.node, first.url) == ("a", "http://a/")
        # a storm: a thousand attempts at once and within the TTL cost one look-up
        many = await asyncio.gather(*(places.owner("north") for _ in range(1000)))
        assert {(o.node, o.url) for o in many if o is not None} == {("a", "http://a/")}
        assert places.lookups == 1
        places.owners.forget()
        together = await asyncio.gather(*(places.owner("north") for _ in range(50)))
        assert len({id(o) for o in together}) == 1  # the same answer, shared
        assert places.lookups == 2
        # the owner changes: b takes the partition over
        a.release()
        _owner(pg_url, leases, "b")
        clock.now += TTL / 2
        stale = await places.owner("north")
        assert stale is not None and stale.node == "a"  # within the TTL: the kept answer
        clock.now += TTL / 2
        fresh = await places.owner("north")
        assert fresh is not None and (fresh.node, fresh.url) == ("b", "http://b/")
        assert places.lookups == 3

    asyncio.run(run())


def test_an_owner_is_kept_no_longer_than_its_lease_holds(
    store: Store, pg_url: str, leases: list[Lease]
) -> None:
    clock = Clock()
    places = Whereabouts(store.engine, lambda: store.load_directory("CZ"), clock)

    async def run() -> None:
        _owner(pg_url, leases, "a", seconds=0.5)  # never renewed here
        assert (await places.owner("north")) is not None
        assert places.lookups == 1
        clock.now += 0.5  # the lease's time is up before the cache's
        await places.owner("north")
        assert places.lookups == 2

    asyncio.run(run())


def test_no_owner_is_kept_a_while_too(store: Store) -> None:
    """While no node runs the partition (a take-over), the storm asks once a TTL."""
    clock = Clock()
    places = Whereabouts(store.engine, lambda: store.load_directory("CZ"), clock)

    async def run() -> None:
        assert await places.owner("north") is None
        assert await places.owner("north") is None
        assert places.lookups == 1
        clock.now += TTL
        assert await places.owner("north") is None
        assert places.lookups == 2

    asyncio.run(run())


def test_a_token_s_partition_is_asked_once_and_follows_the_directory(store: Store) -> None:
    clock = Clock()
    catalog: list[Directory] = [store.load_directory("CZ")]
    places = Whereabouts(store.engine, lambda: catalog[0], clock)

    async def run() -> None:
        assert await places.of_token("digest-1") == "north"
        assert await places.of_token("digest-1") == "north"
        assert places.lookups == 1
        assert await places.of_token("no-such-digest") is None  # not kept: asked each time
        assert await places.of_token("no-such-digest") is None
        assert places.lookups == 3
        # agent1 moved back to main by an administrator: the directory, loaded again, says so
        with store.engine.begin() as conn:
            conn.execute(
                update(t.agents).where(t.agents.c.username == "agent1").values(partition="main")
            )
        catalog[0] = store.load_directory("CZ")
        assert await places.of_token("digest-1") == "main"
        assert places.lookups == 3
        # usernames: from the directory, no round trip; an unknown one is asked
        assert await places.of_username("agent1") == "main"
        assert places.lookups == 3
        assert await places.of_username("nobody") is None
        assert places.lookups == 4

    asyncio.run(run())


def test_a_client_is_held_while_the_new_owner_loads_and_handed_on_once_it_serves(
    store: Store, pg_url: str, leases: list[Lease]
) -> None:
    """A take-over: b holds the lease but does not listen yet (no address in its row)."""
    clock = Clock()
    places = Whereabouts(store.engine, lambda: store.load_directory("CZ"), clock)

    async def run() -> None:
        b = _owner(pg_url, leases, "b", serves=False)
        loading = await places.serving("north", 0)  # not held: told at once
        assert loading is not None and (loading.node, loading.url) == ("b", None)
        held = asyncio.create_task(places.serving("north", 3600))
        others = [asyncio.create_task(places.serving("north", 3600)) for _ in range(100)]
        await asyncio.sleep(places.UNSERVED_TTL * 2)
        assert not held.done()  # b does not serve yet: the clients wait
        asked = places.lookups
        assert await asyncio.to_thread(b.publish)  # b listens
        clock.now += places.UNSERVED_TTL
        async with asyncio.timeout(30):
            owner = await held
            assert {(o.node, o.url) for o in await asyncio.gather(*others) if o} == {
                ("b", "http://b/")
            }
        assert owner is not None and (owner.node, owner.url) == ("b", "http://b/")
        assert places.lookups <= asked + 2  # the hundred held asked once between them

    asyncio.run(run())


def test_a_storm_of_tokens_costs_a_few_queries_not_one_each(store: Store) -> None:
    with store.engine.begin() as conn:
        agent1 = conn.execute(t.agents.select().where(t.agents.c.username == "agent1")).one()
        rows = [{"token": f"digest-storm-{n}", "agent_id": agent1.id} for n in range(1000)]
        conn.execute(insert(t.tokens), rows)
    places = Whereabouts(store.engine, lambda: store.load_directory("CZ"), Clock())

    async def run() -> None:
        digests = [f"digest-storm-{n}" for n in range(1000)] + ["no-such-digest"]
        found = await asyncio.gather(*(places.of_token(d) for d in digests))
        assert found == ["north"] * 1000 + [None]
        assert places.lookups <= 4  # 500 a query at most
        again = await asyncio.gather(*(places.of_token(d) for d in digests[:1000]))
        assert again == ["north"] * 1000
        assert places.lookups <= 4  # kept

    asyncio.run(run())
