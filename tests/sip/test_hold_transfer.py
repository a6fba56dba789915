"""Hold and unhold by re-INVITE; blind transfer by re-bridging the caller's leg."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.sip.conftest import SipRunning
from tests.sip.helpers import agent, connect_queue_call, next_call, reinvited
from tests.sip.peer import Msg, Peer
from ucs.client import Operator
from ucs.media.sdp import answer_direction, with_direction

pytestmark = pytest.mark.anyio


@pytest.fixture
async def phone1(sip_server: SipRunning) -> AsyncIterator[Peer]:
    phone = await Peer("phone1", sip_server.sip).open()
    assert (await phone.register("phone1-secret")).code == 200
    yield phone
    phone.close()


async def test_hold_and_unhold_reinvite_both_ends(sip_server: SipRunning, phone1: Peer) -> None:
    op = await agent(sip_server.url)
    try:
        events = op.events()
        await connect_queue_call(sip_server, phone1, op, events)
        held = await op.hold()
        assert held["state"] == 5
        await reinvited(sip_server.trunk, "sendonly")
        await reinvited(phone1, "inactive")
        await op.unhold()
        await reinvited(sip_server.trunk, "sendrecv")
        await reinvited(phone1, "sendrecv")
    finally:
        await op.__aexit__(None, None, None)


async def test_the_phones_own_hold_is_passed_on_and_holds_the_call(
    sip_server: SipRunning, phone1: Peer
) -> None:
    """Without a media engine the phone's hold offer goes to the caller (who hears what the
    phone plays), and the agent's call goes HELD; the phone itself is not re-INVITEd."""
    op = await agent(sip_server.url)
    try:
        events = op.events()
        _, pd, _ = await connect_queue_call(sip_server, phone1, op, events)
        for how, state in (("sendonly", 5), ("sendrecv", 3)):
            pd.cseq += 1
            phone1.request("INVITE", pd.remote_target, pd, with_direction(phone1.sdp, how))
            ok = await phone1.expect(200)
            assert f"a={answer_direction(how)}" in ok.body
            phone1.ack(ok, pd)
            await reinvited(sip_server.trunk, how)  # passed on
            assert (await next_call(events, "change")).call["state"] == state
        assert (await op.state())["call"]["state"] == 3
        assert not any(m.method == "INVITE" for m in _drained(phone1))
    finally:
        await op.__aexit__(None, None, None)


async def test_the_agents_keys_by_sip_info_are_passed_to_the_far_party(
    sip_server: SipRunning, phone1: Peer
) -> None:
    """Without a media engine the agent's phone's INFO (a key for an IVR) goes to the trunk."""
    op = await agent(sip_server.url)
    try:
        _, pd, _ = await connect_queue_call(sip_server, phone1, op, op.events())
        pd.cseq += 1
        body = "Signal=7\r\nDuration=160\r\n"
        phone1.request("INFO", pd.remote_target, pd, body, content_type="application/dtmf-relay")
        assert (await phone1.expect(200)).cseq_method == "INFO"
        info = await sip_server.trunk.expect("INFO")
        assert "Signal=7" in info.body
        assert (info.get("content-type") or "").startswith("application/dtmf-relay")
        sip_server.trunk.respond(info, 200)
    finally:
        await op.__aexit__(None, None, None)


def _drained(peer: Peer) -> list[Msg]:
    got = []
    while not peer.inbox.empty():
        got.append(peer.inbox.get_nowait())
    return got


async def test_blind_transfer_sends_the_caller_to_an_outside_number(
    sip_server: SipRunning, phone1: Peer
) -> None:
    op = await agent(sip_server.url)
    try:
        events = op.events()
        await connect_queue_call(sip_server, phone1, op, events)
        await op.blind_transfer("777555444")
        bye = await phone1.expect("BYE")  # the agent's phone leaves
        phone1.respond(bye, 200)
        left = await next_call(events, "hangup")
        assert left.call["cause"] == 8
        trunk = sip_server.trunk
        out = await trunk.expect("INVITE")
        assert out.first.startswith("INVITE sip:777555444@")
        trunk.respond(out, 200, body=trunk.sdp.replace("m=audio", "m=audio 1"[:7]))
        await trunk.expect("ACK")
        # the caller's leg is re-bridged to the new party by a re-INVITE
        await reinvited(trunk, "sendrecv")
    finally:
        await op.__aexit__(None, None, None)


