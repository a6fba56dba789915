"""The SDK walks a whole queue call against a real server over real sockets."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.helpers import records_of
from tests.server.conftest import Running
from ucs.client import Event, Operator, OperatorError
from ucs.client.operator import EventStream

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _next(events: EventStream, kind: str, what: str | None = None) -> Event:
    async with asyncio.timeout(5):
        async for event in events:
            if event.type == kind and (what is None or event.what == what):
                return event
    raise AssertionError("events ended")


async def test_login_phone_ready_queue_call_answer_hold_transfer_hangup(running: Running) -> None:
    async with Operator(running.url) as op, Operator(running.url) as op2:
        welcome = await op.login("agent1", "agent1-pass")
        assert welcome["user"]["status"] == "OFFLINE" and welcome["token"]
        await op.select_identifier("phone1")
        ready = await op.provision()
        assert ready["state"] == "READY" and ready["identifier"] == "phone1"
        user = await op.change_status("READY")
        assert user["status"] == "READY"
        await op2.login("agent2", "agent2-pass")
        await op2.select_identifier("phone2")
        await op2.provision()

        events = op.events()
        log = op.events()
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601123456"})
            assert r.status_code == 201
            uid = r.json()["uniqueid"]
            ringing = await _next(events, "call", "ringing")
            assert ringing.call["uniqueid"] == uid and ringing.call["direction"] == "INCOMING"
            await op.answer()
            connected = await _next(events, "call", "connect")
            assert connected.call["state"] == 3
            held = await op.hold()
            assert held["state"] == 5
            await op.unhold()
            with pytest.raises(OperatorError) as refused:
                await op.unhold()
            assert refused.value.code == "INVALID_STATE"
            await op.transfer()
            consult = await op.dial("1002")
            assert consult["called_number"] == "1002"
            events2 = op2.events()
            await op2.answer()
            await _next(events2, "call", "connect")
            await op.finish_transfer()
            gone = await _next(events, "call", "hangup")
            assert gone.call["cause"] == 8
            state = await op.state()
            assert state["calls"] == [] and state["user"]["transferred"] == 1
            assert state["user"]["in_calls_answered"] == 1
            support = state["user"]["queues"]["1"]
            assert (support["answered"], support["transferred"], support["unanswered"]) == (1, 1, 0)
            assert state["user"]["status"] == "ACW"  # Support's wrap-up after the transfer
            seen = [
                (e.what, e.call["uniqueid"], e.call["state"], e.call["cause"])
                for e in log.drain()
                if e.type == "call"
            ]
            queue_call = [x[:3] for x in seen if x[1] == uid]
            assert ("change", uid, 5) in queue_call and ("change", uid, 4) in queue_call
            assert queue_call[:2] == [("ringing", uid, 2), ("connect", uid, 3)]
            left = [x for x in seen if x[1] == uid and x[0] == "hangup"]
            assert [x[3] for x in left] == [8]  # agent1 left the call by transferring it
            r = await http.post(f"/api/sim/calls/{uid}/hangup")
            assert r.status_code == 204
            consultation_end = await _next(events2, "call", "hangup")
            assert consultation_end.call["uniqueid"] == consult["uniqueid"]
            assert consultation_end.call["cause"] == 8
            # The consultation names the call its party was given to, in the SDK and records.
            assert consultation_end.call["data"] == {"transferred_from": uid}
            ended = await _next(events2, "call", "hangup")
            assert ended.call["uniqueid"] == uid and ended.call["cause"] == 3
            rows = await records_of(http, uid, consult["uniqueid"])
            assert rows[consult["uniqueid"]]["data"] == {"transferred_from": uid}
            assert "transferred_from" not in rows[uid]["data"]


async def test_sim_api_needs_the_admin_token_and_checks_its_input(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601123456"})
        assert r.status_code == 401
        r = await http.post("/api/sim/calls", json={"queue": 99, "from": "1"}, headers=ADMIN)
        assert r.status_code == 404
        r = await http.post("/api/sim/calls", json={"queue": 1}, headers=ADMIN)
        assert r.status_code == 422
        r = await http.post("/api/sim/calls", content=b"{nope", headers=ADMIN)
        assert r.status_code == 422


async def test_a_second_tab_joins_the_session_and_sees_the_same_events(running: Running) -> None:
    async with Operator(running.url) as tab1, Operator(running.url) as tab2:
        await tab1.login("agent3", "agent3-pass")
        await tab1.select_identifier("phone3")
        await tab1.provision()
        joined = await tab2.login("agent3", "agent3-pass")
        assert joined["token"] != "" and joined["user"]["id"] == 3
        events = tab2.events()
        await tab1.change_status("AUX", "Break")
        user = await _next(events, "user")
        assert user.user["status"] == "AUX"
