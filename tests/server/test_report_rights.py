"""Who reads the team view and the reports over REST (CONTRACT §11): a supervisor signs in
with their own password and reads only their queues and team, and nothing else of the API; a
superuser and the admin token read everything; an agent who supervises nothing is refused."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import PRAGUE
from tests.server.conftest import Running, serving
from tests.server.test_reports import DAY, a_morning

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _lead(http: httpx.AsyncClient) -> int:
    """``lead``: a supervisor of Sales (2) only, not a superuser; also a member of Support."""
    made = await http.post(
        "/api/agents",
        json={
            "username": "lead",
            "password": "lead-pass-1",
            "displayname": "Team Lead",
            "memberships": [{"queue": 2, "supervisor": True}, {"queue": 1}],
        },
    )
    assert made.status_code == 201, made.text
    agent_id: int = made.json()["id"]
    return agent_id


async def _login(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/api/admin/login", json={"username": username, "password": password})


async def test_a_supervisor_reads_only_their_team(tmp_path: Path) -> None:
    async with serving(tmp_path, tz=PRAGUE) as running:
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as admin:
            lead = await _lead(admin)
        async with httpx.AsyncClient(base_url=running.url) as http:
            running.server.store.deliver_all(a_morning())
            running.server.store.flush()
            session = await _login(http, "lead", "lead-pass-1")
            assert session.status_code == 200 and session.json()["role"] == "supervisor"
            mine = {"Authorization": f"Bearer {session.json()['token']}"}
            me = (await http.get("/api/admin/me", headers=mine)).json()
            team = (await http.get("/api/team", headers=mine)).json()
            query = f"from={DAY}&to={DAY}&interval=day"
            queues = (await http.get(f"/api/reports/queues?{query}", headers=mine)).json()
            agents = (await http.get(f"/api/reports/agents?{query}", headers=mine)).json()
            csv = await http.get(f"/api/reports/agents?{query}&format=csv", headers=mine)

    assert me == {"actor": "lead", "role": "supervisor"}
    # Sales's other members: agent1, agent3 and the demo's supervisor; not agent2.
    assert [q["queue_id"] for q in team["queues"]] == [2]
    assert sorted(a["username"] for a in team["agents"]) == ["agent1", "agent3", "supervisor"]
    assert {q["queue_id"] for q in queues} == {2} and queues[0]["offered"] == 2
    assert [a["username"] for a in agents] == ["agent1", "agent3", "supervisor", "lead"]
    assert next(a for a in agents if a["id"] == lead)["loggedtime"] == 0
    assert "agent2" not in csv.text and "agent3" in csv.text


async def test_a_supervisor_session_is_refused_everything_else(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as admin:
        await _lead(admin)
    async with httpx.AsyncClient(base_url=running.url) as http:
        token = (await _login(http, "lead", "lead-pass-1")).json()["token"]
        mine = {"Authorization": f"Bearer {token}"}
        for method, path, body in (
            ("GET", "/api/agents", None),
            ("GET", "/api/queues", None),
            ("GET", "/api/cdr", None),
            ("GET", "/api/stats/agents", None),
            ("GET", "/api/audit", None),
            ("PATCH", "/api/queues/2", {"service_level_target": 5}),
            ("POST", "/api/sim/calls", {"queue": 2, "from": "+420601000001"}),
            ("PUT", "/api/settings/webhook", {"url": "http://127.0.0.1:9/", "secret": "x" * 16}),
        ):
            answer = await http.request(method, path, json=body, headers=mine)
            assert answer.status_code == 403, (path, answer.status_code)
            assert answer.json()["code"] == "FORBIDDEN", path
        queue = (await http.get("/api/queues/2", headers=ADMIN)).json()
        assert queue["service_level_target"] == 20  # nothing changed
        # Their flag taken away: the session reads nothing more.
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as admin:
            lead = next(
                a for a in (await admin.get("/api/agents")).json() if a["username"] == "lead"
            )
            await admin.put(f"/api/queues/2/members/{lead['id']}", json={"supervisor": False})
        gone = await http.get("/api/team", headers=mine)
        assert gone.status_code == 403 and gone.json()["code"] == "FORBIDDEN"
        assert (await http.get("/api/reports/queues", headers=mine)).status_code == 403
        await http.post("/api/admin/logout", headers=mine)


async def test_agents_who_supervise_nothing_are_refused_and_superusers_read_all(
    running: Running,
) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        agent = await _login(http, "agent2", "agent2-pass")
        wrong = await _login(http, "supervisor", "not-the-password")
        superuser = await _login(http, "supervisor", "supervisor-pass")
        nobody = await http.get("/api/reports/queues")
        forged = await http.get("/api/team", headers={"Authorization": "Bearer ucs-admin-forged"})
        assert superuser.json()["role"] == "admin"
        everything = {"Authorization": f"Bearer {superuser.json()['token']}"}
        team = (await http.get("/api/team", headers=everything)).json()
        queues = (await http.get("/api/reports/queues", headers=everything)).json()
        agents = (await http.get("/api/reports/agents", headers=everything)).json()
        by_token = (await http.get("/api/reports/agents", headers=ADMIN)).json()
        listed = await http.get("/api/agents", headers=everything)
    assert agent.status_code == 401 and wrong.status_code == 401
    assert nobody.status_code == 401 and forged.status_code == 401
    assert [q["queue_id"] for q in team["queues"]] == [1, 2, 3]
    assert {q["queue_id"] for q in queues} == {1, 2, 3}
    assert [a["username"] for a in agents] == [a["username"] for a in by_token]
    assert len(agents) == 4 and listed.status_code == 200
