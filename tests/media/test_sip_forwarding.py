"""Calls that need no mixing leave Janus (``--media-relay auto``, ``ucs.media.forwarding``):
a trunk's caller and a desk phone talk through rtpengine alone, and whatever needs the room
(mute, hold and its music, recording) brings the call back into one and out again. Real SIP
dialogs and RTP (the caller says 440 Hz, the phone 1 kHz), judged by frequency; whether the
call is forwarded is what ``/metrics`` says."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.media.audio import (
    MUSIC,
    SILENCE_DBFS,
    assert_tone,
    assert_two_sides,
    channels,
    level_dbfs,
    stretch,
)
from tests.media.conftest import Netns
from tests.media.helpers import ADMIN, set_recording
from tests.media.sip import (
    SipAudio,
    connect_desk_call,
    hang_up_desk_call,
    listen,
    sip_address,
    sip_media_serving,
)
from tests.media.test_recording import STRETCH
from tests.media.test_sip_audio import AGENT, CALLER, queue_sounds
from tests.server.conftest import Running
from tests.sip.helpers import agent
from tests.sip.peer import Peer
from ucs.media.relay import relay_installed

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not relay_installed(), reason="rtpengine is not installed"),
]


@pytest.fixture
async def forwarding(
    tmp_path: Path, netns: Netns, default_sounds: Path
) -> AsyncIterator[tuple[Running, Peer]]:
    async with sip_media_serving(tmp_path, netns, default_sounds, media_relay="auto") as both:
        yield both


async def forwarded(http: httpx.AsyncClient) -> int:
    text = (await http.get("/metrics")).text
    found = re.search(r"^ucs_media_calls_forwarded (\S+)$", text, re.M)
    assert found is not None, "no ucs_media_calls_forwarded in /metrics"
    return int(float(found.group(1)))


async def becomes(http: httpx.AsyncClient, n: int) -> None:
    """``ucs_media_calls_forwarded`` says ``n`` within a few seconds."""
    async with asyncio.timeout(5):
        while await forwarded(http) != n:  # noqa: ASYNC110 (a metric to read)
            await asyncio.sleep(0.05)


async def test_a_two_party_call_is_forwarded_and_comes_back_to_a_room_for_what_needs_it(
    forwarding: tuple[Running, Peer], netns: Netns, tmp_path: Path
) -> None:
    server, trunk = forwarding
    phone = await SipAudio.make("phone1", sip_address(server), netns.host_ip, AGENT, 0.3)
    op = await agent(server.url)
    try:
        assert (await phone.register("phone1-secret")).code == 200
        async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
            await queue_sounds(http, tmp_path)  # the caller waits with the greeting and music
            assert await forwarded(http) == 0
            events = op.events()
            d = await connect_desk_call(trunk, phone, op, events, netns.engine_ip)
            await becomes(http, 1)  # answered: nothing to mix, the room is left
            assert_tone(await listen(trunk), 8000, AGENT)  # they hear each other, leg to leg
            assert_tone(await listen(phone), 8000, CALLER)

            await op.mute()  # back in a room, where mute silences the agent
            await becomes(http, 0)
            assert level_dbfs(await listen(trunk)) < SILENCE_DBFS
            assert_tone(await listen(phone), 8000, CALLER)
            await op.mute()  # (a toggle): forwarded again
            await becomes(http, 1)
            assert_tone(await listen(trunk), 8000, AGENT)

            await op.hold()  # the music for the caller, nothing for the agent: a room
            await becomes(http, 0)
            assert_tone(await listen(trunk), 8000, MUSIC)
            assert level_dbfs(await listen(phone)) < SILENCE_DBFS
            await op.unhold()
            await becomes(http, 1)
            assert_tone(await listen(trunk), 8000, AGENT)
            assert_tone(await listen(phone), 8000, CALLER)

            await hang_up_desk_call(trunk, phone, d, events)
            await becomes(http, 0)
    finally:
        await op.__aexit__(None, None, None)
        phone.close()


async def test_a_recorded_call_is_forwarded_and_rtpengine_records_it(
    forwarding: tuple[Running, Peer], netns: Netns, tmp_path: Path
) -> None:
    """Forwarded, the call is recorded by rtpengine: the caller left and the agent right,
    a muted stretch without the agent (the call back in a room), a held stretch and a pause
    silent on both sides, wherever the audio went meanwhile; rtpengine's files are gone once
    the WAV is made."""
    server, trunk = forwarding
    phone = await SipAudio.make("phone1", sip_address(server), netns.host_ip, AGENT, 0.3)
    op = await agent(server.url)
    try:
        assert (await phone.register("phone1-secret")).code == 200
        async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
            await set_recording(http, 1, "always")
            events = op.events()
            d = await connect_desk_call(trunk, phone, op, events, netns.engine_ip)
            await becomes(http, 1)  # recorded, and forwarded leg to leg all the same
            marks = [time.time()]
            for step in (op.mute, op.mute, op.hold, op.unhold, op.stop_recording):
                await asyncio.sleep(STRETCH)
                await step()
                marks.append(time.time())
            await becomes(http, 1)  # paused: forwarded still
            await asyncio.sleep(STRETCH)
            await op.start_recording()
            marks.append(time.time())
            await asyncio.sleep(STRETCH)
            uid = str((await op.state())["call"]["uniqueid"])
            await hang_up_desk_call(trunk, phone, d, events)
            marks.append(time.time())
            r = await http.get(f"/api/recordings/{uid}")
            assert r.status_code == 200, r.text
            listed = (await http.get("/api/recordings", params={"queue": 1})).json()
            start = next(x for x in listed if x["uniqueid"] == uid)["start"]
        left, right, rate = channels(r.content)
        # talking, muted, talking, held, talking, paused, talking
        at = [(a - start + 0.6, b - a - 1.2) for a, b in itertools.pairwise(marks)]
        talking, muted, held, paused = at[0::2], at[1], at[3], at[5]
        assert_two_sides(left, right, rate, talking, [held, paused], CALLER, AGENT)
        assert_tone(stretch(left, rate, *muted), rate, CALLER)
        assert level_dbfs(stretch(right, rate, *muted)) < SILENCE_DBFS
        relayed = tmp_path / "ucs-recordings" / ".parts" / ".rtpengine"
        assert (relayed / "pcaps").is_dir()  # where rtpengine recorded
        assert not [f for f in relayed.rglob("*") if f.is_file()], "rtpengine's files are left"
    finally:
        await op.__aexit__(None, None, None)
        phone.close()
