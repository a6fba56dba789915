"""A real phone with ``--switch sip`` and the media engine: Debian's baresip 1.0.0 as agent1's
desk phone, saying a 1 kHz file (``aufile``) and writing what it hears (``sndfile``), takes
a SIP caller's call (440 Hz) from queue 1: it is called with a late offer, answers with its
own, and the ACK gives it the engine's address; each hears the other through Janus."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.media.audio import MUSIC, assert_tone, read_wav, stretch, write_tone
from tests.media.conftest import AGENT_TONE, SUPERVISOR_TONE, Netns
from tests.media.helpers import ADMIN, hears
from tests.media.sip import (
    SipAudio,
    call_in,
    connect_desk_call,
    hang_up_desk_call,
    heard_by,
    hears_tone,
    listen,
)
from tests.server.conftest import Running
from tests.sip.baresip import BARESIP, Baresip
from tests.sip.helpers import agent, next_call
from tests.sip.peer import Dialog, Peer
from ucs.client import Operator
from ucs.client.operator import EventStream

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(BARESIP is None, reason="baresip is not installed (make sip-peers)"),
]

CALLER = 440.0


async def _phone(
    server: Running,
    netns: Netns,
    tmp_path: Path,
    user: str = "phone1",
    hz: float = AGENT_TONE,
) -> tuple[Baresip, Path]:
    """baresip as ``user`` on the namespace's host side (its SDP names that address),
    registered, saying ``hz``; and the folder its ``sndfile`` writes what it hears to."""
    mic = write_tone(tmp_path / f"{user}.wav", hz, seconds=60.0, rate=8000)
    heard = tmp_path / f"heard-{user}"
    heard.mkdir()
    n = netns.host_ip.split(".")[2]
    phone = Baresip(
        tmp_path / f"baresip-{user}",
        user,
        f"{user}-secret",
        ("127.0.0.1", server.server.settings.sip_port),
        audio=(f"audio_source aufile,{mic}", "audio_player aubridge,ucs"),
        modules=("module aufile.so", "module sndfile.so", f"snd_path {heard}"),
        net=(f"net_interface ucsm{n}a",),
    )
    await phone.start()
    sip = server.server.sip
    assert sip is not None and sip.b2bua is not None
    registrar = sip.b2bua.registrar
    async with asyncio.timeout(10):  # its REGISTER may beat our ctrl_tcp connection
        while getattr(registrar.where(user), "port", None) != phone.sip_port:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return phone, heard


async def test_baresip_takes_a_sip_callers_call_through_the_engine(
    sip_media: tuple[Running, Peer], netns: Netns, tmp_path: Path
) -> None:
    server, trunk = sip_media
    assert isinstance(trunk, SipAudio)
    phone, heard = await _phone(server, netns, tmp_path)
    op = await agent(server.url)
    try:
        events = op.events()
        d = await _answered(trunk, phone, op, events)
        assert_tone(await listen(trunk, 2.5), 8000, AGENT_TONE)  # the caller hears the phone
        await _caller_hangs_up(trunk, d, phone)
    finally:
        await op.__aexit__(None, None, None)
        await phone.stop()
    decoded = [p for p in heard.iterdir() if "dec" in p.name]
    assert len(decoded) == 1, [p.name for p in heard.iterdir()]
    samples, rate = read_wav(decoded[0].read_bytes())
    assert_tone(stretch(samples, rate, -2.0, 1.5), rate, CALLER)  # the phone heard the caller


async def _answered(trunk: SipAudio, phone: Baresip, op: Operator, events: EventStream) -> Dialog:
    """The trunk calls queue 1, baresip rings, the agent answers, baresip accepts the INVITE
    with answer-after=0 (no SDP): connected. The trunk's dialog."""
    d = await call_in(trunk)
    await phone.event("CALL_INCOMING")
    await next_call(events, "ringing")
    await op.answer()
    # the ringing INVITE is cancelled and one with answer-after=0 (no SDP) comes, in either order
    await phone.events_of("CALL_CLOSED", "CALL_INCOMING")
    assert (await phone.command("accept"))["ok"]
    await phone.event("CALL_ESTABLISHED")
    assert (await next_call(events, "connect")).call["state"] == 3
    return d


