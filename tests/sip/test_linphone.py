"""A second real softphone: Debian's Linphone (``linphonec``, liblinphone 5.1.65) registers as
phone1 with digest, a trunk call into queue 1 rings it, the agent answers through the SDK and
the phone is called again with ``Call-Info: answer-after=0``.

liblinphone reads that header (it tells the application, ``linphone_call_asked_to_autoanswer``)
but the console client does not act on it: the test takes the call with ``answer``, as an agent
would by the handset, and the core shows it connected; then Linphone hangs up (cause 4)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.sip.conftest import SipRunning
from tests.sip.helpers import agent, next_call
from tests.sip.linphone import LINPHONEC, Linphone
from ucs.switch.sip.digest import NONCE_TTL

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(LINPHONEC is None, reason="linphonec is not installed (make sip-peers)"),
]


async def test_linphone_registers_rings_connects_and_hangs_up(
    sip_server: SipRunning, tmp_path: Path
) -> None:
    phone = Linphone(tmp_path / "linphone", "phone1", "phone1-secret", sip_server.sip)
    await phone.start()
    op = None
    try:
        assert sip_server.server.sip is not None and sip_server.server.sip.b2bua is not None
        registrar = sip_server.server.sip.b2bua.registrar
        async with asyncio.timeout(10):
            while (where := registrar.where("phone1")) is None:  # noqa: ASYNC110 (no event)
                await asyncio.sleep(0.05)
        assert where.port == phone.sip_port and "transport=udp" in where.contact
        op = await agent(sip_server.url)
        events = op.events()
        trunk = sip_server.trunk
        d = trunk.dialog_to("100")
        trunk.invite(d)
        first = await phone.printed("Receiving new incoming call")
        assert (await trunk.expect(180)).code == 180  # Linphone rings: the caller hears it
        ringing = await next_call(events, "ringing")
        assert ringing.call["state"] == 2
        await op.answer()
        await phone.printed("Receiving new incoming call", after=first + 1)  # answer-after=0
        phone.command("answer")
        ok = await trunk.expect(200)
        assert ok.cseq_method == "INVITE" and "m=audio" in ok.body
        trunk.ack(ok, d)
        connected = await next_call(events, "connect")
        assert connected.call["state"] == 3
        assert connected.call["uniqueid"] == ringing.call["uniqueid"]
        phone.command("terminate")
        bye = await trunk.expect("BYE")
        trunk.respond(bye, 200)
        gone = await next_call(events, "hangup")
        assert gone.call["uniqueid"] == ringing.call["uniqueid"] and gone.call["cause"] == 4
    finally:
        if op is not None:
            await op.__aexit__(None, None, None)
        await phone.stop()


async def test_linphone_keeps_its_registration_when_its_nonce_runs_out(
    sip_server: SipRunning, tmp_path: Path
) -> None:
    """Linphone refreshes its registration with the nonce it holds (its count growing: each
    (nonce, nc) is good once); when the nonce is past its time (``NONCE_TTL``, the server's
    clock moved on here), the refresh gets ``401`` with ``stale=true`` and Linphone answers
    the new challenge by itself, so the phone stays registered."""
    assert sip_server.server.sip is not None and sip_server.server.sip.b2bua is not None
    b2bua = sip_server.server.sip.b2bua
    registrar = b2bua.registrar
    registrar.min_expires, registrar.max_expires = 1, 2  # a refresh about every 2 s
    phone = Linphone(tmp_path / "linphone", "phone1", "phone1-secret", sip_server.sip)
    await phone.start()
    try:
        async with asyncio.timeout(10):
            while registrar.where("phone1") is None:  # noqa: ASYNC110 (no event)
                await asyncio.sleep(0.05)
        moved = time.time()
        b2bua.phones.digest.clock = lambda: time.time() + NONCE_TTL + 1
        async with asyncio.timeout(10):  # two refreshes after the nonce ran out
            while (w := registrar.where("phone1")) is None or w.expires < moved + 4:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await phone.stop()
