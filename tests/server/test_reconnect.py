"""A client that loses its connection resumes its session and misses nothing."""

from __future__ import annotations

import asyncio

import pytest

from tests.server.conftest import Running
from ucs.client import Operator

pytestmark = pytest.mark.anyio


async def test_a_dropped_connection_resumes_and_replays_what_it_missed(running: Running) -> None:
    async with Operator(running.url) as op:
        await op.login("agent2", "agent2-pass")
        await op.select_identifier("phone2")
        await op.provision()
        events = op.events()
        assert op._ws is not None
        await op._ws.close()  # the network drops
        await op.change_status("AUX", "Lunch")  # sent once reconnected
        seen = []
        async with asyncio.timeout(5):
            async for event in events:
                seen.append(event.type)
                if event.type == "user" and event.user["status"] == "AUX":
                    break
        state = await op.state()
        assert state["user"]["status"] == "AUX" and state["state"] == "READY"