async def test_attended_transfer_joins_the_caller_with_the_consultation(
    sip_server: SipRunning, phone1: Peer
) -> None:
    """agent1 talks to a trunk caller, consults extension 1002 (agent2's phone2, answered by its
    handset), then joins the two: the agent's phone leaves both dialogs, and the trunk and phone2
    are re-INVITEd with each other's media. The core moves the caller's call to agent2."""
    trunk = sip_server.trunk
    phone2 = await Peer("phone2", sip_server.sip).open()
    op = await agent(sip_server.url)
    op2 = Operator(sip_server.url)
    await op2.__aenter__()
    try:
        assert (await phone2.register("phone2-secret")).code == 200
        events = op.events()
        d, _, _ = await connect_queue_call(sip_server, phone1, op, events)
        await op2.login("agent2", "agent2-pass")
        await op2.select_identifier("phone2")
        await op2.provision()
        events2 = op2.events()

        suspended = await op.transfer()
        assert suspended["state"] == 4
        await reinvited(trunk, "sendonly")  # the caller waits
        await reinvited(phone1, "inactive")
        uid = suspended["uniqueid"]

        # the consultation: agent1's phone is called first (answer-after=0, no SDP) ...
        await op.dial("1002")
        first = await phone1.expect("INVITE")
        assert "answer-after=0" in (first.get("call-info") or "") and not first.body
        consult_sdp = phone1.sdp.replace(f"m=audio {phone1.port + 1000}", "m=audio 40002")
        phone1.respond(first, 200, body=consult_sdp)
        # ... then phone2 with that offer; it answers by its handset
        ring2 = await phone2.expect("INVITE")
        assert "m=audio 40002" in ring2.body and "answer-after" not in str(ring2)
        assert ring2.get("x-ucs-uniqueid") not in (None, uid)
        phone2.respond(ring2, 180)
        ringing2 = await next_call(events2, "ringing")
        assert ringing2.call["number"] == "1001"  # agent2 sees agent1's extension calling
        phone2.respond(ring2, 200, body=phone2.sdp)
        await phone2.expect("ACK")
        ack = await phone1.expect("ACK")  # the answer to phone1's offer: phone2's media
        assert f"m=audio {phone2.port + 1000}" in ack.body
        consult = await next_call(events, "connect")
        assert consult.call["state"] == 3 and consult.call["uniqueid"] != uid
        assert (await next_call(events2, "connect")).call["state"] == 3

        await op.finish_transfer()
        # agent1's phone leaves both dialogs
        for _ in range(2):
            bye = await phone1.expect("BYE")
            phone1.respond(bye, 200)
        # the trunk and phone2 are re-INVITEd with each other's media, in both directions
        re_trunk = await trunk.expect("INVITE")
        assert re_trunk.call_id == d.call_id
        assert f"m=audio {phone2.port + 1000}" in re_trunk.body and "a=sendrecv" in re_trunk.body
        trunk.respond(re_trunk, 200, body=trunk.sdp)
        await trunk.expect("ACK")
        re_phone2 = await phone2.expect("INVITE")
        assert re_phone2.call_id == ring2.call_id
        assert f"m=audio {trunk.port + 1000}" in re_phone2.body
        assert "a=sendrecv" in re_phone2.body
        phone2.respond(re_phone2, 200, body=phone2.sdp)
        await phone2.expect("ACK")

        # the core: agent1 left both calls with cause 8; agent2 now talks to the caller
        left = [(await next_call(events, "hangup")).call for _ in range(2)]
        assert {c["uniqueid"] for c in left} == {uid, consult.call["uniqueid"]}
        assert [c["cause"] for c in left] == [8, 8]
        mine = await op.state()
        assert mine["calls"] == []
        theirs = await op2.state()
        assert [(c["uniqueid"], c["state"]) for c in theirs["calls"]] == [(uid, 3)]

        # the caller hangs up: phone2 gets the BYE, the call ends for agent2 with cause 3
        trunk.bye(d)
        assert (await trunk.expect(200)).cseq_method == "BYE"
        bye2 = await phone2.expect("BYE")
        phone2.respond(bye2, 200)
        while True:
            gone = await next_call(events2, "hangup")
            if gone.call["uniqueid"] == uid:
                break
        assert gone.call["cause"] == 3
    finally:
        await op2.__aexit__(None, None, None)
        await op.__aexit__(None, None, None)
        phone2.close()
