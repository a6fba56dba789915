"""What desk phones and trunks do in an anchored SIP call beyond talking: re-INVITEs
(``ucs.switch.sip.reinvites``) and keys. Real SIP dialogs with the server, real RTP through
Janus, judged by frequency (the caller says 440 Hz, the agent's desk phone 1 kHz).

A desk phone's own hold button (``sendonly``, or the old way, address 0.0.0.0) holds the call
as the agent's ``hold()`` does: the caller hears the music, the agent's call is HELD; its
``sendrecv`` resumes both. An endpoint that re-INVITEs with another address is sent to there
from then on, the phone and the trunk alike, and a held agent's phone that moves stays held.
Keys: the agent's phone's keys, by SIP INFO or as RFC 4733 events (read by rtpengine in
front of the engine, ``ucs.media.relay``), reach the far party as their tones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.media.audio import MUSIC, SILENCE_DBFS, Samples, assert_tone, band_share, level_dbfs
from tests.media.conftest import Netns
from tests.media.helpers import ADMIN
from tests.media.sip import (
    SipAudio,
    connect_desk_call_dialogs,
    engine_of,
    hang_up_desk_call,
    hears_tone,
    listen,
    samples_of,
)
from tests.media.test_sip_audio import AGENT, CALLER, OTHER, queue_sounds
from tests.server.conftest import Running
from tests.sip.helpers import next_call
from tests.sip.peer import Dialog, Msg, Peer
from ucs.client import Operator
from ucs.client.operator import EventStream
from ucs.media.g711 import tone
from ucs.media.relay import relay_installed
from ucs.media.rtp import RtpPeer
from ucs.media.sdp import with_direction

pytestmark = pytest.mark.anyio


HELD, CONNECTED = 5, 3
MOVED = 1200.0


@pytest.fixture
async def talking(
    sip_media: tuple[Running, Peer],
    desk: tuple[SipAudio, Operator],
    netns: Netns,
    tmp_path: Path,
) -> AsyncIterator[tuple[SipAudio, SipAudio, Operator, EventStream, Dialog, Dialog]]:
    """Queue 1's music 600 Hz; the trunk's caller talks with agent1 on phone1: the trunk,
    the phone, the agent, its events, the trunk's dialog and the phone's."""
    (server, trunk), (phone, op) = sip_media, desk
    assert isinstance(trunk, SipAudio)
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
        await queue_sounds(http, tmp_path)
    events = op.events()
    d, pd = await connect_desk_call_dialogs(trunk, phone, op, events, netns.engine_ip)
    assert_tone(await hears_tone(trunk, AGENT), 8000, AGENT)
    yield trunk, phone, op, events, d, pd
    await hang_up_desk_call(trunk, phone, d, events)


async def _reinvite(peer: Peer, d: Dialog, sdp: str) -> Msg:
    """``peer`` re-INVITEs in dialog ``d`` with ``sdp``; the server's 200 (ACKed)."""
    d.cseq += 1
    peer.request("INVITE", d.remote_target, d, sdp)
    ok = await peer.expect(200, wait=20)
    assert ok.cseq_method == "INVITE"
    peer.ack(ok, d)
    return ok


async def _state(events: EventStream) -> int:
    return int((await next_call(events, "change")).call["state"])


async def test_the_desk_phones_own_hold_button_plays_the_music_and_holds_the_call(
    talking: tuple[SipAudio, SipAudio, Operator, EventStream, Dialog, Dialog],
) -> None:
    trunk, phone, op, events, _d, pd = talking
    ok = await _reinvite(phone, pd, with_direction(phone.sdp, "sendonly"))
    assert "a=recvonly" in ok.body
    assert await _state(events) == HELD
    assert (await op.state())["call"]["state"] == HELD
    assert_tone(await hears_tone(trunk, MUSIC), 8000, MUSIC)  # the music, not the phone's own 1 kHz
    ok = await _reinvite(phone, pd, phone.sdp)
    assert "a=sendrecv" in ok.body and engine_of(ok) == phone.rtp.remote  # type: ignore[union-attr]
    assert await _state(events) == CONNECTED
    assert_tone(await hears_tone(trunk, AGENT), 8000, AGENT)
    assert_tone(await hears_tone(phone, CALLER), 8000, CALLER)

    old_style = phone.sdp.replace(f"c=IN IP4 {phone.rtp.address[0]}", "c=IN IP4 0.0.0.0")  # type: ignore[union-attr]
    await _reinvite(phone, pd, old_style)  # RFC 2543's hold: the address 0.0.0.0
    assert await _state(events) == HELD
    assert_tone(await hears_tone(trunk, MUSIC), 8000, MUSIC)
    await _reinvite(phone, pd, phone.sdp)  # (a refresh the same as before tells nothing)
    assert await _state(events) == CONNECTED
    await _reinvite(phone, pd, phone.sdp)
    assert_tone(await hears_tone(trunk, AGENT), 8000, AGENT)
    assert_tone(await hears_tone(phone, CALLER), 8000, CALLER)
    assert (await op.state())["call"]["state"] == CONNECTED


