"""A trunk call into queue 1 rings the agent's registered phone; the agent answers through the
SDK, the phone picks up (Call-Info: answer-after=0) and both SIP ends see the call connected."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.sip.conftest import SipRunning
from tests.sip.helpers import agent, connect_queue_call, next_call
from tests.sip.peer import Peer

pytestmark = pytest.mark.anyio


@pytest.fixture
async def phone1(sip_server: SipRunning) -> AsyncIterator[Peer]:
    phone = await Peer("phone1", sip_server.sip).open()
    assert (await phone.register("phone1-secret")).code == 200
    yield phone
    phone.close()


async def test_trunk_call_rings_phone_agent_answers_caller_hangs_up(
    sip_server: SipRunning, phone1: Peer
) -> None:
    op = await agent(sip_server.url)
    try:
        events = op.events()
        d, _, _ = await connect_queue_call(sip_server, phone1, op, events)
        sip_server.trunk.bye(d)
        assert (await sip_server.trunk.expect(200)).cseq_method == "BYE"
        bye = await phone1.expect("BYE")
        phone1.respond(bye, 200)
        gone = await next_call(events, "hangup")
        assert gone.call["cause"] == 3
    finally:
        await op.__aexit__(None, None, None)


async def test_phone_hangs_up_ends_the_call_with_cause_4(
    sip_server: SipRunning, phone1: Peer
) -> None:
    op = await agent(sip_server.url)
    try:
        events = op.events()
        _, pd, _ = await connect_queue_call(sip_server, phone1, op, events)
        phone1.bye(pd)
        assert (await phone1.expect(200)).cseq_method == "BYE"
        bye = await sip_server.trunk.expect("BYE")
        sip_server.trunk.respond(bye, 200)
        gone = await next_call(events, "hangup")
        assert gone.call["cause"] == 4
    finally:
        await op.__aexit__(None, None, None)


async def test_agent_hangs_up_through_the_api(sip_server: SipRunning, phone1: Peer) -> None:
    op = await agent(sip_server.url)
    try:
        events = op.events()
        await connect_queue_call(sip_server, phone1, op, events)
        await op.hangup()
        bye = await phone1.expect("BYE")
        phone1.respond(bye, 200)
        tbye = await sip_server.trunk.expect("BYE")
        sip_server.trunk.respond(tbye, 200)
        gone = await next_call(events, "hangup")
        assert gone.call["cause"] == 4
    finally:
        await op.__aexit__(None, None, None)
