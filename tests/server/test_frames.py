"""What one step queues for a connection goes out in one write, in order (``ucs.web.frames``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import pytest
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect

from tests.server.conftest import Running
from ucs.web import frames

pytestmark = pytest.mark.anyio


async def test_a_steps_messages_go_out_together_and_in_order(running: Running) -> None:
    async with connect(running.url.replace("http", "ws") + "/ws") as ws:
        await ws.send(json.dumps({"v": 1, "type": "hello"}))
        await ws.recv()
        said: list[dict[str, Any]] = []

        async def request(rid: str, method: str, *args: Any) -> None:
            body = {"v": 1, "type": "request", "id": rid, "method": method, "args": list(args)}
            await ws.send(json.dumps(body))
            async with asyncio.timeout(10):
                while not said or said[-1].get("id") != rid:
                    said.append(json.loads(await ws.recv()))

        await request("1", "login", "agent1", "agent1-pass")
        await request("2", "selectIdentifier", "phone1")
        await request("3", "provision")
        messages, writes = frames.Batches.frames, frames.Batches.writes
        await request("4", "dial", "+420601123456")
        await request("5", "hangup")
        sent = frames.Batches.frames - messages
        assert sent > frames.Batches.writes - writes > 0  # some writes carried several
    pushes = [m["seq"] for m in said if "seq" in m and m["type"] != "result"]
    assert pushes == list(range(pushes[0], pushes[0] + len(pushes)))  # none lost, in order
    dialled = said.index(next(m for m in said if m.get("id") == "4"))
    assert [m["type"] for m in said[dialled + 1 :]].count("call.changed") >= 1


async def test_a_socket_of_another_server_is_written_message_by_message() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        return None

    ws = WebSocket({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert frames.writer(ws) is None
