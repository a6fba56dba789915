"""Hold and unhold by re-INVITE; blind transfer by re-bridging the caller's leg."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.sip.conftest import SipRunning
from tests.sip.peer import Peer
from tests.sip.test_queue_call import _agent, _connect_queue_call, _next

pytestmark = pytest.mark.anyio


@pytest.fixture
async def phone1(sip_server: SipRunning) -> AsyncIterator[Peer]:
    phone = await Peer("phone1", sip_server.sip).open()
    assert (await phone.register("phone1-secret")).code == 200
    yield phone
    phone.close()


async def _reinvited(peer: Peer, direction: str) -> None:
    re = await peer.expect("INVITE")
    assert f"a={direction}" in re.body
    peer.respond(re, 200, body=peer.sdp)
    await peer.expect("ACK")


async def test_hold_and_unhold_reinvite_both_ends(sip_server: SipRunning, phone1: Peer) -> None:
    op = await _agent(sip_server.url)
    try:
        events = op.events()
        await _connect_queue_call(sip_server, phone1, op, events)
        held = await op.hold()
        assert held["state"] == 5
        await _reinvited(sip_server.trunk, "sendonly")
        await _reinvited(phone1, "inactive")
        await op.unhold()
        await _reinvited(sip_server.trunk, "sendrecv")
        await _reinvited(phone1, "sendrecv")
    finally:
        await op.__aexit__(None, None, None)


async def test_blind_transfer_sends_the_caller_to_an_outside_number(
    sip_server: SipRunning, phone1: Peer
) -> None:
    op = await _agent(sip_server.url)
    try:
        events = op.events()
        await _connect_queue_call(sip_server, phone1, op, events)
        await op.blind_transfer("777555444")
        bye = await phone1.expect("BYE")  # the agent's phone leaves
        phone1.respond(bye, 200)
        left = await _next(events, "hangup")
        assert left.call["cause"] == 8
        trunk = sip_server.trunk
        out = await trunk.expect("INVITE")
        assert out.first.startswith("INVITE sip:777555444@")
        trunk.respond(out, 200, body=trunk.sdp.replace("m=audio", "m=audio 1"[:7]))
        await trunk.expect("ACK")
        # the caller's leg is re-bridged to the new party by a re-INVITE
        await _reinvited(trunk, "sendrecv")
    finally:
        await op.__aexit__(None, None, None)