async def test_baresips_own_hold_gives_the_caller_the_music_and_holds_the_call(
    sip_media: tuple[Running, Peer], netns: Netns, tmp_path: Path
) -> None:
    """baresip's ``hold`` command (its re-INVITE ``sendonly``): the agent's call goes HELD and
    the caller hears queue 1's music (600 Hz); ``resume``: CONNECTED, the phone heard again."""
    server, trunk = sip_media
    assert isinstance(trunk, SipAudio)
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
        wav = write_tone(tmp_path / "tune.wav", MUSIC, seconds=5.0, rate=8000)
        assert (await http.put("/api/sounds/tune", content=wav.read_bytes())).status_code == 200
        assert (await http.patch("/api/queues/1", json={"music": "tune"})).status_code == 200
    phone, _heard = await _phone(server, netns, tmp_path)
    op = await agent(server.url)
    try:
        events = op.events()
        d = await _answered(trunk, phone, op, events)
        assert_tone(await hears_tone(trunk, AGENT_TONE), 8000, AGENT_TONE)
        assert (await phone.command("hold"))["ok"]
        assert (await next_call(events, "change")).call["state"] == 5
        assert_tone(await hears_tone(trunk, MUSIC), 8000, MUSIC)
        assert (await phone.command("resume"))["ok"]
        assert (await next_call(events, "change")).call["state"] == 3
        assert_tone(await hears_tone(trunk, AGENT_TONE), 8000, AGENT_TONE)
        await _caller_hangs_up(trunk, d, phone)
    finally:
        await op.__aexit__(None, None, None)
        await phone.stop()


async def _caller_hangs_up(trunk: SipAudio, d: Dialog, phone: Baresip) -> None:
    trunk.bye(d)
    assert (await trunk.expect(200)).cseq_method == "BYE"
    await phone.event("CALL_CLOSED")


async def test_baresip_as_a_supervisors_phone_hears_the_call_and_barges_in(
    sip_media: tuple[Running, Peer],
    desk: tuple[SipAudio, Operator],
    netns: Netns,
    tmp_path: Path,
) -> None:
    """The supervisor on phone4, Debian's baresip saying 1.7 kHz: ``listen()`` calls it (it
    ignores answer-after, so it is answered by its ``accept``), it hears the caller (440 Hz)
    and agent1's phone (1 kHz); barging, the caller hears 1.7 kHz; ``hangup()`` hangs it up
    and the call goes on."""
    (server, trunk), (desk_phone, op) = sip_media, desk
    assert isinstance(trunk, SipAudio)
    phone, heard = await _phone(server, netns, tmp_path, "phone4", SUPERVISOR_TONE)
    sup = Operator(server.url)  # (not READY: no queue call is offered to phone4)
    await sup.__aenter__()
    await sup.login("supervisor", "supervisor-pass")
    await sup.select_identifier("phone4")
    await sup.provision()
    center = server.server.center
    agent1 = center.directory.agent_by_username("agent1")
    assert agent1 is not None
    try:
        events = op.events()
        d = await connect_desk_call(trunk, desk_phone, op, events, netns.engine_ip)
        uid = str((await op.state())["call"]["uniqueid"])
        await sup.listen(agent1.id)
        await phone.event("CALL_INCOMING")
        assert (await phone.command("accept"))["ok"]
        await phone.event("CALL_ESTABLISHED")
        await hears(heard_by(trunk), (AGENT_TONE,), without=(SUPERVISOR_TONE,))
        await sup.barge(agent1.id)
        await hears(heard_by(trunk), (AGENT_TONE, SUPERVISOR_TONE))
        await sup.hangup()
        await phone.event("CALL_CLOSED")
        assert center.calls[uid].state == 3 and center.monitors == {}
        await hang_up_desk_call(trunk, desk_phone, d, events)
    finally:
        await sup.__aexit__(None, None, None)
        await phone.stop()
    decoded = [p for p in heard.iterdir() if "dec" in p.name]
    assert len(decoded) == 1, [p.name for p in heard.iterdir()]
    samples, rate = read_wav(decoded[0].read_bytes())

    async def what_it_heard() -> tuple[Any, int]:
        return stretch(samples, rate, -2.5, 1.5), rate

    await hears(what_it_heard, (CALLER, AGENT_TONE))  # the supervisor heard both sides
