"""Admin sessions for superusers and the audit log (issue 17, item 14), over HTTP: who may
sign in, what their token may do, and every accepted change written down, secrets masked."""

from __future__ import annotations

import httpx
import pytest

from tests.server.conftest import Running

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _session(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/api/admin/login", json={"username": username, "password": password})


async def test_a_superusers_session_administers_and_the_log_names_them(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        assert (
            await _session(http, "agent1", "agent1-pass")
        ).status_code == 401  # supervises nothing
        assert (await _session(http, "supervisor", "wrong-pass")).status_code == 401
        assert (await _session(http, "nobody", "whatever-1")).status_code == 401
        r = await _session(http, "supervisor", "supervisor-pass")
        assert r.status_code == 200
        mine = {"Authorization": f"Bearer {r.json()['token']}"}
        me = (await http.get("/api/admin/me", headers=mine)).json()
        assert me == {"actor": "supervisor", "role": "admin"}  # the demo's superuser
        assert (await http.get("/api/admin/me", headers=ADMIN)).json() == {
            "actor": "admin",
            "role": "admin",
        }
        r = await http.post(
            "/api/lines", headers=mine, json={"identifier": "desk9", "extension": "1009"}
        )
        assert r.status_code == 201
        r = await http.patch("/api/agents/1", headers=ADMIN, json={"password": "new-secret-1"})
        assert r.status_code == 200
        refused = await http.post("/api/lines", headers=mine, json={"identifier": "desk9"})
        assert refused.status_code == 422  # refused: not in the log
        await http.post("/api/sim/calls", headers=ADMIN, json={"queue": 1, "from": "601123456"})
        log = (await http.get("/api/audit", headers=mine)).json()
        assert log["total"] == 2
        newest, oldest = log["entries"]
        assert (oldest["actor"], oldest["method"], oldest["path"], oldest["status"]) == (
            "supervisor",
            "POST",
            "/api/lines",
            201,
        )
        assert oldest["body"] == {"identifier": "desk9", "extension": "1009"}
        assert (newest["actor"], newest["body"]) == ("admin", {"password": "•••"})
        only = (await http.get("/api/audit", headers=ADMIN, params={"actor": "admin"})).json()
        assert [e["path"] for e in only["entries"]] == ["/api/agents/1"]
        # Logged out, or no longer a superuser: the token is worth nothing.
        assert (await http.post("/api/admin/logout", headers=mine)).status_code == 204
        assert (await http.get("/api/audit", headers=mine)).status_code == 401
        token = (await _session(http, "supervisor", "supervisor-pass")).json()["token"]
        again = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/api/audit", headers=again)).status_code == 200
        r = await http.patch("/api/agents/4", headers=ADMIN, json={"superuser": False})
        assert r.status_code == 200
        assert (await http.get("/api/audit", headers=again)).status_code == 401
        # Still a supervisor of Support and Sales: a supervisor's session, which reads the
        # team view and the reports only.
        demoted = await _session(http, "supervisor", "supervisor-pass")
        assert demoted.json()["role"] == "supervisor"
        reader = {"Authorization": f"Bearer {demoted.json()['token']}"}
        assert (await http.get("/api/audit", headers=reader)).status_code == 403


async def test_failed_logins_lock_the_username_for_a_while(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        for _ in range(5):
            assert (await _session(http, "supervisor", "guess-guess")).status_code == 401
        r = await _session(http, "supervisor", "supervisor-pass")
        assert r.status_code == 429  # even with the right password
        assert (await http.get("/api/audit")).status_code == 401  # no token: nothing
