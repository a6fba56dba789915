"""Click-to-dial: the agent's phone is called first (answer-after=0, no SDP: it makes the
offer), then the number on the trunk; SIP failures map to the document's causes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.sip.conftest import SipRunning
from tests.sip.helpers import agent, next_call
from tests.sip.peer import Peer
from ucs.client import Operator

pytestmark = pytest.mark.anyio


@pytest.fixture
async def phone1(sip_server: SipRunning) -> AsyncIterator[Peer]:
    phone = await Peer("phone1", sip_server.sip).open()
    assert (await phone.register("phone1-secret")).code == 200
    yield phone
    phone.close()


async def _dial(sip_server: SipRunning, phone: Peer, op: Operator, number: str) -> None:
    await op.dial(number)
    first = await phone.expect("INVITE")
    assert "answer-after=0" in (first.get("call-info") or "") and not first.body
    phone.respond(first, 200, body=phone.sdp)  # the offer
    out = await sip_server.trunk.expect("INVITE")
    assert out.first.startswith(f"INVITE sip:{number}@")
    assert f"m=audio {phone.port + 1000}" in out.body
    phone.last_invite = out  # type: ignore[attr-defined]


async def test_dial_connects_through_the_trunk(sip_server: SipRunning, phone1: Peer) -> None:
    op = await agent(sip_server.url)
    try:
        events = op.events()
        await _dial(sip_server, phone1, op, "777123456")
        out = phone1.last_invite  # type: ignore[attr-defined]
        trunk = sip_server.trunk
        trunk.respond(out, 180)
        await next_call(events, "ringing")
        trunk.respond(out, 200, body=trunk.sdp)
        ack = await phone1.expect("ACK")  # late offer: the trunk's answer is in the ACK
        assert f"m=audio {trunk.port + 1000}" in ack.body
        connected = await next_call(events, "connect")
        assert connected.call["direction"] == "OUTGOING" and connected.call["state"] == 3
        await op.hangup()
        for peer in (phone1, trunk):
            bye = await peer.expect("BYE")
            peer.respond(bye, 200)
        gone = await next_call(events, "hangup")
        assert gone.call["cause"] == 3
    finally:
        await op.__aexit__(None, None, None)


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (486, 1),
        (600, 1),
        (404, 2),
        (484, 2),
        (604, 2),
        (603, 5),
        (408, 6),
        (480, 6),
    ],
)
async def test_sip_failures_map_to_causes(
    sip_server: SipRunning, phone1: Peer, code: int, cause: int
) -> None:
    op = await agent(sip_server.url)
    try:
        events = op.events()
        await _dial(sip_server, phone1, op, "777000000")
        sip_server.trunk.respond(phone1.last_invite, code)  # type: ignore[attr-defined]
        gone = await next_call(events, "hangup")
        assert gone.call["cause"] == cause
        bye = await phone1.expect("BYE")  # the agent's phone is let go
        phone1.respond(bye, 200)
        await asyncio.sleep(0)
    finally:
        await op.__aexit__(None, None, None)


async def test_ring_timeout_cancels_the_number_with_cause_6(
    sip_server: SipRunning, phone1: Peer
) -> None:
    """A number that rings and never answers is cancelled after the ring timeout (shortened
    here from 60 s): the trunk gets a CANCEL, the agent's phone a BYE, the call cause 6."""
    assert sip_server.server.sip is not None and sip_server.server.sip.b2bua is not None
    sip_server.server.sip.b2bua.ring_timeout = 0.5
    op = await agent(sip_server.url)
    try:
        events = op.events()
        await _dial(sip_server, phone1, op, "777000002")
        trunk = sip_server.trunk
        out = phone1.last_invite  # type: ignore[attr-defined]
        trunk.respond(out, 180)
        await next_call(events, "ringing")
        cancel = await trunk.expect("CANCEL")
        assert cancel.call_id == out.call_id
        trunk.respond(cancel, 200)
        trunk.respond(out, 487)
        await trunk.expect("ACK")
        gone = await next_call(events, "hangup")
        assert gone.call["cause"] == 6
        bye = await phone1.expect("BYE")
        phone1.respond(bye, 200)
    finally:
        await op.__aexit__(None, None, None)
