"""The simulator's fast lane (``ucs.web.api.sim.FastLane``) answers as the FastAPI routes do:
its own answers on the way that succeeds, and the routes' for everything else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.server.conftest import Running

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}
CALLER = {"queue": 1, "from": "+420601123456"}


async def test_a_caller_rings_in_and_hangs_up(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.post("/api/sim/calls", json={**CALLER, "name": "Žofie", "data": {"a": 1}})
        assert r.status_code == 201
        assert r.headers["content-type"] == "application/json"
        assert int(r.headers["content-length"]) == len(r.content)
        uid = r.json()["uniqueid"]
        assert set(r.json()) == {"uniqueid"}
        call = running.server.center.calls[uid]
        assert (call.caller.name, call.data, call.caller.number_norm) == (
            "Žofie",
            {"a": 1},
            "+420601123456",
        )
        r = await http.post(f"/api/sim/calls/{uid}/hangup")
        assert (r.status_code, r.content) == (204, b"")
        assert uid not in running.server.center.calls
        again = await http.post(f"/api/sim/calls/{uid}/hangup")
        assert again.status_code == 404
        assert again.json() == {"detail": f"no live call {uid}"}


async def test_a_body_sent_in_pieces_is_read_whole(running: Running) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield b'{"queue": 1, '
        yield b'"from": "+420601000001"}'

    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.post(
            "/api/sim/calls", content=pieces(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 201
        assert r.json()["uniqueid"] in running.server.center.calls


@pytest.mark.parametrize(
    ("body", "content_type", "status", "says"),
    [
        ('{"queue": 99, "from": "+420601123456"}', "application/json", 404, "no incoming queue 99"),
        ('{"queue": 1, "from": "x"}', "application/json", 422, "from"),
        ('{"queue": 1, "from": "+420601123456", "extra": 1}', "application/json", 422, "extra"),
        ('{"queue": 1, "from": "1", "data": {"x": NaN}}', "application/json", 422, "finite"),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, "error parsing the body"),
        ("{not json", "application/json", 422, ""),
        ('{"queue": 1, "from": "+420601123456"}', "text/plain", 422, ""),
    ],
)
async def test_what_the_fast_lane_does_not_take_the_route_answers(
    running: Running, body: str, content_type: str, status: int, says: str
) -> None:
    before = set(running.server.center.calls)
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.post(
            "/api/sim/calls", content=body.encode(), headers={"content-type": content_type}
        )
        assert r.status_code == status, r.text
        assert says in r.text
        assert set(running.server.center.calls) == before  # nothing was done
        # the server goes on taking calls
        assert (await http.post("/api/sim/calls", json=CALLER)).status_code == 201


async def test_the_admin_token_is_checked_before_the_fast_lane(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        r = await http.post("/api/sim/calls", json=CALLER)
        assert r.status_code == 401
        r = await http.post(
            "/api/sim/calls", json=CALLER, headers={"Authorization": "Bearer wrong"}
        )
        assert r.status_code == 401
    assert not running.server.center.calls
