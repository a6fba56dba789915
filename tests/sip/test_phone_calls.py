"""Calls a phone places itself (handset): after the 407 challenge its INVITE becomes the core's
``PhoneCall`` — the agent's own OUTGOING call — to an extension (that phone rings), to an outside
number (out on the trunk) or to a queue's number (the queue rings a free agent)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.sip.conftest import SipRunning
from tests.sip.helpers import next_call
from tests.sip.peer import Msg, Peer
from ucs.client import Operator

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _phone(sip_server: SipRunning, n: int) -> Peer:
    phone = await Peer(f"phone{n}", sip_server.sip).open()
    assert (await phone.register(f"phone{n}-secret")).code == 200
    return phone


@pytest.fixture
async def phone1(sip_server: SipRunning) -> AsyncIterator[Peer]:
    phone = await _phone(sip_server, 1)
    yield phone
    phone.close()


@pytest.fixture
async def phone2(sip_server: SipRunning) -> AsyncIterator[Peer]:
    phone = await _phone(sip_server, 2)
    yield phone
    phone.close()


async def _operator(url: str, n: int) -> Operator:
    """agentN logged in through the SDK on phoneN, READY."""
    op = Operator(url)
    await op.__aenter__()
    await op.login(f"agent{n}", f"agent{n}-pass")
    await op.select_identifier(f"phone{n}")
    await op.provision()
    await op.change_status("READY")
    return op


async def _final(peer: Peer, method: str, code: int = 200) -> Msg:
    """The response ``code`` to our ``method`` (skipping retransmitted answers to others)."""
    async with asyncio.timeout(5):
        while True:
            msg = await peer.expect(code)
            if msg.cseq_method == method:
                return msg


async def _cdr(sip_server: SipRunning, uid: str, **params: int) -> dict[str, object]:
    await asyncio.to_thread(sip_server.server.store.flush)
    async with httpx.AsyncClient(base_url=sip_server.url, headers=ADMIN) as http:
        records = (await http.get("/api/cdr", params=params)).json()
    found: dict[str, object] = next(r for r in records if r["uniqueid"] == uid)
    return found


async def test_phone_dials_an_extension(sip_server: SipRunning, phone1: Peer, phone2: Peer) -> None:
    op1, op2 = await _operator(sip_server.url, 1), await _operator(sip_server.url, 2)
    try:
        ev1, ev2 = op1.events(), op2.events()
        d, _ = await phone1.dial("1002", "phone1-secret")
        ring = await phone2.expect("INVITE")
        assert "answer-after" not in str(ring)
        assert f"m=audio {phone1.port + 1000}" in ring.body  # phone1's offer, passed on
        phone2.respond(ring, 180)
        assert (await phone1.expect(180)).code == 180
        theirs = (await next_call(ev2, "ringing")).call
        assert (theirs["direction"], theirs["number"], theirs["state"]) == ("INCOMING", "1001", 2)
        mine = (await next_call(ev1, "ringing")).call
        assert (mine["direction"], mine["number"]) == ("OUTGOING", "1002")
        assert mine["uniqueid"] == theirs["uniqueid"] == ring.get("x-ucs-uniqueid")
        assert str(mine["caller_channel"]).startswith("SIP/phone1-")
        phone2.respond(ring, 200, body=phone2.sdp)  # phone2's handset
        await phone2.expect("ACK")
        ok = await _final(phone1, "INVITE")
        assert f"m=audio {phone2.port + 1000}" in ok.body
        phone1.ack(ok, d)
        mine = (await next_call(ev1, "connect")).call
        assert (mine["direction"], mine["state"], mine["caller_user_id"]) == ("OUTGOING", 3, 1)
        theirs = (await next_call(ev2, "connect")).call
        assert (theirs["direction"], theirs["state"], theirs["connected_user_id"]) == (
            "INCOMING",
            3,
            2,
        )
        assert (await op1.state())["calls"][0]["direction"] == "OUTGOING"
        phone1.bye(d)
        await _final(phone1, "BYE")
        bye = await phone2.expect("BYE")
        phone2.respond(bye, 200)
        assert (await next_call(ev1, "hangup")).call["cause"] == 3
        assert (await next_call(ev2, "hangup")).call["cause"] == 3
    finally:
        await op1.__aexit__(None, None, None)
        await op2.__aexit__(None, None, None)


async def test_phone_dials_an_outside_number(sip_server: SipRunning, phone1: Peer) -> None:
    op = await _operator(sip_server.url, 1)
    trunk = sip_server.trunk
    try:
        events = op.events()
        d, _ = await phone1.dial("777123456", "phone1-secret")
        out = await trunk.expect("INVITE")
        assert out.first.startswith("INVITE sip:777123456@")
        assert "sip:1001@" in (out.get("from") or "")  # from the phone's extension
        assert f"m=audio {phone1.port + 1000}" in out.body
        trunk.respond(out, 180)
        assert (await phone1.expect(180)).code == 180
        ringing = (await next_call(events, "ringing")).call
        assert (ringing["direction"], ringing["number"]) == ("OUTGOING", "777123456")
        uid = str(ringing["uniqueid"])
        assert out.get("x-ucs-uniqueid") == uid
        trunk.respond(out, 200, body=trunk.sdp)
        await trunk.expect("ACK")
        ok = await _final(phone1, "INVITE")
        assert f"m=audio {trunk.port + 1000}" in ok.body
        phone1.ack(ok, d)
        connected = (await next_call(events, "connect")).call
        assert (connected["state"], connected["connected_type"]) == (3, "trunk")
        trunk.bye(trunk.dialog_of(out))  # the far end hangs up
        await _final(trunk, "BYE")
        bye = await phone1.expect("BYE")
        phone1.respond(bye, 200)
        assert (await next_call(events, "hangup")).call["cause"] == 4
        record = await _cdr(sip_server, uid)
        assert (record["cause"], record["direction"], record["caller_user_id"]) == (
            4,
            "OUTGOING",
            1,
        )
        assert (record["called_number"], record["connected_type"]) == ("777123456", "trunk")
        assert record["connected"] is not None
    finally:
        await op.__aexit__(None, None, None)


async def test_phone_no_one_is_logged_in_on_calls_out_busy(sip_server: SipRunning) -> None:
    phone3 = await _phone(sip_server, 3)
    trunk = sip_server.trunk
    try:
        d, _ = await phone3.dial("777000001", "phone3-secret")
        out = await trunk.expect("INVITE")
        uid = out.get("x-ucs-uniqueid")
        assert uid is not None
        trunk.respond(out, 486)
        await trunk.expect("ACK")
        busy = await _final(phone3, "INVITE", 486)
        phone3._ack_failure(busy, d)
        record = await _cdr(sip_server, uid)
        assert (record["cause"], record["caller_line_id"], record["caller_user_id"]) == (1, 3, None)
    finally:
        phone3.close()


@pytest.mark.parametrize(("number", "code"), [("nobody", 404), ("1001", 486)])
async def test_phone_dials_no_number_or_itself(
    sip_server: SipRunning, phone1: Peer, number: str, code: int
) -> None:
    """A number with no digits is invalid (cause 2: 404); the phone's own extension is busy
    (cause 1: 486). The trunk is not asked."""
    d, _ = await phone1.dial(number, "phone1-secret")
    refused = await _final(phone1, "INVITE", code)
    phone1._ack_failure(refused, d)
    assert sip_server.trunk.inbox.empty()


async def test_phone_dials_a_queue_number(
    sip_server: SipRunning, phone1: Peer, phone2: Peer
) -> None:
    op1, op2 = await _operator(sip_server.url, 1), await _operator(sip_server.url, 2)
    try:
        ev1, ev2 = op1.events(), op2.events()
        d, _ = await phone1.dial("100", "phone1-secret")
        ring = await phone2.expect("INVITE")  # queue 1: agent1 is the caller, agent2 is free
        assert "answer-after" not in str(ring)
        phone2.respond(ring, 180)
        assert (await phone1.expect(180)).code == 180
        theirs = (await next_call(ev2, "ringing")).call
        assert (theirs["direction"], theirs["called_number"], theirs["number"]) == (
            "INCOMING",
            "100",
            "1001",
        )
        mine = (await next_call(ev1, "ringing")).call
        assert (mine["direction"], mine["called_name"]) == ("OUTGOING", "Support")
        await op2.answer()  # the ringing INVITE is replaced by one with answer-after=0
        cancel = await phone2.expect("CANCEL")
        phone2.respond(cancel, 200)
        phone2.respond(ring, 487)
        await phone2.expect("ACK")
        pick = await phone2.expect("INVITE")
        assert "answer-after=0" in (pick.get("call-info") or "")
        assert "sip:1001@" in (pick.get("from") or "")  # phone1's extension, as it rang
        phone2.respond(pick, 200, body=phone2.sdp)
        await phone2.expect("ACK")
        ok = await _final(phone1, "INVITE")
        assert f"m=audio {phone2.port + 1000}" in ok.body
        phone1.ack(ok, d)
        assert (await next_call(ev1, "connect")).call["direction"] == "OUTGOING"
        assert (await next_call(ev2, "connect")).call["direction"] == "INCOMING"
        phone2.bye(phone2.dialog_of(pick))
        await _final(phone2, "BYE")
        bye = await phone1.expect("BYE")
        phone1.respond(bye, 200)
        gone = (await next_call(ev1, "hangup")).call
        assert gone["cause"] == 4
        record = await _cdr(sip_server, str(gone["uniqueid"]), queue=1)  # a queue 1 call
        assert (record["cause"], record["direction"], record["caller_user_id"]) == (
            4,
            "OUTGOING",
            1,
        )
    finally:
        await op1.__aexit__(None, None, None)
        await op2.__aexit__(None, None, None)


async def test_phone_hangs_up_while_the_number_rings(sip_server: SipRunning, phone1: Peer) -> None:
    """The phone's CANCEL is the caller hanging up (cause 3); the trunk's INVITE is cancelled."""
    op = await _operator(sip_server.url, 1)
    trunk = sip_server.trunk
    try:
        events = op.events()
        d, invite = await phone1.dial("777123456", "phone1-secret")
        out = await trunk.expect("INVITE")
        trunk.respond(out, 180)
        await next_call(events, "ringing")
        phone1.cancel(d, invite.get("via") or "")
        await _final(phone1, "CANCEL")
        terminated = await _final(phone1, "INVITE", 487)
        phone1._ack_failure(terminated, d)
        cancel = await trunk.expect("CANCEL")
        trunk.respond(cancel, 200)
        trunk.respond(out, 487)
        gone = (await next_call(events, "hangup")).call
        assert gone["cause"] == 3
        assert (await _cdr(sip_server, str(gone["uniqueid"])))["cause"] == 3
    finally:
        await op.__aexit__(None, None, None)
