"""A real softphone: Debian's baresip registers as phone1 (digest), a trunk call into queue 1
rings it, the agent answers through the SDK, baresip takes the call and the core shows it
connected; then either side hangs up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.sip.baresip import BARESIP, Baresip
from tests.sip.conftest import SipRunning
from tests.sip.helpers import agent, next_call
from tests.sip.peer import Dialog
from ucs.client import Operator
from ucs.client.operator import EventStream
from ucs.switch.sip.registrar import Registrar

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(BARESIP is None, reason="baresip is not installed (make sip-peers)"),
]


def _registered(registrar: Registrar, port: int) -> bool:
    where = registrar.where("phone1")
    return where is not None and where.port == port


async def _baresip(sip_server: SipRunning, tmp_path: Path, answermode: str) -> Baresip:
    phone = Baresip(tmp_path / "baresip", "phone1", "phone1-secret", sip_server.sip, answermode)
    await phone.start()
    try:  # its REGISTER may beat our ctrl_tcp connection: ask the registrar, not the event
        assert sip_server.server.sip is not None and sip_server.server.sip.b2bua is not None
        registrar = sip_server.server.sip.b2bua.registrar
        async with asyncio.timeout(10):
            while not _registered(registrar, phone.sip_port):  # noqa: ASYNC110 (no event)
                await asyncio.sleep(0.02)
    except BaseException:
        await phone.stop()
        raise
    return phone


@pytest.fixture
async def baresip(sip_server: SipRunning, tmp_path: Path) -> AsyncIterator[Baresip]:
    phone = await _baresip(sip_server, tmp_path, "manual")
    try:
        yield phone
    finally:
        await phone.stop()


async def _queue_call_answered(
    sip_server: SipRunning, phone: Baresip, op: Operator, events: EventStream
) -> tuple[Dialog, str]:
    """Trunk → queue 1 → baresip rings → the agent answers through the SDK → baresip is called
    again with answer-after=0 and takes it → connected. The trunk's dialog and the uniqueid."""
    trunk = sip_server.trunk
    d = trunk.dialog_to("100")
    trunk.invite(d)
    incoming = await phone.event("CALL_INCOMING")
    assert incoming["peeruri"].startswith("sip:trunk@")  # the caller's number, as the phone shows
    assert (await trunk.expect(180)).code == 180  # baresip's ringing, passed to the caller
    ringing = await next_call(events, "ringing")
    assert ringing.call["state"] == 2 and ringing.call["called_number"] == "100"
    await op.answer()
    # the ringing INVITE is cancelled and a new one, with answer-after=0, arrives, in either order
    await phone.events_of("CALL_CLOSED", "CALL_INCOMING")
    assert (await phone.command("accept"))["ok"]
    ok = await trunk.expect(200)
    assert ok.cseq_method == "INVITE"
    assert "m=audio" in ok.body and "PCMU" in ok.body  # baresip's own media description
    assert f"m=audio {phone.sip_port}" not in ok.body
    trunk.ack(ok, d)
    await phone.event("CALL_ESTABLISHED")
    connected = await next_call(events, "connect")
    assert connected.call["state"] == 3
    assert connected.call["uniqueid"] == ringing.call["uniqueid"]
    return d, str(ringing.call["uniqueid"])


async def test_baresip_registers_with_digest(sip_server: SipRunning, baresip: Baresip) -> None:
    assert sip_server.server.sip is not None and sip_server.server.sip.b2bua is not None
    where = sip_server.server.sip.b2bua.registrar.where("phone1")
    assert where is not None and where.port == baresip.sip_port


async def test_baresip_takes_a_queue_call_and_the_caller_hangs_up(
    sip_server: SipRunning, baresip: Baresip
) -> None:
    op = await agent(sip_server.url)
    try:
        events = op.events()
        d, uid = await _queue_call_answered(sip_server, baresip, op, events)
        sip_server.trunk.bye(d)
        assert (await sip_server.trunk.expect(200)).cseq_method == "BYE"
        await baresip.event("CALL_CLOSED")
        gone = await next_call(events, "hangup")
        assert gone.call["uniqueid"] == uid and gone.call["cause"] == 3
    finally:
        await op.__aexit__(None, None, None)


async def test_baresip_hangs_up_with_cause_4(sip_server: SipRunning, baresip: Baresip) -> None:
    op = await agent(sip_server.url)
    try:
        events = op.events()
        _, uid = await _queue_call_answered(sip_server, baresip, op, events)
        assert (await baresip.command("hangup"))["ok"]
        bye = await sip_server.trunk.expect("BYE")
        sip_server.trunk.respond(bye, 200)
        gone = await next_call(events, "hangup")
        assert gone.call["uniqueid"] == uid and gone.call["cause"] == 4
    finally:
        await op.__aexit__(None, None, None)


async def test_baresip_in_auto_answer_connects_without_the_agent(
    sip_server: SipRunning, tmp_path: Path
) -> None:
    """A phone that answers by itself (answermode=auto, as a handset picked up): the core shows
    the call connected all the same."""
    phone = await _baresip(sip_server, tmp_path, "auto")
    op = await agent(sip_server.url)
    try:
        events = op.events()
        trunk = sip_server.trunk
        d = trunk.dialog_to("100")
        trunk.invite(d)
        ok = await trunk.expect(200)
        trunk.ack(ok, d)
        await next_call(events, "ringing")
        connected = await next_call(events, "connect")
        assert connected.call["state"] == 3
        trunk.bye(d)
        assert (await trunk.expect(200)).cseq_method == "BYE"
        assert (await next_call(events, "hangup")).call["cause"] == 3
    finally:
        await op.__aexit__(None, None, None)
        await phone.stop()
