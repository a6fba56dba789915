"""SIP endpoints that speak and listen, for the media tests with ``--switch sip``: the tests'
scriptable SIP peer (``tests.sip.peer``) whose SDP names an RTP endpoint of the test's own on
the namespace's host side (the engine, inside, reaches it there), saying a tone and keeping
what it hears. Its SDP offers ``telephone-event`` (RFC 4733), as phones' and trunks' do. The
server's signalling stays on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tests.media.audio import TONE_SHARE, Samples, band_share, channels
from tests.media.conftest import Netns, media_serving
from tests.media.helpers import set_recording
from tests.server.conftest import Running
from tests.sip.helpers import next_call
from tests.sip.peer import Dialog, Msg, Peer, free_udp_port
from ucs.client import Operator
from ucs.client.operator import EventStream
from ucs.media.g711 import decode, tone
from ucs.media.relay import relay_installed
from ucs.media.rtp import RtpPeer
from ucs.media.sdp import audio_of

__all__ = [
    "CALLER",
    "SipAudio",
    "answer_on_phone",
    "call_in",
    "connect_desk_call",
    "connect_desk_call_dialogs",
    "engine_of",
    "hang_up_desk_call",
    "heard_by",
    "hears_tone",
    "listen",
    "samples_of",
    "sip_address",
    "sip_media_serving",
]

RATE = 8000
CALLER = "+420777000111"
"""The trunk's caller: its number (the From user), one a callback can call."""


def _sdp(ip: str, port: int) -> str:
    return (
        f"v=0\r\no=peer 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n"
    )


@dataclass
class SipAudio(Peer):
    """A ``Peer`` whose offers and answers name ``rtp``, which says a tone once told where."""

    rtp: RtpPeer | None = field(default=None, repr=False)

    @classmethod
    async def make(
        cls, user: str, server: tuple[str, int], ip: str, hz: float, level: float = 0.5
    ) -> SipAudio:
        """``level``: of full scale (two peers at 0.5 mixed clip, and a mix's tones blur)."""
        peer = cls(user, server)
        peer.rtp = await RtpPeer.bind(ip, tone(hz, level=level))
        return await peer.open()  # type: ignore[return-value]

    @property
    def sdp(self) -> str:
        assert self.rtp is not None
        ip, port = self.rtp.address
        return _sdp(ip, port)

    def speak_to(self, msg: Msg) -> tuple[str, int]:
        """Start saying the tone to the address ``msg``'s SDP names (the engine's)."""
        where = engine_of(msg)
        assert self.rtp is not None
        if self.rtp.remote is None:
            self.rtp.start(where)
        else:  # already speaking (an earlier call): to the new address from now on
            self.rtp.remote = where
        return where

    def close(self) -> None:
        if self.rtp is not None:
            self.rtp.close()
        super().close()


async def call_in(trunk: Peer) -> Dialog:
    """The trunk calls queue 1; the server answers at once with the engine's address (queue 1
    plays to waiting callers); the trunk says its tone there."""
    assert isinstance(trunk, SipAudio)
    d = trunk.dialog_to("100")
    trunk.invite(d)
    ok = await trunk.expect(200, wait=20)
    # rtpengine, when installed, reads its RFC 4733 keys (relay.py): they are offered then
    assert ("telephone-event" in ok.body) == relay_installed()
    trunk.ack(ok, d)
    trunk.speak_to(ok)
    return d


def sip_address(server: Running) -> tuple[str, int]:
    """Where the server takes SIP (loopback)."""
    return "127.0.0.1", server.server.settings.sip_port


async def connect_desk_call(
    trunk: Peer, phone: SipAudio, op: Operator, events: EventStream, engine_ip: str
) -> Dialog:
    """The trunk calls queue 1, the agent's phone rings (a late offer), the agent answers,
    the phone's offer is answered in the ACK with the engine's address: they talk. The
    trunk's dialog."""
    return (await connect_desk_call_dialogs(trunk, phone, op, events, engine_ip))[0]


async def answer_on_phone(phone: SipAudio, op: Operator, events: EventStream) -> tuple[Msg, Msg]:
    """The agent's phone rings (180), the agent answers in the component: the ringing INVITE
    is cancelled and the server's answering INVITE comes. Both INVITEs, the second unanswered."""
    ring = await phone.expect("INVITE", wait=10)
    phone.respond(ring, 180)
    await next_call(events, "ringing")
    await op.answer()
    phone.respond(await phone.expect("CANCEL"), 200)
    phone.respond(ring, 487)
    await phone.expect("ACK")
    return ring, await phone.expect("INVITE")


