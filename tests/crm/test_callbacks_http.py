"""Callback requests through real sockets (CONTRACT §12): the REST API puts one in a queue,
the agent's SDK is offered it as OUTGOING with ``data.callback``, and ``answer()`` makes the
server dial the number."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.crm.helpers import ADMIN, ready_agent
from tests.server.conftest import Running
from ucs.client import Operator

pytestmark = pytest.mark.anyio


async def _next(events: Any, what: str, state: int | None = None) -> dict[str, Any]:
    async with asyncio.timeout(10):
        async for e in events:
            if e.type == "call" and e.what == what and (state is None or e.call["state"] == state):
                call: dict[str, Any] = e.call
                return call
    raise AssertionError(f"no {what}")


async def test_a_callback_request_is_offered_and_answer_dials_it(running: Running) -> None:
    op: Operator = await ready_agent(running.url, 1)
    async with op, httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        events = op.events()
        r = await http.post(
            "/api/queues/1/callbacks",
            json={"number": "602 234 567", "name": "Eva", "data": {"topic": "invoice"}},
        )
        assert r.status_code == 201
        uid = r.json()["uniqueid"]
        offered = await _next(events, "ringing")
        assert offered["uniqueid"] == uid and offered["direction"] == "OUTGOING"
        assert offered["data"] == {"topic": "invoice", "callback": True}
        assert offered["number"] == "602234567" and offered["name"] == "Eva"
        await op.answer()
        connected = await _next(events, "connect", 3)  # the number answers after 1 s
        assert connected["uniqueid"] == uid and connected["connected"] is not None
        await op.hangup()
        for _ in range(500):  # the record is written by the store's writer, a moment later
            cdr = (await http.get("/api/cdr")).json()
            if any(c["uniqueid"] == uid for c in cdr):
                break
            await asyncio.sleep(0.02)
        assert [c["data"]["callback"] for c in cdr if c["uniqueid"] == uid] == [True]


async def test_bad_callback_requests_are_refused(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        cases = [
            ("/api/queues/99/callbacks", {"number": "+420602234567"}, 404),
            ("/api/queues/3/callbacks", {"number": "+420602234567"}, 422),  # a campaign
            ("/api/queues/1/callbacks", {"number": "no digits"}, 422),
            ("/api/queues/1/callbacks", {"number": "12"}, 422),
            ("/api/queues/1/callbacks", {}, 422),
            ("/api/queues/1/callbacks", {"number": "+420602234567", "data": [1]}, 422),
        ]
        for path, body, code in cases:
            assert (await http.post(path, json=body)).status_code == code, body
        assert running.server.center.calls == {}
    async with httpx.AsyncClient(base_url=running.url) as http:
        r = await http.post("/api/queues/1/callbacks", json={"number": "+420602234567"})
        assert r.status_code == 401


async def test_queues_take_a_campaign_and_callback_retries(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.patch("/api/queues/1", json={"campaign": 3, "callback_retries": 2})
        assert r.status_code == 200
        assert (r.json()["campaign"], r.json()["callback_retries"]) == (3, 2)
        q = running.server.center.directory.queues[1]  # type: ignore[index]
        assert (q.campaign, q.callback_retries) == (3, 2)
        bad = await http.patch("/api/queues/1", json={"callback_retries": 99})
        assert bad.status_code == 422


async def _report(http: httpx.AsyncClient, uid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Support's row of today's queue report and agent1's of the agent report, once the
    callback ``uid`` is in the call records."""
    for _ in range(500):
        if any(c["uniqueid"] == uid for c in (await http.get("/api/cdr")).json()):
            break
        await asyncio.sleep(0.02)
    queues = (await http.get("/api/reports/queues?interval=day")).json()
    agents = (await http.get("/api/reports/agents")).json()
    support = next(r for r in queues if r["queue_id"] == 1)
    return support, next(r for r in agents if r["username"] == "agent1")


