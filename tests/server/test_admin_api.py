"""Administration over REST: agents, lines, queues, memberships, AUX reasons, the SSO secret."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.server.conftest import Running
from ucs.client import Operator, OperatorError
from ucs.core.sso import make_token

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def test_a_new_agent_queue_and_phone_work_at_once(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        q = await http.post(
            "/api/queues",
            json={"name": "Billing", "strategy": "round-robin", "ring_timeout": 10, "wrapup": 5},
        )
        assert q.status_code == 201, q.text
        queue = q.json()
        assert queue["type"] == 1 and queue["strategy"] == "round-robin"
        ln = await http.post("/api/lines", json={"identifier": "desk9", "extension": "1009"})
        assert ln.status_code == 201 and "secret" not in ln.json()
        a = await http.post(
            "/api/agents",
            json={
                "username": "dana",
                "password": "dana-pass-1",
                "firstname": "Dana",
                "memberships": [{"queue": queue["id"], "priority": 2}],
                "lines": [ln.json()["id"]],
            },
        )
        assert a.status_code == 201, a.text
        agent = a.json()
        assert "password_hash" not in agent and "password" not in agent
        assert agent["memberships"] == [
            {"queue": queue["id"], "priority": 2, "supervisor": False, "team_id": None}
        ]
        async with Operator(running.url) as op:
            welcome = await op.login("dana", "dana-pass-1")
            assert welcome["user"]["queues"][str(queue["id"])]["priorities"] == 2
            await op.select_identifier("desk9")
            await op.provision()
            await op.change_status("READY")
            r = await http.post(
                "/api/sim/calls", json={"queue": queue["id"], "from": "+420601999999"}
            )
            assert r.status_code == 201
            r = await http.patch(f"/api/agents/{agent['id']}", json={"password": "new-pass-22"})
            assert r.status_code == 200
        async with Operator(running.url) as op:
            with pytest.raises(OperatorError) as refused:
                await op.login("dana", "dana-pass-1")
            assert refused.value.code == "UNAUTHORIZED"
            await op.login("dana", "new-pass-22")


async def test_bad_input_is_refused_clearly_and_changes_nothing(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        before = (await http.get("/api/agents")).json()
        assert (await http.get("/api/agents/999")).status_code == 404
        assert (await http.patch("/api/agents/999", json={"firstname": "x"})).status_code == 404
        assert (await http.delete("/api/queues/999")).status_code == 404
        r = await http.post("/api/agents", json={"username": "agent1", "password": "x-pass-123"})
        assert r.status_code == 409 and r.json()["detail"].startswith("username:")
        r = await http.post("/api/agents", json={"username": "bad name", "password": "x-pass-123"})
        assert r.status_code == 422
        r = await http.post(
            "/api/agents", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 422
        r = await http.post(
            "/api/agents",
            json={"username": "eve", "password": "x-pass-1", "memberships": [{"queue": 99}]},
        )
        assert r.status_code == 422
        r = await http.post("/api/lines", json={"identifier": "phone9", "extension": "1001"})
        assert r.status_code == 409 and r.json()["detail"].startswith("extension:")
        r = await http.put("/api/aux-reasons", json={"reasons": ["Lunch", "Lunch"]})
        assert r.status_code == 422
        assert (await http.get("/api/agents")).json() == before
        async with httpx.AsyncClient(base_url=running.url) as anonymous:
            assert (await anonymous.get("/api/agents")).status_code == 401


async def test_reasons_memberships_and_sso_secret(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.put("/api/aux-reasons", json={"reasons": ["Lunch", "Coaching"]})
        assert r.json() == {"reasons": ["Lunch", "Coaching"]}
        r = await http.put("/api/queues/2/members/2", json={"queue": 2, "priority": 3})
        assert r.status_code == 200
        agent2 = (await http.get("/api/agents/2")).json()
        assert {"queue": 2, "priority": 3, "supervisor": False, "team_id": None} in agent2[
            "memberships"
        ]
        assert (await http.delete("/api/queues/2/members/2")).status_code == 204
        assert (await http.delete("/api/queues/2/members/2")).status_code == 404
        r = await http.put("/api/settings/sso-secret", json={"secret": "a-new-secret"})
        assert r.status_code == 204
        async with Operator(running.url) as op:
            with pytest.raises(OperatorError):
                await op.change_status("AUX", "Coaching")
            old = make_token("demo-sso-secret", "agent2", int(running.server.center.now) + 1)
            with pytest.raises(OperatorError) as refused:
                await op.sso("agent2", old, "CRM")
            assert refused.value.code == "UNAUTHORIZED"
            import time

            await op.sso("agent2", make_token("a-new-secret", "agent2", int(time.time())), "CRM")
            await op.select_identifier("phone2")
            await op.provision()
            user = await op.change_status("AUX", "Coaching")
            assert user["status"] == "AUX"


async def test_review_cases_null_duplicates_mismatch_and_in_use(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        before = (await http.get("/api/agents")).json()
        assert (await http.patch("/api/agents/1", json={"firstname": None})).status_code == 422
        assert (await http.patch("/api/queues/1", json={"name": None})).status_code == 422
        assert (await http.patch("/api/queues/1", json={"number": None})).status_code == 200
        twice = {"username": "x1", "password": "p" * 8, "memberships": [{"queue": 1}, {"queue": 1}]}
        assert (await http.post("/api/agents", json=twice)).status_code == 422
        r = await http.put("/api/queues/1/members/2", json={"queue": 2})
        assert r.status_code == 422
        after = (await http.get("/api/agents")).json()
        assert [a["username"] for a in after] == [a["username"] for a in before]
        async with Operator(running.url) as op:
            await op.login("agent1", "agent1-pass")
            await op.select_identifier("phone1")
            await op.provision()
            r = await http.delete("/api/lines/1")
            assert r.status_code == 409 and "agent 1" in r.json()["detail"]
            await http.post("/api/sim/calls", json={"queue": 2, "from": "+420601000111"})
            assert (await http.delete("/api/queues/2")).status_code == 409


async def test_new_queues_send_agents_who_let_calls_ring_out_to_missed_call(
    running: Running,
) -> None:
    """RONA is on by default for new queues (issue 17): a queue created without a
    ``rona_reason`` gets "Missed call", made an AUX reason if it is none; an explicit null
    leaves it off. The demo's queues (CONTRACT §2) have none."""
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        queues = {q["id"]: q["rona_reason"] for q in (await http.get("/api/queues")).json()}
        assert queues[1] is queues[2] is None
        reasons = (await http.get("/api/aux-reasons")).json()["reasons"]
        assert reasons == ["Lunch", "Break", "Meeting", "Training"]
        r = await http.put("/api/aux-reasons", json={"reasons": ["Lunch", "Break"]})
        assert r.status_code == 200
        r = await http.post("/api/queues", json={"name": "Billing"})
        assert r.status_code == 201 and r.json()["rona_reason"] == "Missed call"
        reasons = (await http.get("/api/aux-reasons")).json()["reasons"]
        assert reasons == ["Lunch", "Break", "Missed call"]
        r = await http.post("/api/queues", json={"name": "Quiet", "rona_reason": None})
        assert r.status_code == 201 and r.json()["rona_reason"] is None
        r = await http.post("/api/queues", json={"name": "Odd", "rona_reason": "Nap"})
        assert r.status_code == 422 and "not an AUX reason" in r.text
        names = [q["name"] for q in (await http.get("/api/queues")).json()]
        assert "Odd" not in names


