"""Per-call anchoring of desk phones' calls (``--switch sip``, CONTRACT §10): a call whose
caller offers no G.711 stream cannot be anchored (its SDP passes between the endpoints) and is
neither recorded (``always`` records nothing, ``startRecording()`` is MEDIA_UNAVAILABLE,
``recorded`` false in the Call object and the CDR) nor monitored; the next call, whose caller
offers G.711, is anchored and recorded."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.media.conftest import AGENT_TONE, Netns
from tests.media.helpers import ADMIN, set_recording
from tests.media.sip import (
    SipAudio,
    answer_on_phone,
    connect_desk_call,
    hang_up_desk_call,
    hears_tone,
)
from tests.media.test_recording import recording_of
from tests.server.conftest import Running
from tests.sip.helpers import next_call
from tests.sip.peer import Peer
from ucs.client import Operator, OperatorError

pytestmark = pytest.mark.anyio


def g722_only(ip: str, port: int) -> str:
    """An offer the engine cannot take: wideband G.722 only (no G.711)."""
    return (
        f"v=0\r\no=peer 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\na=sendrecv\r\n"
    )


async def _recorded(op: Operator, want: bool) -> None:
    async with asyncio.timeout(10):
        while (await op.state())["call"]["recorded"] is not want:  # noqa: ASYNC110
            await asyncio.sleep(0.1)


async def _cdr(http: httpx.AsyncClient, uid: str) -> dict[str, object]:
    """The call's record, once it is written."""
    async with asyncio.timeout(10):
        while True:
            for c in (await http.get("/api/cdr")).json():
                if c["uniqueid"] == uid:
                    return dict(c)
            await asyncio.sleep(0.1)


async def test_a_call_that_cannot_be_anchored_is_not_recorded_the_next_one_is(
    sip_media: tuple[Running, Peer], desk: tuple[SipAudio, Operator], netns: Netns
) -> None:
    (server, trunk), (phone, op) = sip_media, desk
    assert isinstance(trunk, SipAudio) and trunk.rtp is not None
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
        await set_recording(http, 1, "always")
        events = op.events()

        # The caller offers G.722 only: the phone gets the caller's own offer, not the engine's.
        ip, port = trunk.rtp.address
        d = trunk.dialog_to("100")
        trunk.request("INVITE", d.remote_target, d, g722_only(ip, port))
        ring, pick = await answer_on_phone(phone, op, events)
        assert "G722" in ring.body and f"m=audio {port} " in ring.body
        assert "G722" in pick.body
        phone.respond(pick, 200, body=phone.sdp)
        await phone.expect("ACK")
        ok = await trunk.expect(200, wait=10)
        assert phone.sdp.split("m=audio ")[1].split()[0] in ok.body  # the phone's own address
        trunk.ack(ok, d)
        assert (await next_call(events, "connect")).call["state"] == 3
        uid = str((await op.state())["call"]["uniqueid"])
        center = server.server.center
        async with asyncio.timeout(10):  # the switch's word on it
            while center.calls[uid].anchored is None:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert center.calls[uid].anchored is False
        with pytest.raises(OperatorError) as refused:
            await op.start_recording()
        assert refused.value.code == "MEDIA_UNAVAILABLE"
        assert (await op.state())["call"]["recorded"] is False
        await hang_up_desk_call(trunk, phone, d, events)
        assert (await _cdr(http, uid))["recorded"] is False

        # The next caller offers G.711: anchored, recorded from its answer.
        await op.change_status("READY")
        d = await connect_desk_call(trunk, phone, op, events, netns.engine_ip)
        second = str((await op.state())["call"]["uniqueid"])
        await _recorded(op, True)
        assert center.calls[second].anchored is True
        await hears_tone(trunk, AGENT_TONE)  # they talk (a recording holds what was said)
        await hang_up_desk_call(trunk, phone, d, events)
        assert (await _cdr(http, second))["recorded"] is True
        assert await recording_of(http, second)  # its WAV (the server waits while it is made)
        listed = (await http.get("/api/recordings")).json()
        assert [x["uniqueid"] for x in listed] == [second]
        assert (await http.get(f"/api/recordings/{uid}")).status_code == 404
