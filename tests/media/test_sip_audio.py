"""SIP calls' audio in the media engine (``--switch sip``, CONTRACT §9 and §10): real SIP
dialogs with the server, real RTP from the endpoints (the caller says 440 Hz, the agent's desk
phone 1 kHz) through Janus, judged by frequency.

The B2BUA answers the trunk's caller with the engine's address (at once: queue 1 plays to
waiting callers), calls the agent's phone without a body and answers its offer in the ACK with
the engine's address; mute, hold and recording are then the engine's."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.media.audio import (
    GREETING,
    MUSIC,
    SILENCE_DBFS,
    assert_paused_recording,
    assert_tone,
    assert_two_sides,
    channels,
    heard_sounds,
    level_dbfs,
    read_wav,
    stretch,
    write_tone,
)
from tests.media.conftest import Netns
from tests.media.helpers import ADMIN, set_recording
from tests.media.sip import CALLER as CALLER_NUMBER
from tests.media.sip import (
    SipAudio,
    Transferred,
    call_in,
    connect_desk_call,
    engine_of,
    hang_up_desk_call,
    listen,
    sip_address,
)
from tests.media.test_recording import STRETCH, recording_of
from tests.server.conftest import Running
from tests.sip.helpers import next_call
from tests.sip.peer import Msg, Peer
from ucs.client import Operator
from ucs.media.relay import relay_installed

pytestmark = pytest.mark.anyio

CALLER, AGENT, OTHER = 440.0, 1000.0, 1500.0


async def queue_sounds(http: httpx.AsyncClient, tmp_path: Path, **fields: object) -> None:
    """Queue 1's greeting an 800 Hz sound, its music 600 Hz (told apart by frequency)."""
    for name, hz, seconds in (("greet", GREETING, 2.0), ("tune", MUSIC, 5.0)):
        wav = write_tone(tmp_path / f"{name}.wav", hz, seconds=seconds, rate=8000)
        assert (await http.put(f"/api/sounds/{name}", content=wav.read_bytes())).status_code == 200
    r = await http.patch("/api/queues/1", json={"greeting": "greet", "music": "tune", **fields})
    assert r.status_code == 200, r.text


async def test_a_waiting_sip_caller_hears_the_greeting_the_music_and_its_place(
    sip_media: tuple[Running, Peer], netns: Netns, tmp_path: Path
) -> None:
    server, trunk = sip_media
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
        await queue_sounds(http, tmp_path, announce_every=5, language="en")
        d = trunk.dialog_to("100")
        trunk.invite(d)
        ok = await trunk.expect(200, wait=20)  # nobody is logged in: answered by the server
        assert engine_of(ok)[0] == netns.engine_ip
        trunk.ack(ok, d)
        assert isinstance(trunk, SipAudio) and trunk.rtp is not None
        trunk.speak_to(ok)
        async with asyncio.timeout(60):
            while len(trunk.rtp.heard) < 9.5 * 8000:  # noqa: ASYNC110 (no event to wait on)
                await asyncio.sleep(0.2)
        heard, rate = read_wav(trunk.rtp.heard_wav())
        assert heard_sounds(heard, rate)[:4] == ["greeting", "music", "speech", "music"]
        trunk.bye(d)
        assert (await trunk.expect(200)).cseq_method == "BYE"


async def test_a_desk_phone_talks_mutes_holds_and_is_recorded(
    sip_media: tuple[Running, Peer], desk: tuple[SipAudio, Operator], netns: Netns, tmp_path: Path
) -> None:
    (server, trunk), (phone, op) = sip_media, desk
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
        await queue_sounds(http, tmp_path)
        await set_recording(http, 1, "always")
        events = op.events()
        d = await connect_desk_call(trunk, phone, op, events, netns.engine_ip)
        uid = str((await op.state())["call"]["uniqueid"])

        assert_tone(await listen(trunk), 8000, AGENT)  # they hear each other
        assert_tone(await listen(phone), 8000, CALLER)

        await op.mute()  # the caller no longer hears the agent; the agent the caller
        assert level_dbfs(await listen(trunk)) < SILENCE_DBFS
        assert_tone(await listen(phone), 8000, CALLER)
        await op.mute()  # (a toggle)
        assert_tone(await listen(trunk), 8000, AGENT)

        await op.hold()  # music for the caller, nothing for the agent
        assert_tone(await listen(trunk), 8000, MUSIC)
        assert level_dbfs(await listen(phone)) < SILENCE_DBFS
        await op.unhold()
        assert_tone(await listen(trunk), 8000, AGENT)
        assert_tone(await listen(phone), 8000, CALLER)

        await hang_up_desk_call(trunk, phone, d, events)
        left, right, rate = channels(await recording_of(http, uid))
        assert_tone(stretch(left, rate, 1.0, 1.5), rate, CALLER)  # the caller left
        assert_tone(stretch(right, rate, 1.0, 1.5), rate, AGENT)  # the agent right
        cdr = (await http.get("/api/cdr")).json()
        assert next(c for c in cdr if c["uniqueid"] == uid)["recorded"] is True