async def _moves(peer: SipAudio, d: Dialog, ip: str, hz: float) -> RtpPeer:
    """``peer`` moves its audio to a new port, saying ``hz`` there: re-INVITEs with the new
    address and speaks to the engine's address the answer names. Returns the old endpoint."""
    old = peer.rtp
    assert old is not None
    new = await RtpPeer.bind(ip, tone(hz))
    peer.rtp = new
    ok = await _reinvite(peer, d, peer.sdp)
    new.start(engine_of(ok))
    return old


async def _hears_nothing(rtp: RtpPeer) -> bool:
    """Nothing comes to ``rtp`` over a second (after what was on its way)."""
    await asyncio.sleep(0.3)
    mark = len(rtp.heard)
    await asyncio.sleep(1.0)
    return len(rtp.heard) == mark


async def test_endpoints_that_move_to_another_address_are_sent_to_there(
    talking: tuple[SipAudio, SipAudio, Operator, EventStream, Dialog, Dialog], netns: Netns
) -> None:
    trunk, phone, op, _events, d, pd = talking
    # The phone changed network (saying 1.2 kHz there), then an SBC chose another port for
    # the trunk (1.5 kHz): each is heard from, and sent to, its new address only.
    moves = ((phone, pd, MOVED, trunk, CALLER), (trunk, d, OTHER, phone, MOVED))
    for mover, dialog, says, other, hears_hz in moves:
        old = await _moves(mover, dialog, netns.host_ip, says)
        try:
            assert_tone(await hears_tone(other, says), 8000, says)
            assert_tone(await hears_tone(mover, hears_hz), 8000, hears_hz)
            assert await _hears_nothing(old)
        finally:
            old.close()

    await op.hold()  # held by the agent, the phone moves again: it stays out of the call
    assert_tone(await hears_tone(trunk, MUSIC), 8000, MUSIC)
    old = await _moves(phone, pd, netns.host_ip, AGENT)
    old.close()
    heard = await listen(trunk)
    assert_tone(heard, 8000, MUSIC)
    assert band_share(heard, 8000, AGENT) < 0.01  # the agent's side is not heard while held
    assert level_dbfs(await listen(phone)) < SILENCE_DBFS  # nor does it hear the caller
    await op.unhold()
    assert_tone(await hears_tone(trunk, AGENT), 8000, AGENT)
    assert_tone(await hears_tone(phone, OTHER), 8000, OTHER)


def _keyed(samples: Samples, tones: tuple[float, float]) -> bool:
    """Some 0.15 s of ``samples`` holds both tones (each a share of its power): a window
    shorter than a key's tones (``keypad.KEY_SECONDS``), as a DTMF detector's, so that the
    rest of the mix around them (the agent's tone, silence) does not dilute them."""
    window = 1200
    for start in range(0, len(samples) - window + 1, 160):
        part = samples[start : start + window]
        if all(band_share(part, 8000, hz) > 0.05 for hz in tones):
            return True
    return False


async def _hears_key(peer: SipAudio, mark: int, tones: tuple[float, float]) -> bool:
    """``peer`` hears both tones after byte ``mark`` of what it heard (waits 30 s at most)."""
    assert peer.rtp is not None
    async with asyncio.timeout(30):
        while not _keyed(samples_of(bytes(peer.rtp.heard[mark:])), tones):  # noqa: ASYNC110
            await asyncio.sleep(0.3)
    return True


@pytest.mark.parametrize("how", ["info", "rfc4733"])
async def test_the_agents_keys_reach_the_far_party_as_tones(
    talking: tuple[SipAudio, SipAudio, Operator, EventStream, Dialog, Dialog], how: str
) -> None:
    """The agent's phone presses 5 and # by SIP INFO, or as RFC 4733 events in its RTP
    (rtpengine reads them in front of the engine, and every answer to the phone offers
    ``telephone-event``, a re-INVITE's too): the caller hears each key's two tones
    (770 + 1336 Hz, then 941 + 1477 Hz), which it did not hear before."""
    if how == "rfc4733" and not relay_installed():
        pytest.skip("rtpengine is not installed (make media-engine)")
    trunk, phone, _op, _events, _d, pd = talking
    assert trunk.rtp is not None and phone.rtp is not None
    ok = await _reinvite(phone, pd, phone.sdp)
    assert ("RTP/AVP 0 101\r\n" in ok.body) == relay_installed()
    phone.speak_to(ok)  # (the same address, or a new one)
    before = await listen(trunk)
    for key, tones in (("5", (770.0, 1336.0)), ("#", (941.0, 1477.0))):
        assert not _keyed(before, tones)
        mark = len(trunk.rtp.heard)
        if how == "info":
            pd.cseq += 1
            body = f"Signal={key}\r\nDuration=160\r\n"
            phone.request("INFO", pd.remote_target, pd, body, content_type="application/dtmf-relay")
            assert (await phone.expect(200)).cseq_method == "INFO"
        else:
            phone.rtp.press(key)
        assert await _hears_key(trunk, mark, tones)
    assert_tone(await hears_tone(trunk, AGENT), 8000, AGENT)  # and the agent is heard as before
