"""The operator protocol's ``media.offer`` (docs/protocol.md) on a real WebSocket: refused
clearly, changing nothing, for whoever may not connect audio to a call."""

from __future__ import annotations

import json

import pytest

from tests.media.helpers import operator, request
from tests.server.conftest import Running
from ucs.core.events import MediaStatus

pytestmark = pytest.mark.anyio

SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


async def test_media_offers_are_refused_for_what_is_not_the_agents_softphone_call(
    running: Running,
) -> None:
    ws = await operator(running)
    offer = {"uniqueid": "1.1", "sdp": SDP}
    assert (await request(ws, "1", "media.offer", offer))["code"] == "UNAUTHORIZED"
    await request(ws, "2", "login", "agent1", "agent1-pass")
    await request(ws, "3", "selectIdentifier", "phone1")
    await request(ws, "4", "provision")
    assert (await request(ws, "5", "media.offer", offer))["code"] == "INVALID_STATE"
    for bad in ({"uniqueid": "1.1"}, {"uniqueid": "", "sdp": SDP}, {"uniqueid": "1.1", "sdp": "x"}):
        assert (await request(ws, "6" + str(bad), "media.offer", bad))["code"] == (
            "INVALID_ARGUMENT"
        )
    assert (await request(ws, "7", "media.offer", "nope"))["code"] == "INVALID_ARGUMENT"
    await ws.send(json.dumps({"v": 1, "type": "request", "method": "media.offer", "args": []}))
    assert json.loads(await ws.recv())["code"] == "INVALID_ARGUMENT"  # no id

    # With the softphone paired (the engine said it is up, then failed to answer):
    running.server.engine.submit(MediaStatus(True))
    await request(ws, "8", "identify")
    assert (await request(ws, "9", "selectIdentifier", "softphone"))["type"] == "result"
    await request(ws, "10", "provision")
    assert (await request(ws, "11", "media.offer", offer))["code"] == "INVALID_STATE"  # no call
    call = (await request(ws, "12", "dial", "+420601123456"))["result"]
    answer = await request(ws, "13", "media.offer", {"uniqueid": call["uniqueid"], "sdp": SDP})
    assert answer["code"] == "MEDIA_UNAVAILABLE"
    other = await operator(running)  # another agent may not take this call's audio
    await request(other, "1", "login", "agent2", "agent2-pass")
    running.server.engine.submit(MediaStatus(True))
    await request(other, "2", "selectIdentifier", "softphone")
    await request(other, "3", "provision")
    refused = await request(other, "4", "media.offer", {"uniqueid": call["uniqueid"], "sdp": SDP})
    assert refused["code"] == "INVALID_STATE"
    assert call["uniqueid"] in running.server.center.calls  # nothing changed
    await ws.close()
    await other.close()
