"""A supervisor on a desk phone (``--switch sip``, CONTRACT §11): ``listen()`` makes the server
call the supervisor's phone (phone4, a SIP peer saying 1.7 kHz; answer-after=0, a late offer)
and its audio joins the call's room: it hears the trunk's caller (440 Hz) and agent1's desk
phone (1 kHz) and nobody hears it; ``barge()`` on the same call makes it heard by both;
``whisper()`` by agent1's phone alone (both desk phones bridged in the coach room); hanging
the phone up ends the monitoring only, and ``hangup()`` in the component hangs the phone up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import open_page
from tests.media.conftest import AGENT_TONE, SUPERVISOR_TONE, Netns
from tests.media.helpers import CALLER_TONE, ON_SOFTPHONE, browser_heard, hear_all, hears
from tests.media.sip import (
    SipAudio,
    call_in,
    connect_desk_call,
    engine_of,
    hang_up_desk_call,
    heard_by,
    sip_address,
)
from tests.server.conftest import Running
from tests.sip.peer import Dialog, Peer
from ucs.client import Operator

pytestmark = pytest.mark.anyio


@pytest.fixture
async def boss(
    sip_media: tuple[Running, Peer], netns: Netns
) -> AsyncIterator[tuple[SipAudio, Operator]]:
    """phone4 registered, saying 1.7 kHz, and the supervisor on it (not READY: no queue call
    is offered to it)."""
    server, _ = sip_media
    phone = await SipAudio.make("phone4", sip_address(server), netns.host_ip, SUPERVISOR_TONE, 0.3)
    op = Operator(server.url)
    await op.__aenter__()
    try:
        assert (await phone.register("phone4-secret")).code == 200
        await op.login("supervisor", "supervisor-pass")
        await op.select_identifier("phone4")
        await op.provision()
        yield phone, op
    finally:
        await op.__aexit__(None, None, None)
        phone.close()


async def _answer_monitoring(phone: SipAudio, engine_ip: str) -> Dialog:
    """The supervisor's phone is called (answer at once, no offer) and answers: its ACK
    names the engine, where it speaks. Its dialog."""
    invite = await phone.expect("INVITE", wait=10)
    assert "answer-after=0" in (invite.get("call-info") or "") and invite.body == ""
    phone.respond(invite, 200, body=phone.sdp)
    ack = await phone.expect("ACK")
    assert engine_of(ack)[0] == engine_ip
    phone.speak_to(ack)
    return phone.dialog_of(invite)


async def test_a_supervisor_listens_barges_and_whispers_from_a_desk_phone(
    sip_media: tuple[Running, Peer],
    desk: tuple[SipAudio, Operator],
    boss: tuple[SipAudio, Operator],
    netns: Netns,
) -> None:
    (server, trunk), (phone, op), (sup_phone, sup) = sip_media, desk, boss
    assert isinstance(trunk, SipAudio)
    center = server.server.center
    agent1 = center.directory.agent_by_username("agent1")
    supervisor = center.directory.agent_by_username("supervisor")
    assert agent1 is not None and supervisor is not None
    events = op.events()
    d = await connect_desk_call(trunk, phone, op, events, netns.engine_ip)
    uid = str((await op.state())["call"]["uniqueid"])

    assert (await sup.listen(agent1.id)) == {"uniqueid": uid, "userId": agent1.id, "mode": "listen"}
    monitoring = await _answer_monitoring(sup_phone, netns.engine_ip)
    await hear_all(
        (heard_by(sup_phone), (CALLER_TONE, AGENT_TONE)),
        (heard_by(trunk), (AGENT_TONE,), (SUPERVISOR_TONE,)),
        (heard_by(phone), (CALLER_TONE,), (SUPERVISOR_TONE,)),
    )

    assert (await sup.barge(agent1.id))["mode"] == "barge"  # on the same phone call
    await hear_all(
        (heard_by(trunk), (AGENT_TONE, SUPERVISOR_TONE)),
        (heard_by(phone), (CALLER_TONE, SUPERVISOR_TONE)),
    )
    # Whisper, both on desk phones: the agent's phone hears the caller and the supervisor,
    # the caller the agent alone, the supervisor both sides; still the same phone call.
    assert (await sup.whisper(agent1.id))["mode"] == "whisper"
    await hear_all(
        (heard_by(phone), (CALLER_TONE, SUPERVISOR_TONE)),
        (heard_by(trunk), (AGENT_TONE,), (SUPERVISOR_TONE,)),
        (heard_by(sup_phone), (CALLER_TONE, AGENT_TONE)),
    )
    assert (await sup.listen(agent1.id))["mode"] == "listen"
    await hear_all(
        (heard_by(phone), (CALLER_TONE,), (SUPERVISOR_TONE,)),
        (heard_by(trunk), (AGENT_TONE,), (SUPERVISOR_TONE,)),
    )
    assert sup_phone.inbox.empty()  # no other INVITE: the mode changed in the engine

    # The supervisor hangs the phone up: the monitoring ends, the call goes on.
    sup_phone.bye(monitoring)
    assert (await sup_phone.expect(200)).cseq_method == "BYE"
    async with asyncio.timeout(10):
        while center.monitors:  # noqa: ASYNC110 (the server's state, no event to wait on)
            await asyncio.sleep(0.05)
    assert center.calls[uid].state == 3
    await hear_all(
        (heard_by(trunk), (AGENT_TONE,)),
        (heard_by(phone), (CALLER_TONE,)),
    )

    # Listening again calls the phone again; hangup() in the component hangs it up.
    await sup.listen(agent1.id)
    await _answer_monitoring(sup_phone, netns.engine_ip)
    await hears(heard_by(sup_phone), (CALLER_TONE, AGENT_TONE))
    await sup.hangup()
    bye = await sup_phone.expect("BYE", wait=10)
    sup_phone.respond(bye, 200)
    assert supervisor.id not in center.monitors and center.calls[uid].state == 3
    await hang_up_desk_call(trunk, phone, d, events)


async def test_a_supervisor_whispers_from_a_desk_phone_to_a_softphone_agent(
    softphone_browser: Any,
    crm: tuple[Path, str],
    sip_media: tuple[Running, Peer],
    boss: tuple[SipAudio, Operator],
    netns: Netns,
) -> None:
    """agent1 on the softphone (Chromium, 1 kHz) takes the trunk's caller; the supervisor's
    phone whispers from a room of its own fed the call's mix: the agent's coach connection
    hears 1.7 kHz, its call connection and the caller do not; the supervisor hears both."""
    (server, trunk), (sup_phone, sup) = sip_media, boss
    assert isinstance(trunk, SipAudio)
    page = await open_page(
        softphone_browser, crm, server, headless=False, extra="audioProcessing: false,"
    )
    await page.evaluate(ON_SOFTPHONE, ["agent1", "agent1-pass"])
    agent1 = server.server.center.directory.agent_by_username("agent1")
    assert agent1 is not None
    await call_in(trunk)
    await page.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
    uid = str((await page.evaluate("window.ucsOperator.answer()"))["uniqueid"])
    await page.wait_for_function(
        f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
    )

    await sup.listen(agent1.id)
    await _answer_monitoring(sup_phone, netns.engine_ip)
    await hears(heard_by(sup_phone), (CALLER_TONE, AGENT_TONE))
    assert (await sup.whisper(agent1.id))["mode"] == "whisper"
    coach = f"{uid}#coach"
    await page.wait_for_function(
        f"window.ucsOperator.__ucs.softphone.remote('{coach}') !== null", timeout=20000
    )
    await hear_all(
        (lambda: browser_heard(page, coach), (SUPERVISOR_TONE,)),
        (lambda: browser_heard(page, uid), (CALLER_TONE,), (SUPERVISOR_TONE,)),
        (heard_by(trunk), (AGENT_TONE,), (SUPERVISOR_TONE,)),
        (heard_by(sup_phone), (CALLER_TONE, AGENT_TONE)),
    )

    assert (await sup.listen(agent1.id))["mode"] == "listen"  # nobody hears it again
    await page.wait_for_function(f"window.ucsOperator.__ucs.softphone.remote('{coach}') === null")
    await hear_all(
        (heard_by(trunk), (AGENT_TONE,), (SUPERVISOR_TONE,)),
        (heard_by(sup_phone), (CALLER_TONE, AGENT_TONE)),
    )
    await sup.hangup()
    sup_phone.respond(await sup_phone.expect("BYE", wait=10), 200)
    await page.evaluate("window.ucsOperator.hangup()")
    trunk.respond(await trunk.expect("BYE", wait=10), 200)
