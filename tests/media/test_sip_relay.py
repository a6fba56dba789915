"""rtpengine in front of the room, in the whole server (``--switch sip``, Janus and rtpengine
in the test's network namespace): killed mid-call, the call it relayed ends for both sides
(as when Janus fails: nobody would hear the caller), the agent is not left on it, rtpengine is
started again, and the next call is relayed again."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.media.audio import assert_tone
from tests.media.conftest import AGENT_TONE, Netns
from tests.media.helpers import ADMIN
from tests.media.sip import SipAudio, call_in, connect_desk_call, listen
from tests.media.test_sip_audio import queue_sounds
from tests.server.conftest import Running
from tests.sip.helpers import next_call
from tests.sip.peer import Peer
from ucs.client import Operator
from ucs.media.relay import relay_installed

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not relay_installed(), reason="rtpengine is not installed"),
]


async def test_rtpengine_killed_mid_call_ends_the_call_and_is_started_again(
    sip_media: tuple[Running, Peer], desk: tuple[SipAudio, Operator], netns: Netns, tmp_path: Path
) -> None:
    (server, trunk), (phone, op) = sip_media, desk
    relay = server.server.media.relay
    assert relay is not None and relay.available
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
        await queue_sounds(http, tmp_path)
    events = op.events()
    await connect_desk_call(trunk, phone, op, events, netns.engine_ip)
    assert_tone(await listen(trunk), 8000, AGENT_TONE)  # through rtpengine, both legs
    first = relay.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)

    bye = await trunk.expect("BYE", wait=20)  # the caller's audio is gone: the call ends
    trunk.respond(bye, 200)
    phone.respond(await phone.expect("BYE", wait=20), 200)
    await next_call(events, "hangup")
    async with asyncio.timeout(10):
        while (await op.state())["call"] is not None:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    async with asyncio.timeout(20):
        while not (relay.available and relay.pid not in (None, first)):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert relay.restarts == 1

    d = await call_in(trunk)  # relayed again: its answer offers telephone-event
    trunk.bye(d)
    assert (await trunk.expect(200)).cseq_method == "BYE"
