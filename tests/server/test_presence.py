"""No ghost agents over real sockets (issue 17, item 6): an agent on the browser softphone
whose last connection closed goes OFFLINE after the grace (1 s here, 30 s by default), as the
wallboard's team view shows; a new tab goes on from the session."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import serving
from ucs.client import Operator
from ucs.core.events import MediaStatus

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _status(http: httpx.AsyncClient, username: str) -> str:
    team = (await http.get("/api/team")).json()
    status: str = next(a for a in team["agents"] if a["username"] == username)["status"]
    return status


async def test_a_softphone_agent_whose_last_tab_closed_goes_offline(tmp_path: Path) -> None:
    async with (
        serving(tmp_path, softphone_grace=1.0) as running,
        httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http,
    ):
        running.server.engine.submit(MediaStatus(True))  # as if the media engine were up
        async with Operator(running.url) as desk:  # a desk phone: no tab needed
            await desk.login("agent2", "agent2-pass")
            await desk.select_identifier("phone2")
            await desk.provision()
            await desk.change_status("READY")
        async with Operator(running.url) as tab:
            await tab.login("agent1", "agent1-pass")
            await tab.select_identifier("softphone")
            await tab.provision()
            await tab.change_status("READY")
            assert await _status(http, "agent1") == "READY"
        async with asyncio.timeout(20):
            while await _status(http, "agent1") != "OFFLINE":  # noqa: ASYNC110 (REST: no event)
                await asyncio.sleep(0.1)
        assert await _status(http, "agent2") == "READY"
        async with Operator(running.url) as again:
            await again.login("agent1", "agent1-pass")  # the session goes on, OFFLINE
            state = await again.state()
            assert state["state"] == "READY" and state["identifier"] == "softphone"
            assert state["user"]["status"] == "OFFLINE"
