"""Caller lookup through real sockets (CONTRACT §12): the server asks a CRM on loopback, and a
slow, failing or malicious CRM never holds a call past the timeout nor gets into the call."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.crm.helpers import ADMIN, SCRIPT, fake_crm, ready_agent
from tests.server.conftest import Running
from ucs.client import Operator
from ucs.crm.lookup import MAX_NAME

pytestmark = pytest.mark.anyio


async def _set(running: Running, body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        return await http.put("/api/settings/lookup", json=body)


async def _ringing(running: Running, op: Operator, number: str) -> tuple[dict[str, Any], float]:
    """A caller from ``number`` into Support; the call as it rings the agent, and the seconds
    from the caller's arrival to the ring."""
    events = op.events()
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        started = time.monotonic()
        r = await http.post("/api/sim/calls", json={"queue": 1, "from": number})
        assert r.status_code == 201
    async with asyncio.timeout(20):
        async for e in events:
            if e.type == "call" and e.what == "ringing":
                return e.call, time.monotonic() - started
    raise AssertionError("never rang")


async def test_the_ringing_call_carries_the_crms_answer(running: Running) -> None:
    with fake_crm() as crm:
        r = await _set(running, {"url": f"{crm.url}/lookup/ok", "timeout_ms": 2000})
        assert r.json() == {"url": f"{crm.url}/lookup/ok", "timeout_ms": 2000}
        op = await ready_agent(running.url, 1)
        async with op:
            call, _ = await _ringing(running, op, "601 123 456")
        assert call["name"] == "Caller +420601123456"
        assert call["external_id"] == "c-1"
        assert call["data"]["company"] == "Novák & syn"
        assert call["data"]["crmUrl"] == "https://crm/1"
        asked = crm.lookups[0]
        assert asked["number"] == "+420601123456" and asked["direction"] == "INCOMING"
        assert asked["queue"] == "1" and asked["uniqueid"] == call["uniqueid"]


async def test_an_agents_dial_is_looked_up(running: Running) -> None:
    with fake_crm() as crm:
        await _set(running, {"url": f"{crm.url}/lookup/ok", "timeout_ms": 2000})
        op = await ready_agent(running.url, 2)
        async with op:
            events = op.events()
            call = await op.dial("+420602234567", "directCall")
            async with asyncio.timeout(10):
                async for e in events:
                    if e.type == "call" and e.call["name"]:
                        assert e.call["name"] == "Caller +420602234567"
                        break
        assert crm.lookups[0]["direction"] == "OUTGOING"
        assert crm.lookups[0]["uniqueid"] == call["uniqueid"]


@pytest.mark.parametrize("mode", ["ok", "unknown"])
async def test_lookups_keep_their_connection_to_the_crm(running: Running, mode: str) -> None:
    """A number the CRM does not know (404) costs no new connection: its answer is read
    whole, so the connection goes back to the pool (a real CRM: no TLS handshake a caller)."""
    with fake_crm() as crm:
        await _set(running, {"url": f"{crm.url}/lookup/{mode}", "timeout_ms": 2000})
        op = await ready_agent(running.url, 1)
        async with op, httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            for n in range(4):
                events = op.events()
                r = await http.post("/api/sim/calls", json={"queue": 2, "from": f"60112345{n}"})
                uid = r.json()["uniqueid"]
                async with asyncio.timeout(20):
                    async for e in events:
                        if e.type == "call" and e.what == "ringing" and e.call["uniqueid"] == uid:
                            break
                name = None if mode == "unknown" else f"Caller +42060112345{n}"
                assert e.call["name"] == name
                await http.post(f"/api/sim/calls/{uid}/hangup")
        assert len(crm.lookups) == 4
        assert len(crm.peers) == 1, crm.peers


@pytest.mark.parametrize("mode", ["hang", "500", "huge", "stream", "invalid", "list"])
async def test_a_crm_that_fails_never_holds_a_call_past_the_timeout(
    running: Running, mode: str
) -> None:
    with fake_crm() as crm:
        await _set(running, {"url": f"{crm.url}/lookup/{mode}", "timeout_ms": 400})
        op = await ready_agent(running.url, 1)
        async with op:
            call, waited = await _ringing(running, op, "601 123 456")
        assert call["name"] is None and call["external_id"] is None
        assert "crmUrl" not in call["data"]
        assert waited < 0.4 + 3  # loosely: the virtual-clock test holds it to exactly 0.4 s
        assert len(crm.lookups) <= 1  # asked once at most (on a busy machine, maybe too late)


@pytest.mark.parametrize("mode", ["longname", "script"])
async def test_what_the_crm_says_is_cut_to_size_and_stays_text(running: Running, mode: str) -> None:
    with fake_crm() as crm:
        await _set(running, {"url": f"{crm.url}/lookup/{mode}", "timeout_ms": 2000})
        op = await ready_agent(running.url, 1)
        async with op:
            call, _ = await _ringing(running, op, "601 123 456")
        expected = ("N" * 10_000 if mode == "longname" else SCRIPT)[:MAX_NAME]
        assert call["name"] == expected and len(call["name"]) <= MAX_NAME


async def test_answers_are_cached_a_minute_per_number(running: Running) -> None:
    with fake_crm() as crm:
        await _set(running, {"url": f"{crm.url}/lookup/ok", "timeout_ms": 2000})
        op = await ready_agent(running.url, 1)
        async with op:
            first, _ = await _ringing(running, op, "601 123 456")
            await op.hangup()
        op = await ready_agent(running.url, 2)
        async with op:
            second, _ = await _ringing(running, op, "601 123 456")
        assert second["name"] == first["name"] == "Caller +420601123456"
        assert len(crm.lookups) == 1  # the second call was named from the cache


async def test_the_setting_is_checked_stored_and_turned_off(running: Running) -> None:
    for bad in (
        {"url": "ftp://crm/lookup"},
        {"url": "/relative"},
        {"url": "http://crm/x", "timeout_ms": 0},
        {"url": "http://crm/x", "timeout_ms": 100_000},
        {"url": 5},
    ):
        r = await _set(running, bad)
        assert r.status_code == 422, bad
    before = running.server.store.setting("crm_lookup")
    assert before is None
    r = await _set(running, {"url": "https://crm.example/lookup", "timeout_ms": 900})
    assert r.status_code == 200
    assert running.server.center.lookups.timeout == 0.9
    r = await _set(running, None)
    assert r.json() == {"url": None, "timeout_ms": None}
    assert running.server.center.lookups.timeout is None
    async with httpx.AsyncClient(base_url=running.url) as http:
        assert (await http.put("/api/settings/lookup", json=None)).status_code == 401


async def test_the_demo_crm_answers_lookups_for_its_contacts(running: Running) -> None:
    """``--demo`` looks callers up in the demo CRM: a screen pop out of the box."""
    op = await ready_agent(running.url, 1)
    async with op:
        call, _ = await _ringing(running, op, "+420602234567")
    assert call["name"] == "Eva Dvořáková"
    assert call["data"]["company"] == "Pekárna U Mostu"
    assert call["data"]["crmUrl"] == f"{running.url}/demo/crm/contact.html?id=2"
    async with httpx.AsyncClient(base_url=running.url) as http:
        page = await http.get(call["data"]["crmUrl"])
        assert page.status_code == 200 and "contacts" in page.text
        missing = await http.get("/demo/crm/lookup", params={"number": "+420777000000"})
        assert missing.status_code == 404
