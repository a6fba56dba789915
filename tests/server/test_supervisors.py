"""Supervisors through real sockets (CONTRACT §11): the team view, acting for an agent who is
told who did it, the status log naming the supervisor, and today's figures after a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.helpers import ready_agent
from tests.server.conftest import Running
from ucs.client import Event, Operator, OperatorError
from ucs.core.effects import CallRecord
from ucs.core.ids import QueueId
from ucs.storage import schema
from ucs.storage.store import Store

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _supervisor(url: str) -> Operator:
    op = Operator(url)
    await op.connect()
    await op.login("supervisor", "supervisor-pass")
    await op.select_identifier("phone4")
    await op.provision()
    return op


async def _next(events: object, kind: str) -> Event:
    async with asyncio.timeout(5):
        async for e in events:  # type: ignore[attr-defined]
            if e.type == kind:
                return e  # type: ignore[no-any-return]
    raise AssertionError(kind)


async def test_a_supervisor_watches_the_team_and_acts_for_an_agent(running: Running) -> None:
    sup = await _supervisor(running.url)
    agent = await ready_agent(running.url, 1)
    try:
        events = agent.events()
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            uid = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601000009"})
            uid = uid.json()["uniqueid"]
            await _next(events, "call")
            await agent.answer()
            team = await sup.team()
            alice = next(a for a in team["agents"] if a["username"] == "agent1")
            assert alice["call"]["uniqueid"] == uid and alice["identifier"] == "phone1"
            await http.post(f"/api/sim/calls/{uid}/hangup")
        team = await sup.team()
        support = next(q for q in team["queues"] if q["queue_id"] == 1)
        assert (support["answered"], support["abandoned"], support["service_level"]) == (1, 0, 100)

        await sup.set_agent_status(1, "AUX", "Meeting")
        told = await _next(events, "supervisor")
        assert (told.data["by"]["username"], told.data["status"]) == ("supervisor", "AUX")
        assert (await agent.state())["user"]["status"] == "AUX"
        with pytest.raises(OperatorError) as refused:
            await agent.team()
        assert refused.value.code == "FORBIDDEN"
        with pytest.raises(OperatorError) as refused:
            await sup.set_agent_status(99, "READY")
        assert refused.value.code == "NOT_FOUND"

        await sup.logout_agent(1)
        ended = await _next(events, "logout")
        assert ended.data["by"]["displayname"] == "Sam Supervisor"
        running.server.store.flush()
        with running.server.store.engine.connect() as conn:
            log = conn.execute(
                select(schema.status_log.c.status, schema.status_log.c.by_agent)
                .where(schema.status_log.c.agent_id == 1)
                .order_by(schema.status_log.c.id)
            ).all()
        assert [tuple(r) for r in log[-2:]] == [("AUX", 4), ("OFFLINE", 4)]
    finally:
        await agent.close()
        await sup.close()


def test_todays_queue_figures_are_recounted_from_the_records_after_a_restart(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path}/ucs.db")
    store.migrate()

    def call(uid: str, connected: float | None, cause: int, ended: float) -> CallRecord:
        body = {"uniqueid": uid, "created": 1000.0, "connected": connected, "cause": cause}
        return CallRecord({**body, "disconnected": ended}, (), 1)

    store.deliver(call("1.1", 1010.0, 4, 1100.0))  # answered within 20 s
    store.deliver(call("1.2", 1030.0, 3, 1100.0))  # answered after 30 s
    store.deliver(call("1.3", None, 3, 1003.0))  # hung up within 5 s
    store.deliver(call("1.4", None, 3, 1040.0))  # abandoned
    store.deliver(call("1.5", None, 3, 1040.0))  # yesterday's: not counted
    store.flush()
    with store.engine.begin() as conn:
        conn.execute(schema.cdr.update().where(schema.cdr.c.uniqueid == "1.5").values(created=5))
    day = store.queue_days(since=900.0)[QueueId(1)]
    assert (day.offered, day.answered, day.abandoned) == (4, 2, 2)
    assert day.service_level == round(100 * 1 / 3, 1)
    store.stop()


def test_a_campaigns_figures_are_recounted_from_the_records_after_a_restart(
    tmp_path: Path,
) -> None:
    """Calls dialled under a campaign have no queue in the records (the queue is the
    call's ``outbound_id``): counted as dialled, answered or not; direct calls are not."""
    store = Store(f"sqlite:///{tmp_path}/ucs.db")
    store.migrate()

    def dialled(uid: str, connected: float | None, campaign: int | None) -> CallRecord:
        body = {"uniqueid": uid, "created": 1000.0, "connected": connected, "cause": 3}
        return CallRecord({**body, "disconnected": 1100.0, "outbound_id": campaign}, (), None)

    store.deliver(dialled("2.1", 1005.0, 3))
    store.deliver(dialled("2.2", None, 3))
    store.deliver(dialled("2.3", 1005.0, None))  # a direct call
    store.flush()
    days = store.queue_days(since=900.0)
    assert set(days) == {QueueId(3)}
    assert (days[QueueId(3)].offered, days[QueueId(3)].answered, days[QueueId(3)].unanswered) == (
        2,
        1,
        1,
    )
    store.stop()
