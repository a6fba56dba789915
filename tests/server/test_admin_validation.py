"""What the administration API refuses, and how it says so (issue 17, item 13): a 409 that
names the field in conflict, passwords of at least 8 characters, memberships that take the
queue from the path alone. Nothing refused changes anything."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.server.conftest import Running

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def test_a_conflict_names_its_field_and_the_record_that_holds_the_value(
    running: Running,
) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        before = {p: (await http.get(p)).json() for p in ("/api/agents", "/api/lines")}
        r = await http.post("/api/agents", json={"username": "agent2", "password": "long-enough"})
        assert r.status_code == 409
        assert r.json()["detail"] == "username: 'agent2' is taken by agent 2"
        r = await http.patch("/api/agents/1", json={"username": "agent3"})
        assert r.status_code == 409 and r.json()["detail"].startswith("username:")
        assert (await http.patch("/api/agents/1", json={"username": "agent1"})).status_code == 200
        r = await http.post("/api/lines", json={"identifier": "phone2", "extension": "1099"})
        assert r.status_code == 409
        assert r.json()["detail"] == "identifier: 'phone2' is taken by phone 2"
        r = await http.post("/api/lines", json={"identifier": "desk9", "extension": "1003"})
        assert r.json()["detail"] == "extension: '1003' is taken by phone 3"
        r = await http.patch("/api/lines/1", json={"extension": "1004"})
        assert r.status_code == 409 and r.json()["detail"].startswith("extension:")
        assert {p: (await http.get(p)).json() for p in before} == before


async def test_passwords_have_at_least_eight_characters(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.post("/api/agents", json={"username": "frank", "password": "7-chars"})
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "password"]
        assert (await http.patch("/api/agents/1", json={"password": "short"})).status_code == 422
        r = await http.post("/api/agents", json={"username": "frank", "password": "8-chars!"})
        assert r.status_code == 201


async def test_a_membership_takes_its_queue_from_the_path(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.put("/api/queues/2/members/2", json={"priority": 4, "supervisor": True})
        assert r.status_code == 200 and r.json()["queue"] == 2
        agent2 = (await http.get("/api/agents/2")).json()
        assert {"queue": 2, "priority": 4, "supervisor": True, "team_id": None} in agent2[
            "memberships"
        ]
        assert (await http.put("/api/queues/3/members/2", json={})).status_code == 200
        r = await http.put("/api/queues/1/members/3", json={"queue": 2})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "queue"]
        assert (await http.put("/api/queues/9/members/2", json={})).status_code == 404


async def test_new_aux_reasons_reach_every_open_session(running: Running) -> None:
    from ucs.client import Operator

    async with (
        Operator(running.url) as op,
        httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http,
    ):
        await op.login("agent1", "agent1-pass")
        await op.select_identifier("phone1")
        state = await op.provision()
        assert state["auxReasons"] == ["Lunch", "Break", "Meeting", "Training"]
        events = op.events()
        reasons = ["Lunch", "Coaching"]
        assert (await http.put("/api/aux-reasons", json={"reasons": reasons})).status_code == 200
        async with asyncio.timeout(5):
            async for event in events:
                if event.type == "reasons":
                    break
        assert event.data["reasons"] == reasons
        assert (await op.state())["auxReasons"] == reasons
        await op.change_status("AUX", "Coaching")
