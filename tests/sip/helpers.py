"""What the SIP tests share: an agent working through the SDK, the next call event of a kind,
a queue call connected end to end."""

from __future__ import annotations

import asyncio

from tests.sip.conftest import SipRunning
from tests.sip.peer import Dialog, Msg, Peer
from ucs.client import Event, Operator
from ucs.client.operator import EventStream

__all__ = ["agent", "connect_queue_call", "next_call", "reinvited"]


async def next_call(events: EventStream, what: str) -> Event:
    async with asyncio.timeout(5):
        async for event in events:
            if event.type == "call" and event.what == what:
                return event
    raise AssertionError("events ended")


async def reinvited(peer: Peer, direction: str, wait: float = 5.0) -> None:
    """The peer is re-INVITEd with media in ``direction`` (sendonly, inactive…) and answers."""
    re = await peer.expect("INVITE", wait=wait)
    assert f"a={direction}" in re.body
    peer.respond(re, 200, body=peer.sdp)
    await peer.expect("ACK", wait=wait)


async def agent(url: str, username: str = "agent1", phone: str = "phone1") -> Operator:
    """The agent (password ``USERNAME-pass``) signed in on the phone, READY."""
    op = Operator(url)
    await op.__aenter__()
    await op.login(username, f"{username}-pass")
    await op.select_identifier(phone)
    await op.provision()
    await op.change_status("READY")
    return op


async def connect_queue_call(
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
    ringing = await next_call(events, "ringing")
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
    connected = await next_call(events, "connect")
    assert connected.call["state"] == 3 and connected.call["uniqueid"] == ringing.call["uniqueid"]
    return d, phone.dialog_of(pick), pick