async def test_a_desk_phones_call_is_recorded_on_demand_with_a_silent_pause(
    sip_media: tuple[Running, Peer], desk: tuple[SipAudio, Operator], netns: Netns
) -> None:
    (server, trunk), (phone, op) = sip_media, desk
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
        await set_recording(http, 1, "on_demand")
        events = op.events()
        d = await connect_desk_call(trunk, phone, op, events, netns.engine_ip)
        assert_tone(await listen(phone), 8000, CALLER)  # talking before the recording
        assert (await op.start_recording())["recorded"] is True
        began = time.time()
        await asyncio.sleep(STRETCH)
        await op.stop_recording()  # a card number is read
        paused = time.time()
        await asyncio.sleep(STRETCH)
        await op.start_recording()
        resumed = time.time()
        await asyncio.sleep(STRETCH)
        uid = str((await op.state())["call"]["uniqueid"])
        await hang_up_desk_call(trunk, phone, d, events)
        ended = time.time()
        data = await recording_of(http, uid)
        listed = (await http.get("/api/recordings", params={"queue": 1})).json()
        entry = next(x for x in listed if x["uniqueid"] == uid)
        assert entry["agent"] == "agent1"
        times = (began, paused, resumed, ended)
        assert_paused_recording(data, entry["start"], times, CALLER, AGENT)


@pytest.mark.parametrize("how", ["info", "rfc4733"])
async def test_a_sip_caller_presses_1_and_is_called_back(
    sip_media: tuple[Running, Peer], tmp_path: Path, how: str
) -> None:
    """CONTRACT §12 with a real caller: the queue offers a callback (spoken), the caller
    presses 1 (SIP INFO, ``application/dtmf-relay``; or as RFC 4733 events in its RTP, which
    rtpengine reads in front of the engine), hears the confirmation instead of the music,
    the server hangs up (BYE), and the request waits in the caller's place."""
    if how == "rfc4733" and not relay_installed():
        pytest.skip("rtpengine is not installed (make media-engine)")
    server, trunk = sip_media
    assert isinstance(trunk, SipAudio) and trunk.rtp is not None
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
        wav = write_tone(tmp_path / "tune.wav", MUSIC, seconds=5.0, rate=8000)
        assert (await http.put("/api/sounds/tune", content=wav.read_bytes())).status_code == 200
        fields = {"greeting": None, "music": "tune", "announce_every": 0, "callback_offer": True}
        assert (await http.patch("/api/queues/1", json=fields)).status_code == 200
        d = await call_in(trunk)
        async with asyncio.timeout(60):  # the offer said (made by espeak-ng first), the music
            while heard_sounds(*read_wav(trunk.rtp.heard_wav()))[:2] != ["speech", "music"]:  # noqa: ASYNC110
                await asyncio.sleep(0.5)
        if how == "info":
            d.cseq += 1
            body = "Signal=1\r\nDuration=160\r\n"
            trunk.request("INFO", d.remote_target, d, body, content_type="application/dtmf-relay")
            assert (await trunk.expect(200)).cseq_method == "INFO"
        else:
            trunk.rtp.press("1")
        bye = await trunk.expect("BYE", wait=60)  # once the confirmation is said
        trunk.respond(bye, 200)
        heard, rate = read_wav(trunk.rtp.heard_wav())
        assert heard_sounds(heard, rate) == ["speech", "music", "speech"]
        async with asyncio.timeout(30):
            while not (cdr := (await http.get("/api/cdr")).json()):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        assert cdr[0]["cause"] == 8 and cdr[0]["connected"] is None
        center = server.server.center
        requests = [c for c in center.calls.values() if c.callback_to is not None]
        assert [c.callback_to.number for c in requests if c.callback_to] == [CALLER_NUMBER]