async def connect_desk_call_dialogs(
    trunk: Peer, phone: SipAudio, op: Operator, events: EventStream, engine_ip: str
) -> tuple[Dialog, Dialog]:
    """As ``connect_desk_call``: the trunk's dialog and the phone's."""
    d = await call_in(trunk)
    ring, pick = await answer_on_phone(phone, op, events)
    assert ring.body == ""  # a late offer: the phone's own address comes in its 200
    assert "answer-after=0" in (pick.get("call-info") or "") and pick.body == ""
    phone.respond(pick, 200, body=phone.sdp)
    ack = await phone.expect("ACK")
    assert engine_of(ack)[0] == engine_ip  # the engine's address, in the ACK
    phone.speak_to(ack)
    assert (await next_call(events, "connect")).call["state"] == 3
    return d, phone.dialog_of(pick)


async def hang_up_desk_call(trunk: Peer, phone: SipAudio, d: Dialog, events: EventStream) -> None:
    """The trunk's caller hangs up the call of ``connect_desk_call``."""
    trunk.bye(d)
    assert (await trunk.expect(200)).cseq_method == "BYE"
    phone.respond(await phone.expect("BYE"), 200)
    assert (await next_call(events, "hangup")).call["cause"] == 3


def engine_of(msg: Msg) -> tuple[str, int]:
    audio = audio_of(msg.body)
    assert audio is not None, msg.body
    return audio.ip, audio.port


async def listen(peer: SipAudio, seconds: float = 2.0) -> Samples:
    """What ``peer`` hears over the next ``seconds`` (empty when nothing came)."""
    assert peer.rtp is not None
    await asyncio.sleep(0.3)  # what was on its way before
    mark = len(peer.rtp.heard)
    await asyncio.sleep(seconds)
    return samples_of(bytes(peer.rtp.heard[mark:]))


async def hears_tone(peer: SipAudio, frequency: float, within: float = 30.0) -> Samples:
    """What ``peer`` hears once it is the tone of ``frequency`` (1.5 s of it): a change asked
    of the engine (hold, a new address) is heard a moment after it is told. ``TimeoutError``
    when it never is, within ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            samples = await listen(peer, 1.5)
            if band_share(samples, RATE, frequency) > TONE_SHARE:
                return samples


def samples_of(mulaw: bytes) -> Samples:
    """μ-law bytes as samples (-1 to 1)."""
    pcm = decode(mulaw)
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def heard_by(peer: SipAudio) -> Callable[[], Awaitable[tuple[Samples, int]]]:
    """``tests.media.helpers.hears``'s measure of what a SIP peer hears (2 s, 8 kHz)."""

    async def measure() -> tuple[Samples, int]:
        return await listen(peer, 2.0), RATE

    return measure


@contextlib.asynccontextmanager
async def sip_media_serving(
    tmp_path: Path, netns: Netns, default_sounds: Path, **settings: Any
) -> AsyncIterator[tuple[Running, Peer]]:
    """The demo server with the SIP switch on loopback and Janus in ``netns``; its trunk is a
    speaking ``SipAudio`` (440 Hz) on the namespace's host side. ``settings``: more of them."""
    sip_port = free_udp_port()
    trunk = await SipAudio.make(CALLER, ("127.0.0.1", sip_port), netns.host_ip, 440.0)
    try:
        async with media_serving(
            tmp_path,
            netns,
            default_sounds,
            switch="sip",
            sip_port=sip_port,
            sip_trunk=f"127.0.0.1:{trunk.port}",
            **settings,
        ) as server:
            yield server, trunk
    finally:
        trunk.close()


@dataclass
class Transferred:
    """A recorded desk phone's call, talked on for a stretch, then transferred: its times
    (wall clock) as the test goes, and its recording's stretches of each agent."""

    http: Any
    uid: str
    dialog: Dialog
    talked: float
    transferred: float = 0.0
    answered: float = 0.0
    """When the new agent answered (the test says)."""

    @classmethod
    async def talk(
        cls, http: Any, trunk: Peer, phone: SipAudio, op: Any, engine_ip: str, seconds: float
    ) -> Transferred:
        """Queue 1 recorded always; the trunk's caller answered on ``phone`` and talked with
        for ``seconds``: the transfer is next."""
        await set_recording(http, 1, "always")
        d = await connect_desk_call(trunk, phone, op, op.events(), engine_ip)
        uid = str((await op.state())["call"]["uniqueid"])
        call = cls(http, uid, d, time.time())
        await asyncio.sleep(seconds)
        call.transferred = time.time()
        return call

    async def stretches(
        self, ended: float
    ) -> tuple[Samples, Samples, int, tuple[float, float], tuple[float, float]]:
        """The recording's channels and rate, and the stretches (start, seconds, from the
        recording's start) before the transfer and after the new agent answered."""
        r = await self.http.get(f"/api/recordings/{self.uid}")
        assert r.status_code == 200, r.text
        left, right, rate = channels(r.content)
        listed = (await self.http.get("/api/recordings", params={"queue": 1})).json()
        start = next(x for x in listed if x["uniqueid"] == self.uid)["start"]
        before = (self.talked - start + 0.5, self.transferred - self.talked - 1.0)
        after = (self.answered - start + 0.5, ended - self.answered - 1.0)
        return left, right, rate, before, after
