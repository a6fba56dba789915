"""The store on SQLite and PostgreSQL: schema, configuration, records, and a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from ucs.core.call import AccountCode
from ucs.core.effects import AgentRecord, CallRecord, SessionRecord, StatusRecord
from ucs.core.ids import AgentId, LineId
from ucs.core.model import Phase, Status
from ucs.demo import DEMO_PHONE_SECRETS, demo_directory
from ucs.storage import committer, schema
from ucs.storage.store import Health, RowUpserted, Store, TokenIssued, TokensRevoked
from ucs.web.server import Settings, build_server


def _call(uid: str, cause: int, created: float = 100.0) -> dict[str, object]:
    return {"uniqueid": uid, "created": created, "cause": cause, "connected": None}


def test_migrations_run_twice_and_the_demo_data_round_trips(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    store.migrate()
    assert store.is_empty()
    d = demo_directory()
    store.seed(d, {a.username: f"hash-{a.username}" for a in d.agents.values()}, DEMO_PHONE_SECRETS)
    assert not store.is_empty()
    again = store.load_directory("CZ")
    assert (again.agents, again.lines, again.queues) == (d.agents, d.lines, d.queues)
    assert again.aux_reasons == d.aux_reasons
    assert store.password_hashes()["agent1"] == "hash-agent1"
    new = store.insert(schema.agents, {"username": "new", "password_hash": "h", "data": {}})
    assert new == 5  # after the seeded ids, on every database
    store.delete(schema.agents, new)
    assert store.insert(schema.agents, {"username": "newer", "password_hash": "h", "data": {}}) == 6
    store.stop()


def test_records_are_written_in_order_and_the_last_word_wins(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    store.start()
    store.deliver(CallRecord(_call("10.1", -1), (), 1, live=True))
    store.deliver(CallRecord(_call("10.1", 3), (AccountCode("SALES"),), 1))
    store.deliver(CallRecord(_call("10.1", -1), (), 1, live=True))  # late: must not undo it
    store.deliver(CallRecord(_call("10.2", -1, 101.0), (), 2, live=True))
    store.deliver(StatusRecord(AgentId(1), Status.AUX, "Lunch", 5.0))
    store.deliver(AgentRecord(AgentId(1), {"status": "AUX"}))
    store.deliver(AgentRecord(AgentId(1), {"status": "READY"}))
    store.deliver(SessionRecord(AgentId(1), Phase.READY, "phone1", LineId(1)))
    store.deliver(SessionRecord(AgentId(2), Phase.DEVICE, "phone2", LineId(2)))
    store.deliver(SessionRecord(AgentId(2), None, None, None))
    store.deliver(TokenIssued("tok-1", AgentId(1)))
    store.deliver(TokenIssued("tok-2", AgentId(2)))
    store.deliver(TokensRevoked(AgentId(2)))
    store.flush()
    store.deliver(CallRecord(_call("10.1", -1), (), 1, live=True))  # in a batch of its own
    store.flush()
    cdr = store.cdr()
    assert [c["uniqueid"] for c in cdr] == ["10.1"]
    assert cdr[0]["account_codes"] == [{"accountCode": "SALES", "subAccountCode": None}]
    assert store.abandoned_since(0) == {1: 1}
    assert store.agent_states() == {1: {"status": "READY"}}
    assert set(store.sessions()) == {1}
    assert store.tokens() == {"tok-1": 1}
    assert store.max_seq() == 2
    assert store.end_live_calls(200.0) == 1
    ended = {c["uniqueid"]: c for c in store.cdr()}
    assert ended["10.2"]["cause"] == 0 and ended["10.2"]["disconnected"] == 200.0
    store.stop()


@pytest.mark.anyio
async def test_a_restarted_server_resumes_agents_from_the_database(db_url: str) -> None:
    from ucs.core.events import Command, Connect
    from ucs.core.ids import ClientId, RequestId

    def command(server: object, client: int, method: str, *args: object) -> object:
        effects = server.engine.submit(  # type: ignore[attr-defined]
            Command(ClientId(client), RequestId(method), method, list(args))
        )
        return effects

    first = build_server(Settings(demo=True, db=db_url))
    first.engine.submit(Connect(ClientId(1)))
    command(first, 1, "login", "agent2", "agent2-pass")
    command(first, 1, "selectIdentifier", "phone2")
    command(first, 1, "provision")
    command(first, 1, "changeStatus", "AUX", "Meeting")
    command(first, 1, "suspend", 1)
    await asyncio.to_thread(first.store.flush)
    first.store.stop()

    second = build_server(Settings(demo=True, db=db_url))
    session = second.center.sessions[AgentId(2)]
    assert (session.phase, session.identifier) == (Phase.READY, "phone2")
    agent = second.center.agents[AgentId(2)]
    assert (agent.status, agent.reason, agent.suspended) == (Status.AUX, "Meeting", {1})
    assert second.center.line_owner == {LineId(2): AgentId(2)}
    second.store.stop()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_a_failed_write_is_tried_again_and_a_bad_record_costs_no_other(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(db_url)
    store.migrate()
    real = committer.apply
    failures = {"left": 2}

    def flaky(conn: object, batch: list[object], *rest: object, **options: object) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("database is locked")
        if any(isinstance(x, StatusRecord) and x.reason == "poison" for x in batch):
            raise ValueError("a record the database refuses")
        real(conn, batch, *rest, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(committer, "apply", flaky)
    store.start()
    store.deliver(CallRecord(_call("20.1", 3), (), 1))
    store.deliver(StatusRecord(AgentId(1), Status.AUX, "poison", 1.0))
    store.deliver(CallRecord(_call("20.2", 4), (), 1))
    store.flush()
    assert [c["uniqueid"] for c in store.cdr()] == ["20.1", "20.2"]
    assert store.errors == 1
    store.stop()


def test_the_start_does_not_wait_for_the_child_process_which_writes_once_ready(
    db_url: str,
) -> None:
    """A take-over's start goes on while the child imports (docs/performance.md, issue 19);
    meanwhile the writer's thread commits the records itself, as before a start: a kill -9
    then loses no more than ever."""
    store = Store(db_url, retry=0.0, process=True)
    store.migrate()
    store.start()
    child = store.writer.committer
    assert isinstance(child, committer.ProcessCommitter)
    assert child.pid is not None and not child.ready  # started, not waited for
    store.deliver(CallRecord(_call("31.1", 3), (), 1))
    store.flush()
    assert [c["uniqueid"] for c in store.cdr()] == ["31.1"]  # committed, child ready or not
    for n in range(2, 600):  # the child, once ready, takes the batches over
        store.deliver(CallRecord(_call(f"31.{n}", 3), (), 1))
        store.flush()
        if child.ready:
            break
        time.sleep(0.1)
    assert child.ready
    assert len(store.cdr()) == n
    assert store.errors == 0
    store.stop()


def test_a_child_process_writes_and_a_killed_child_costs_no_record(db_url: str) -> None:
    store = Store(db_url, retry=0.0, process=True)
    store.migrate()
    store.start()
    store.deliver(CallRecord(_call("30.1", 3), (), 1))
    store.flush()
    child = store.writer.committer
    assert isinstance(child, committer.ProcessCommitter)
    first = child.pid
    assert first is not None and first != os.getpid()
    os.kill(first, signal.SIGKILL)
    store.deliver(CallRecord(_call("30.2", 4), (), 1))  # into a dead child: journalled …
    store.deliver(StatusRecord(AgentId(1), Status.AUX, "Lunch", 2.0))
    store.flush()
    for _ in range(200):  # … and written by a new child at the next try
        store.deliver(CallRecord(_call("30.3", 3), (), 1))
        store.flush()
        if store.health is Health.OK and store.writer.backlog == 0:
            break
    assert [c["uniqueid"] for c in store.cdr()] == ["30.1", "30.2", "30.3"]
    assert store.errors == 0
    assert child.pid not in (None, first)  # a new child took over
    store.stop()
    assert child.pid is None  # stopped with the store


def test_a_record_the_database_refuses_is_counted_in_the_child_too(db_url: str) -> None:
    store = Store(db_url, process=True)
    store.migrate()
    store.start()
    store.deliver(CallRecord(_call("31.1", 3), (), 1))
    store.deliver(RowUpserted("agents", {"id": 50, "data": {}}, ("id",)))  # no username
    store.deliver(CallRecord(_call("31.2", 3), (), 1))
    store.flush()
    assert [c["uniqueid"] for c in store.cdr()] == ["31.1", "31.2"]
    assert store.errors == 1  # the database refused the agent without a name, only it
    store.stop()
