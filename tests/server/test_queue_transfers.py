"""Transfers to a queue's number, through the operator protocol (the SDK) on the simulated
switch: the caller waits in that queue and is offered to its agents, blind or attended (the
consultation call waits in it, as a phone dialling the number would)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.helpers import ready_agent, records_of
from tests.server.conftest import Running
from ucs.client import Event, Operator
from ucs.client.operator import EventStream

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _next(events: EventStream, what: str, uid: str) -> Event:
    async with asyncio.timeout(10):
        async for event in events:
            if event.type == "call" and event.what == what and event.call["uniqueid"] == uid:
                return event
    raise AssertionError("events ended")


@dataclass
class Support:
    """A caller to Support (queue 1, number 100) answered by agent1; agent3 (Sales, 200, not
    Support) is READY too."""

    http: httpx.AsyncClient
    agent1: Operator
    agent3: Operator
    uid: str


@pytest.fixture
async def support(running: Running) -> AsyncIterator[Support]:
    agent1, agent3 = await ready_agent(running.url, 1), await ready_agent(running.url, 3)
    try:
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            events = agent1.events()
            r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601123456"})
            assert r.status_code == 201, r.text
            uid: str = r.json()["uniqueid"]
            await _next(events, "ringing", uid)
            await agent1.answer()
            await _next(events, "connect", uid)
            yield Support(http, agent1, agent3, uid)
    finally:
        for op in (agent1, agent3):
            await op.close()


async def test_a_blind_transfer_to_a_queues_number_puts_the_caller_in_that_queue(
    support: Support,
) -> None:
    uid, agent1, agent3 = support.uid, support.agent1, support.agent3
    mine, theirs = agent1.events(), agent3.events()
    await agent1.blind_transfer("200")  # Sales, which only agent3 (of the two) takes
    assert (await _next(mine, "hangup", uid)).call["cause"] == 8
    offered = await _next(theirs, "ringing", uid)  # the same call, offered by Sales
    assert offered.call["called_name"] == "Sales"
    assert offered.call["caller_number"] == "+420601123456"
    await agent3.answer()
    await _next(theirs, "connect", uid)
    one, three = (await agent1.state())["user"], (await agent3.state())["user"]
    assert (one["transferred"], one["transferred_external"]) == (1, 0)
    assert one["queues"]["1"]["transferred"] == 1
    assert three["in_calls_answered"] == 1 and three["queues"]["2"]["answered"] == 1
    r = await support.http.post(f"/api/sim/calls/{uid}/hangup")
    assert r.status_code == 204
    assert (await records_of(support.http, uid))[uid]["cause"] == 3


async def test_an_attended_transfer_to_a_queues_number_consults_whoever_it_offers(
    support: Support,
) -> None:
    uid, agent1, agent3 = support.uid, support.agent1, support.agent3
    mine, theirs = agent1.events(), agent3.events()
    consult = await agent1.transfer("200")  # consults Sales: it waits there
    cid = consult["uniqueid"]
    assert cid != uid and consult["called_number"] == "200"
    assert consult["called_name"] == "Sales"
    offered = await _next(theirs, "ringing", cid)
    assert offered.call["caller_username"] == "agent1"
    await agent3.answer()
    await _next(mine, "connect", cid)
    await agent1.finish_transfer()
    assert (await _next(mine, "hangup", uid)).call["cause"] == 8
    joined = await _next(theirs, "connect", uid)  # agent3 now talks with the caller
    assert joined.call["caller_number"] == "+420601123456"
    one = (await agent1.state())["user"]
    assert (one["transferred"], one["transferred_external"]) == (1, 0)
    r = await support.http.post(f"/api/sim/calls/{uid}/hangup")
    assert r.status_code == 204
    records = await records_of(support.http, uid, cid)
    assert records[cid]["data"] == {"transferred_from": uid}
    assert records[cid]["cause"] == 8 and records[uid]["cause"] == 3
