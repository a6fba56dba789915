"""Only phones that are registered are offered queue calls: the SIP switch tells the core which
are (at start, as they register, unregister or run out), and keeps the bindings across a restart.

Before, a READY agent whose phone was not registered was offered the call all the same, the
ring failed, and the caller was offered to the same phone again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from tests.sip.conftest import SipRunning, running_sip_server
from tests.sip.peer import Peer
from ucs.client import Operator
from ucs.core.ids import LineId

pytestmark = pytest.mark.anyio


@contextlib.asynccontextmanager
async def _agent(url: str, n: int) -> AsyncIterator[Operator]:
    """agentN READY on phoneN (registered or not: pairing does not ask)."""
    async with Operator(url) as op:
        await op.login(f"agent{n}", f"agent{n}-pass")
        await op.select_identifier(f"phone{n}")
        await op.provision()
        await op.change_status("READY")
        yield op


async def _until(check: Callable[[], bool], wait: float = 5.0) -> None:
    async with asyncio.timeout(wait):
        while not check():  # noqa: ASYNC110 (the state is the server's, polled)
            await asyncio.sleep(0.02)


def _registered(running: SipRunning) -> set[LineId]:
    registered = running.server.center.registered
    assert registered is not None, "the SIP switch tells the core which phones are registered"
    return registered


def _quiet(phone: Peer) -> bool:
    """Nothing reached the phone."""
    return phone.inbox.empty()


async def test_an_unregistered_phone_is_not_rung(sip_server: SipRunning) -> None:
    phone1 = await Peer("phone1", sip_server.sip).open()  # never registers
    phone2 = await Peer("phone2", sip_server.sip).open()
    try:
        assert (await phone2.register("phone2-secret")).code == 200
        await _until(lambda: LineId(2) in _registered(sip_server))
        async with _agent(sip_server.url, 1) as agent1, _agent(sip_server.url, 2):
            # agent1 has been idle longest: without registrations it would be tried first
            events = agent1.events()
            trunk = sip_server.trunk
            trunk.invite(trunk.dialog_to("100"))
            ring = await phone2.expect("INVITE")
            phone2.respond(ring, 180)
            await asyncio.sleep(0.3)
            assert _quiet(phone1)
            rung = [c for c in sip_server.server.center.calls.values() if c.offers]
            assert [sorted(c.offers) for c in rung] == [[2]]
            told = [e for e in events.drain() if e.type in ("call", "error")]
            assert told == [], "agent1 was never offered the call, nor told of a failed ring"
    finally:
        phone1.close()
        phone2.close()


async def test_a_waiting_caller_rings_the_phone_that_registers(sip_server: SipRunning) -> None:
    phone1 = await Peer("phone1", sip_server.sip).open()
    try:
        async with _agent(sip_server.url, 1):
            trunk = sip_server.trunk
            trunk.invite(trunk.dialog_to("100"))
            await _until(lambda: any(c.waiting for c in sip_server.server.center.calls.values()))
            await asyncio.sleep(0.3)
            assert _quiet(phone1)
            assert (await phone1.register("phone1-secret")).code == 200
            ring = await phone1.expect("INVITE")
            assert "answer-after" not in str(ring)
            phone1.respond(ring, 180)
    finally:
        phone1.close()


async def test_unregistering_and_running_out(sip_server: SipRunning) -> None:
    sip = sip_server.server.sip
    assert sip is not None and sip.b2bua is not None
    phone1 = await Peer("phone1", sip_server.sip).open()
    phone2 = await Peer("phone2", sip_server.sip).open()
    try:
        assert (await phone1.register("phone1-secret")).code == 200
        await _until(lambda: LineId(1) in _registered(sip_server))
        async with httpx.AsyncClient(base_url=sip_server.url) as http:
            assert "ucs_phones_registered 1.0" in (await http.get("/metrics")).text
        assert (await phone1.register("phone1-secret", expires=0)).code == 200
        await _until(lambda: LineId(1) not in _registered(sip_server))
        sip.b2bua.registrar.min_expires = 1  # a registration that runs out within the test
        assert (await phone2.register("phone2-secret", expires=1)).code == 200
        await _until(lambda: LineId(2) in _registered(sip_server))
        await _until(lambda: LineId(2) not in _registered(sip_server), wait=3)
        async with _agent(sip_server.url, 2):
            trunk = sip_server.trunk
            trunk.invite(trunk.dialog_to("100"))
            await _until(lambda: any(c.waiting for c in sip_server.server.center.calls.values()))
            await asyncio.sleep(0.3)
            assert _quiet(phone2)
    finally:
        phone1.close()
        phone2.close()


async def test_registrations_survive_a_restart(tmp_path: Path) -> None:
    phone1 = await Peer("phone1", ("127.0.0.1", 9)).open()
    try:
        async with running_sip_server(tmp_path) as first:
            phone1.server = first.sip
            assert (await phone1.register("phone1-secret")).code == 200
            await _until(lambda: LineId(1) in _registered(first))
        async with running_sip_server(tmp_path) as second:
            assert _registered(second) == {LineId(1)}
            assert second.server.sip is not None and second.server.sip.b2bua is not None
            where = second.server.sip.b2bua.registrar.where("phone1")
            assert where is not None and where.port == phone1.port
            async with _agent(second.url, 1):
                trunk = second.trunk
                trunk.invite(trunk.dialog_to("100"))
                ring = await phone1.expect("INVITE")  # at the address it registered before
                phone1.respond(ring, 180)
    finally:
        phone1.close()