async def test_the_statistics_count_a_callback_answered_or_not(running: Running) -> None:
    op: Operator = await ready_agent(running.url, 1)
    async with op, httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        events = op.events()
        r = await http.post("/api/queues/1/callbacks", json={"number": "+420602234567"})
        uid = r.json()["uniqueid"]
        await _next(events, "ringing")
        await op.answer()
        await _next(events, "connect", 3)
        await op.hangup()
        support, agent = await _report(http, uid)
        assert (support["offered"], support["answered"], support["abandoned"]) == (1, 1, 0)
        assert agent["answered"] == 1
        # A number that is busy, with no second try: ends with its cause, offered and not
        # answered, not abandoned (the caller did not hang up: we called them).
        await http.patch("/api/queues/1", json={"callback_retries": 0})
        await op.change_status("READY")
        r = await http.post("/api/queues/1/callbacks", json={"number": "+420601000001"})
        busy = r.json()["uniqueid"]
        await _next(events, "ringing")
        await op.answer()
        support, agent = await _report(http, busy)
        record = next(c for c in (await http.get("/api/cdr")).json() if c["uniqueid"] == busy)
        assert record["cause"] == 1 and record["connected"] is None
        assert (support["offered"], support["answered"], support["abandoned"]) == (2, 1, 0)
        assert agent["answered"] == 1


async def test_a_caller_who_presses_1_leaves_a_callback_in_their_place(running: Running) -> None:
    """The simulated caller presses 1 (``POST /api/sim/calls/{uniqueid}/dtmf``, and the CLI's
    ``ucs sim press``): the server hangs up once the confirmation is said (cause 8) and the
    request waits in the caller's place, ahead of a caller who came later."""
    op: Operator = await ready_agent(running.url, 1)
    await op.change_status("AUX", "Lunch")  # away while the callers come in
    events = op.events()
    async with op, httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.patch("/api/queues/1", json={"callback_offer": True})
        assert r.status_code == 200 and r.json()["callback_offer"] is True
        for bad in ({"callback_offer": "yes"}, {"callback_offer": None}):
            assert (await http.patch("/api/queues/1", json=bad)).status_code == 422, bad
        # the demo CRM names the caller (a generous timeout: a busy machine is slow to answer)
        lookup = {"url": f"{running.url}/demo/crm/lookup", "timeout_ms": 10_000}
        assert (await http.put("/api/settings/lookup", json=lookup)).status_code == 200
        r = await http.post("/api/sim/calls", json={"queue": 1, "from": "602 234 567"})
        caller = r.json()["uniqueid"]
        calls = running.server.center.calls
        for _ in range(1000):  # in the queue once looked up: a key pressed before is ignored
            if calls[caller].enqueued_at is not None:
                break
            await asyncio.sleep(0.02)
        assert calls[caller].name == "Eva Dvořáková"
        r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420603345678"})
        later = r.json()["uniqueid"]
        for digits, code in (("x", 422), ("", 422), ("1" * 33, 422), ({"no": 1}, 422)):
            r = await http.post(f"/api/sim/calls/{caller}/dtmf", json={"digits": digits})
            assert r.status_code == code, digits
        assert (await http.post("/api/sim/calls/1.1/dtmf", json={"digits": "1"})).status_code == 404
        async with httpx.AsyncClient(base_url=running.url) as anonymous:
            r = await anonymous.post(f"/api/sim/calls/{caller}/dtmf", json={"digits": "1"})
            assert r.status_code == 401
        assert len(running.server.center.calls) == 2  # nothing changed
        r = await http.post(f"/api/sim/calls/{caller}/dtmf", json={"digits": "1"})
        assert r.status_code == 204
        for _ in range(1500):  # the confirmation takes 8 s to say
            cdr = (await http.get("/api/cdr")).json()
            if any(c["uniqueid"] == caller for c in cdr):
                break
            await asyncio.sleep(0.02)
        record = next(c for c in cdr if c["uniqueid"] == caller)
        assert record["cause"] == 8 and record["connected"] is None
        await op.change_status("READY")
        offered = await _next(events, "ringing")
        assert offered["direction"] == "OUTGOING" and offered["data"]["callback"] is True
        # what the demo CRM's lookup said of the caller came with the request
        assert offered["name"] == "Eva Dvořáková"
        assert offered["data"]["company"] == "Pekárna U Mostu"
        assert offered["number"] == "+420602234567" and offered["uniqueid"] not in (caller, later)
        await op.answer()
        await _next(events, "connect", 3)
        await op.hangup()
        await op.change_status("READY")
        assert (await _next(events, "ringing"))["uniqueid"] == later
