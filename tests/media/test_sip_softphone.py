"""The browser softphone with ``--switch sip`` (CONTRACT §10): Chromium (a 1 kHz microphone) as
agent1's phone, a SIP caller from the trunk saying 440 Hz. The B2BUA rings the softphone
without SIP (its leg is the browser's), answers the caller into the call's room, and the
browser joins the room; a number the softphone dials is called with a late offer and joins the
room as well."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.browser.helpers import open_page
from tests.media.audio import assert_tone, assert_two_sides, stretch
from tests.media.conftest import AGENT_TONE, Netns
from tests.media.helpers import ADMIN, HEARD_IN_BROWSER, ON_SOFTPHONE
from tests.media.sip import SipAudio, Transferred, engine_of, listen
from tests.media.test_recording import STRETCH
from tests.server.conftest import Running
from tests.sip.peer import Peer
from ucs.client import Operator

pytestmark = pytest.mark.anyio

CALLER = 440.0


async def _browser_hears(page: Any, uid: str, hz: float) -> None:
    await page.wait_for_function(
        f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
    )
    got = await page.evaluate(HEARD_IN_BROWSER, uid)
    samples = np.asarray(got["samples"], dtype=np.float64)
    assert_tone(stretch(samples, got["rate"], -1.5, 1.5), got["rate"], hz)


async def test_the_softphone_answers_a_sip_caller_and_dials_out(
    softphone_browser: Any,
    crm: tuple[Path, str],
    sip_media: tuple[Running, Peer],
    netns: Netns,
) -> None:
    server, trunk = sip_media
    assert isinstance(trunk, SipAudio)
    page = await open_page(
        softphone_browser, crm, server, headless=False, extra="audioProcessing: false,"
    )
    await page.evaluate(ON_SOFTPHONE, ["agent1", "agent1-pass"])
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
        d = trunk.dialog_to("100")
        trunk.invite(d)
        ok = await trunk.expect(200, wait=20)  # answered at once: Support greets its callers
        trunk.ack(ok, d)
        trunk.speak_to(ok)
        await page.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
        call = await page.evaluate("window.ucsOperator.answer()")
        uid = str(call["uniqueid"])
        assert call["connected_channel"].startswith("WebRTC/agent1-")
        await _browser_hears(page, uid, CALLER)
        assert_tone(await listen(trunk), 8000, AGENT_TONE)
        await page.evaluate("window.ucsOperator.hangup()")
        bye = await trunk.expect("BYE", wait=10)
        trunk.respond(bye, 200)

        # dial(): the trunk is called without an offer, answers with its own, and the ACK
        # names the engine; the browser joins the new call's room.
        await page.evaluate("window.ucsOperator.changeStatus('READY')")
        dialled = await page.evaluate("window.ucsOperator.dial('+420601123456')")
        invite = await trunk.expect("INVITE", wait=10)
        assert invite.body == ""
        trunk.respond(invite, 200, body=trunk.sdp)
        ack = await trunk.expect("ACK")
        assert engine_of(ack)[0] == netns.engine_ip
        trunk.speak_to(ack)
        await _browser_hears(page, str(dialled["uniqueid"]), CALLER)
        assert_tone(await listen(trunk), 8000, AGENT_TONE)
        await page.evaluate("window.ucsOperator.hangup()")
        trunk.respond(await trunk.expect("BYE", wait=10), 200)
        cdr = (await http.get("/api/cdr")).json()
        assert {c["uniqueid"] for c in cdr} >= {uid, str(dialled["uniqueid"])}


async def test_a_recorded_desk_call_blind_transferred_to_a_softphone_records_the_browser(
    softphone_browser: Any,
    crm: tuple[Path, str],
    sip_media: tuple[Running, Peer],
    desk: tuple[SipAudio, Operator],
    netns: Netns,
) -> None:
    """agent1's desk phone talks with a recorded caller (both legs forwarded and recorded by
    rtpengine), then sends the caller to Support again, where agent2 answers on the browser
    softphone: the recording has agent2's browser on the right from then on (the room
    records it: it is not a leg of rtpengine's)."""
    (server, trunk), (phone, op) = sip_media, desk
    assert isinstance(trunk, SipAudio)
    page = await open_page(
        softphone_browser, crm, server, headless=False, extra="audioProcessing: false,"
    )
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
        call = await Transferred.talk(http, trunk, phone, op, netns.engine_ip, STRETCH)
        await page.evaluate(ON_SOFTPHONE, ["agent2", "agent2-pass"])
        await op.blind_transfer("100")  # Support, where agent2 is READY on the browser
        phone.respond(await phone.expect("BYE"), 200)
        await page.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
        answered = await page.evaluate("window.ucsOperator.answer()")
        assert str(answered["uniqueid"]) == call.uid
        await _browser_hears(page, call.uid, CALLER)
        call.answered = time.time()
        await asyncio.sleep(STRETCH)
        trunk.bye(call.dialog)
        assert (await trunk.expect(200)).cseq_method == "BYE"
        left, right, rate, before, after = await call.stretches(time.time())
        assert_two_sides(left, right, rate, [before, after], [], CALLER, AGENT_TONE)
