"""Transfers to a queue's number on the SIP switch: the caller (blind) or the consultation call
(attended) waits in the demo's Sales (200), whose agent3 is rung on phone3 and answers by its
handset; the media follows by re-INVITEs, as for any transfer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.sip.conftest import SipRunning
from tests.sip.helpers import agent, connect_queue_call, next_call, reinvited
from tests.sip.peer import Peer
from ucs.client import Operator
from ucs.client.operator import EventStream

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


@pytest.fixture
async def phones(sip_server: SipRunning) -> AsyncIterator[tuple[Peer, Peer]]:
    phone1 = await Peer("phone1", sip_server.sip).open()
    phone3 = await Peer("phone3", sip_server.sip).open()
    assert (await phone1.register("phone1-secret")).code == 200
    assert (await phone3.register("phone3-secret")).code == 200
    yield phone1, phone3
    phone1.close()
    phone3.close()


async def _call_of(events: EventStream, what: str, uid: str) -> dict[str, Any]:
    while True:
        event = await next_call(events, what)
        if event.call["uniqueid"] == uid:
            return event.call


async def test_a_blind_transfer_to_a_queues_number_rings_that_queues_agent(
    sip_server: SipRunning, phones: tuple[Peer, Peer]
) -> None:
    phone1, phone3 = phones
    trunk = sip_server.trunk
    op1, op3 = await agent(sip_server.url), await agent(sip_server.url, "agent3", "phone3")
    try:
        events1, events3 = op1.events(), op3.events()
        d, _, _ = await connect_queue_call(sip_server, phone1, op1, events1)
        uid = (await op1.state())["calls"][0]["uniqueid"]
        await op1.blind_transfer("200")
        bye = await phone1.expect("BYE")  # the agent's phone leaves; nothing is dialled
        phone1.respond(bye, 200)
        assert (await _call_of(events1, "hangup", uid))["cause"] == 8
        ring = await phone3.expect("INVITE")  # Sales offers the caller to agent3
        assert f"m=audio {trunk.port + 1000}" in ring.body  # the caller's media, offered
        assert (await _call_of(events3, "ringing", uid))["called_name"] == "Sales"
        phone3.respond(ring, 200, body=phone3.sdp)  # answered by its handset
        await phone3.expect("ACK")
        re_trunk = await trunk.expect("INVITE")  # the caller now hears phone3
        assert re_trunk.call_id == d.call_id and f"m=audio {phone3.port + 1000}" in re_trunk.body
        trunk.respond(re_trunk, 200, body=trunk.sdp)
        await trunk.expect("ACK")
        assert (await _call_of(events3, "connect", uid))["state"] == 3
        trunk.bye(d)
        assert (await trunk.expect(200)).cseq_method == "BYE"
        phone3.respond(await phone3.expect("BYE"), 200)
        assert (await _call_of(events3, "hangup", uid))["cause"] == 3
        user1 = (await op1.state())["user"]
        assert (user1["transferred"], user1["transferred_external"]) == (1, 0)
    finally:
        for op in (op1, op3):
            await op.__aexit__(None, None, None)


async def test_an_attended_transfer_to_a_queues_number_consults_its_agent(
    sip_server: SipRunning, phones: tuple[Peer, Peer]
) -> None:
    phone1, phone3 = phones
    trunk = sip_server.trunk
    op1: Operator = await agent(sip_server.url)
    op3: Operator = await agent(sip_server.url, "agent3", "phone3")
    try:
        events1, events3 = op1.events(), op3.events()
        d, _, _ = await connect_queue_call(sip_server, phone1, op1, events1)
        consult = await op1.transfer("200")  # the caller waits; agent1 consults Sales
        cid = consult["uniqueid"]
        uid = next(c["uniqueid"] for c in (await op1.state())["calls"] if c["state"] == 4)
        assert consult["called_name"] == "Sales" and cid != uid
        await reinvited(trunk, "sendonly")
        await reinvited(phone1, "inactive")
        first = await phone1.expect("INVITE")  # agent1's phone first (answer-after=0) ...
        assert "answer-after=0" in (first.get("call-info") or "") and not first.body
        offer = phone1.sdp.replace(f"m=audio {phone1.port + 1000}", "m=audio 40002")
        phone1.respond(first, 200, body=offer)
        ring = await phone3.expect("INVITE")  # ... then Sales rings agent3 with its offer
        assert "m=audio 40002" in ring.body
        assert (await _call_of(events3, "ringing", cid))["caller_username"] == "agent1"
        phone3.respond(ring, 200, body=phone3.sdp)
        await phone3.expect("ACK")
        ack = await phone1.expect("ACK")  # the answer to phone1's offer: phone3's media
        assert f"m=audio {phone3.port + 1000}" in ack.body
        assert (await _call_of(events1, "connect", cid))["state"] == 3

        await op1.finish_transfer()
        for _ in range(2):  # agent1's phone leaves both dialogs
            phone1.respond(await phone1.expect("BYE"), 200)
        await reinvited(trunk, "sendrecv")  # the caller and phone3 hear each other
        re_phone3 = await phone3.expect("INVITE")
        assert f"m=audio {trunk.port + 1000}" in re_phone3.body
        phone3.respond(re_phone3, 200, body=phone3.sdp)
        await phone3.expect("ACK")
        assert (await _call_of(events3, "connect", uid))["state"] == 3
        trunk.bye(d)
        assert (await trunk.expect(200)).cseq_method == "BYE"
        phone3.respond(await phone3.expect("BYE"), 200)
        async with httpx.AsyncClient(base_url=sip_server.url, headers=ADMIN) as http:
            async with asyncio.timeout(30):
                while True:
                    rows = {r["uniqueid"]: r for r in (await http.get("/api/cdr")).json()}
                    if uid in rows and cid in rows:
                        break
                    await asyncio.sleep(0.1)
        assert rows[cid]["data"] == {"transferred_from": uid}
        assert (rows[cid]["cause"], rows[uid]["cause"]) == (8, 3)
    finally:
        for op in (op1, op3):
            await op.__aexit__(None, None, None)