async def test_an_attended_transfer_moves_the_new_agent_into_the_callers_room(
    sip_media: tuple[Running, Peer], desk: tuple[SipAudio, Operator], netns: Netns, tmp_path: Path
) -> None:
    """agent1 (phone1) talks to the caller, consults extension 1002 (phone2, 1.5 kHz), joins
    them: phone2 is re-INVITEd with the caller's room's address, the music stops, the caller
    and phone2 hear each other; the trunk's leg is never re-INVITEd (its address stays)."""
    (server, trunk), (phone, op) = sip_media, desk
    phone2 = await SipAudio.make("phone2", sip_address(server), netns.host_ip, OTHER)
    op2 = Operator(server.url)
    await op2.__aenter__()
    try:
        assert (await phone2.register("phone2-secret")).code == 200
        async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
            await queue_sounds(http, tmp_path)
        await op2.login("agent2", "agent2-pass")
        await op2.select_identifier("phone2")
        await op2.provision()
        events = op.events()
        d = await connect_desk_call(trunk, phone, op, events, netns.engine_ip)
        uid = str((await op.state())["call"]["uniqueid"])
        assert (await op.transfer())["state"] == 4  # the caller waits, with the music
        assert_tone(await listen(trunk), 8000, MUSIC)
        await op.dial("1002")
        first = await phone.expect("INVITE")  # agent1's phone for the consultation
        assert first.body == ""
        phone.respond(first, 200, body=phone.sdp)
        assert engine_of(await phone.expect("ACK"))[0] == netns.engine_ip
        ring2 = await phone2.expect("INVITE")
        assert ring2.body == ""
        phone2.respond(ring2, 180)
        phone2.respond(ring2, 200, body=phone2.sdp)
        phone2.speak_to(await phone2.expect("ACK"))
        await next_call(events, "connect")

        await op.finish_transfer()
        for _ in range(2):  # agent1's phone leaves both calls
            phone.respond(await phone.expect("BYE"), 200)
        moved = await phone2.expect("INVITE", wait=10)  # into the caller's room
        assert moved.call_id == ring2.call_id and "a=sendrecv" in moved.body
        phone2.respond(moved, 200, body=phone2.sdp)
        await phone2.expect("ACK")
        phone2.speak_to(moved)
        assert_tone(await listen(trunk), 8000, OTHER)
        assert_tone(await listen(phone2), 8000, CALLER)
        theirs = await op2.state()
        assert [(c["uniqueid"], c["state"]) for c in theirs["calls"]] == [(uid, 3)]
        trunk.bye(d)
        assert (await trunk.expect(200)).cseq_method == "BYE"
        phone2.respond(await phone2.expect("BYE"), 200)
        assert not any(m.method == "INVITE" for m in _drained(trunk))
    finally:
        await op2.__aexit__(None, None, None)
        phone2.close()


def _drained(peer: Peer) -> list[Msg]:
    """What ``peer`` received and nobody looked at."""
    got = []
    while not peer.inbox.empty():
        got.append(peer.inbox.get_nowait())
    return got


async def test_a_blind_transfer_brings_the_new_party_into_the_callers_room(
    sip_media: tuple[Running, Peer], desk: tuple[SipAudio, Operator], netns: Netns
) -> None:
    """agent1 sends the caller to extension 1002 (phone2, 1.5 kHz, answering by its handset):
    phone2 is called with a late offer and joins the caller's room; they hear each other. The
    call is recorded: the caller throughout, agent1's phone then phone2's on the right (each
    a new leg of rtpengine's, recorded by it once the call is forwarded again)."""
    (server, trunk), (phone, op) = sip_media, desk
    phone2 = await SipAudio.make("phone2", sip_address(server), netns.host_ip, OTHER)
    http = httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30)
    try:
        assert (await phone2.register("phone2-secret")).code == 200
        call = await Transferred.talk(http, trunk, phone, op, netns.engine_ip, STRETCH)
        await op.blind_transfer("1002")
        phone.respond(await phone.expect("BYE"), 200)  # the agent's phone leaves
        ring = await phone2.expect("INVITE", wait=10)
        assert ring.body == ""
        phone2.respond(ring, 180)
        phone2.respond(ring, 200, body=phone2.sdp)
        ack = await phone2.expect("ACK")
        assert engine_of(ack)[0] == netns.engine_ip
        phone2.speak_to(ack)
        call.answered = time.time()
        assert_tone(await listen(trunk), 8000, OTHER)
        assert_tone(await listen(phone2), 8000, CALLER)
        await asyncio.sleep(max(0.0, call.answered + STRETCH - time.time()))
        trunk.bye(call.dialog)
        assert (await trunk.expect(200)).cseq_method == "BYE"
        phone2.respond(await phone2.expect("BYE"), 200)
        left, right, rate, before, after = await call.stretches(time.time())
        assert_two_sides(left, right, rate, [before], [], CALLER, AGENT)
        assert_two_sides(left, right, rate, [after], [], CALLER, OTHER)
    finally:
        await http.aclose()
        phone2.close()
