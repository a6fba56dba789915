"""A trunk call into queue 1 rings the agent's registered phone; the agent answers through the
SDK, the phone picks up (Call-Info: answer-after=0) and both SIP ends see the call connected."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.sip.conftest import SipRunning
from tests.sip.peer import Dialog, Msg, Peer
from ucs.client import Event, Operator
from ucs.client.operator import EventStream

pytestmark = pytest.mark.anyio


async def _next(events: EventStream, what: str) -> Event:
    async with asyncio.timeout(5):
        async for event in events:
            if event.type == "call" and event.what == what:
                return event
    raise AssertionError("events ended")


@pytest.fixture
async def phone1(sip_server: SipRunning) -> AsyncIterator[Peer]:
    phone = await Peer("phone1", sip_server.sip).open()
    assert (await phone.register("phone1-secret")).code == 200
    yield phone
    phone.close()


async def _agent(url: str) -> Operator:
    op = Operator(url)
    await op.__aenter__()
    await op.login("agent1", "agent1-pass")
    await op.select_identifier("phone1")
    await op.provision()
    await op.change_status("READY")
    return op


async def _connect_queue_call(
    sip_server: SipRunning, phone: Peer, op: Operator, events: EventStream
) -> tuple[Dialog, Dialog, Msg]:
    """Trunk → queue 1 → phone1 rings → agent answers → connected. The trunk's and the phone's
    dialogs, and the phone's answered INVITE."""
    trunk = sip_server.trunk
    d = trunk.dialog_to("100")
    trunk.invite(d)
    ring = await phone.expect("INVITE")
    assert "answer-after" not in str(ring)
    phone.respond(ring, 180)
    assert (await trunk.expect(180)).code == 180
    ringing = await _next(events, "ringing")
    assert ringing.call["direction"] == "INCOMING" and ringing.call["called_number"] == "100"
    await op.answer()
    cancel = await phone.expect("CANCEL")
    phone.respond(cancel, 200)
    phone.respond(ring, 487)
    await phone.expect("ACK")
    pick = await phone.expect("INVITE")
    assert "answer-after=0" in (pick.get("call-info") or "")
    phone.respond(pick, 200, body=phone.sdp)
    await phone.expect("ACK")
    ok = await trunk.expect(200)
    assert f"m=audio {phone.port + 1000}" in ok.body  # the phone's media, passed through
    trunk.ack(ok, d)
    connected = await _next(events, "connect")
    assert connected.call["state"] == 3 and connected.call["uniqueid"] == ringing.call["uniqueid"]
    return d, phone.dialog_of(pick), pick


async def test_trunk_call_rings_phone_agent_answers_caller_hangs_up(
    sip_server: SipRunning, phone1: Peer
) -> None:
    op = await _agent(sip_server.url)
    try:
        events = op.events()
        d, _, _ = await _connect_queue_call(sip_server, phone1, op, events)
        sip_server.trunk.bye(d)
        assert (await sip_server.trunk.expect(200)).cseq_method == "BYE"
        bye = await phone1.expect("BYE")
        phone1.respond(bye, 200)
        gone = await _next(events, "hangup")
        assert gone.call["cause"] == 3
    finally:
        await op.__aexit__(None, None, None)


async def test_phone_hangs_up_ends_the_call_with_cause_4(
    sip_server: SipRunning, phone1: Peer
) -> None:
    op = await _agent(sip_server.url)
    try:
        events = op.events()
        _, pd, _ = await _connect_queue_call(sip_server, phone1, op, events)
        phone1.bye(pd)
        assert (await phone1.expect(200)).cseq_method == "BYE"
        bye = await sip_server.trunk.expect("BYE")
        sip_server.trunk.respond(bye, 200)
        gone = await _next(events, "hangup")
        assert gone.call["cause"] == 4
    finally:
        await op.__aexit__(None, None, None)


async def test_agent_hangs_up_through_the_api(sip_server: SipRunning, phone1: Peer) -> None:
    op = await _agent(sip_server.url)
    try:
        events = op.events()
        await _connect_queue_call(sip_server, phone1, op, events)
        await op.hangup()
        bye = await phone1.expect("BYE")
        phone1.respond(bye, 200)
        tbye = await sip_server.trunk.expect("BYE")
        sip_server.trunk.respond(tbye, 200)
        gone = await _next(events, "hangup")
        assert gone.call["cause"] == 4
    finally:
        await op.__aexit__(None, None, None)