async def test_a_queue_sends_agents_who_let_calls_ring_out_to_aux(running: Running) -> None:
    """``rona_reason`` over REST: set, applied at once (an agent who lets a Support call ring
    out goes to AUX with it), refused when empty or not an AUX reason, cleared with null; an
    AUX reason in use as one is not removed."""
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        assert (await http.patch("/api/queues/1", json={"rona_reason": ""})).status_code == 422
        rona = {"rona_reason": "Desk empty", "ring_timeout": 1}
        r = await http.patch("/api/queues/1", json=rona)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "rona_reason"]
        assert "not an AUX reason" in r.json()["detail"][0]["msg"]
        assert (await http.get("/api/queues/1")).json()["ring_timeout"] == 15  # unchanged
        reasons = ["Lunch", "Break", "Missed call", "Desk empty"]
        assert (await http.put("/api/aux-reasons", json={"reasons": reasons})).status_code == 200
        r = await http.patch("/api/queues/1", json=rona)
        assert r.status_code == 200 and r.json()["rona_reason"] == "Desk empty"
        r = await http.put("/api/aux-reasons", json={"reasons": ["Lunch"]})
        assert r.status_code == 409 and r.json()["detail"].startswith("reasons:")
        assert "queue 1" in r.json()["detail"]
        async with Operator(running.url) as op:
            await op.login("agent1", "agent1-pass")
            await op.select_identifier("phone1")
            await op.provision()
            await op.change_status("READY")
            events = op.events()
            await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601000111"})
            async with asyncio.timeout(5):
                async for event in events:
                    if event.type == "user" and event.user["status"] == "AUX":
                        break
            state = await op.state()
            assert state["user"]["status"] == "AUX" and state["user"]["in_calls_unanswered"] == 1
        r = await http.patch("/api/queues/1", json={"rona_reason": None})
        assert r.status_code == 200 and r.json()["rona_reason"] is None
