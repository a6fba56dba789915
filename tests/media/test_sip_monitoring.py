"""A supervisor monitors a desk phone's call (``--switch sip``, CONTRACT §11): the trunk's
caller says 440 Hz, agent1's desk phone (a SIP peer) 1 kHz, the supervisor's Chromium 1.7 kHz.
Once the call is anchored the supervisor listens (hears both, heard by nobody), barges in
(heard by both), whispers (the desk phone, moved into the coach room, hears the caller and the
supervisor; the caller hears the phone alone) and listens again; the supervisor's hang-up
leaves the call going on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import open_page
from tests.media.conftest import AGENT_TONE, SUPERVISOR_TONE, Netns
from tests.media.helpers import CALLER_TONE, ON_SOFTPHONE, browser_heard, hear_all
from tests.media.sip import SipAudio, connect_desk_call, hang_up_desk_call, heard_by
from tests.server.conftest import Running
from tests.sip.peer import Peer
from ucs.client import Operator

pytestmark = pytest.mark.anyio


async def test_a_supervisor_listens_barges_and_whispers_on_a_desk_phones_call(
    supervisor_browser: Any,
    crm: tuple[Path, str],
    sip_media: tuple[Running, Peer],
    desk: tuple[SipAudio, Operator],
    netns: Netns,
) -> None:
    (server, trunk), (phone, op) = sip_media, desk
    assert isinstance(trunk, SipAudio)
    boss = await open_page(
        supervisor_browser, crm, server, headless=False, extra="audioProcessing: false,"
    )
    await boss.evaluate(ON_SOFTPHONE, ["supervisor", "supervisor-pass"])
    center = server.server.center
    agent1 = center.directory.agent_by_username("agent1")
    assert agent1 is not None
    events = op.events()
    d = await connect_desk_call(trunk, phone, op, events, netns.engine_ip)
    uid = str((await op.state())["call"]["uniqueid"])
    assert center.calls[uid].anchored is True  # (told before the phone's ACK)

    watching = await boss.evaluate(f"window.ucsOperator.listen({agent1.id})")
    assert watching == {"uniqueid": uid, "userId": agent1.id, "mode": "listen"}
    await boss.wait_for_function(
        f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
    )
    boss_hears = lambda: browser_heard(boss, uid)  # noqa: E731
    await hear_all(
        (boss_hears, (CALLER_TONE, AGENT_TONE)),
        (heard_by(trunk), (AGENT_TONE,), (SUPERVISOR_TONE,)),
        (heard_by(phone), (CALLER_TONE,), (SUPERVISOR_TONE,)),
    )

    assert (await boss.evaluate(f"window.ucsOperator.barge({agent1.id})"))["mode"] == "barge"
    await hear_all(
        (heard_by(trunk), (AGENT_TONE, SUPERVISOR_TONE)),
        (heard_by(phone), (CALLER_TONE, SUPERVISOR_TONE)),
    )

    # Whisper: the desk phone is bridged into the coach room; it hears the caller and the
    # supervisor, the caller hears it alone, the supervisor still hears both sides.
    assert (await boss.evaluate(f"window.ucsOperator.whisper({agent1.id})"))["mode"] == "whisper"
    await hear_all(
        (heard_by(phone), (CALLER_TONE, SUPERVISOR_TONE)),
        (heard_by(trunk), (AGENT_TONE,), (SUPERVISOR_TONE,)),
        (boss_hears, (CALLER_TONE, AGENT_TONE)),
    )

    # Back to listening: the phone is in the call's room again, nobody hears the supervisor.
    assert (await boss.evaluate(f"window.ucsOperator.listen({agent1.id})"))["mode"] == "listen"
    await hear_all(
        (heard_by(phone), (CALLER_TONE,), (SUPERVISOR_TONE,)),
        (heard_by(trunk), (AGENT_TONE,), (SUPERVISOR_TONE,)),
        (boss_hears, (CALLER_TONE, AGENT_TONE)),
    )

    await boss.evaluate("window.ucsOperator.hangup()")
    await boss.wait_for_function(f"window.ucsOperator.__ucs.softphone.remote('{uid}') === null")
    assert center.calls[uid].state == 3 and center.monitors == {}
    await hear_all(
        (heard_by(trunk), (AGENT_TONE,), (SUPERVISOR_TONE,)),
        (heard_by(phone), (CALLER_TONE,), (SUPERVISOR_TONE,)),
    )
    await hang_up_desk_call(trunk, phone, d, events)
