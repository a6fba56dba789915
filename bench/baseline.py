"""The baseline: a minimal ``websockets`` echo server and its clients, on this machine, now.

The server is one process with one asyncio loop, as ``ucs serve`` is, and, like it, declines
permessage-deflate. The clients are the same number of processes and connections as the agents of
``call_load``, and send, in a closed loop (the next message when the last one came back), the
same request text the agents send in our throughput step, for the same number of messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from bench.loadgen import _raise_nofile, open_ws

__all__ = ["EchoClientSpec", "echo_client_worker", "echo_server"]

MESSAGE = '{"v":1,"type":"request","id":"1","method":"state","args":[]}'


async def _echo(ws: ServerConnection) -> None:
    with contextlib.suppress(Exception):
        async for message in ws:
            await ws.send(message)


async def _serve(port: int, conn: Connection) -> None:
    # No permessage-deflate, as ``ucs serve`` declines it: the same bytes on the wire.
    async with serve(
        _echo, "127.0.0.1", port, max_size=2**20, ping_interval=None, compression=None
    ):
        conn.send("ready")
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)


def echo_server(port: int, conn: Connection) -> None:
    """Process entry: echo until the orchestrator says stop."""
    _raise_nofile()
    asyncio.run(_serve(port, conn))


@dataclass
class EchoClientSpec:
    url: str
    connections: int
    deflate: str = "browser"


async def _client(spec: EchoClientSpec, conn: Connection) -> None:
    sockets = await asyncio.gather(
        *(open_ws(spec.url, spec.deflate) for _ in range(spec.connections))
    )
    conn.send("connected")
    loop = asyncio.get_running_loop()
    total = int(await loop.run_in_executor(None, conn.recv))
    share = [
        total // len(sockets) + (1 if i < total % len(sockets) else 0) for i in range(len(sockets))
    ]

    async def run(ws: Any, n: int) -> None:
        for _ in range(n):
            await ws.send(MESSAGE)
            await ws.recv()

    started = time.monotonic()
    await asyncio.gather(*(run(ws, n) for ws, n in zip(sockets, share, strict=True)))
    ended = time.monotonic()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    conn.send({"started": started, "ended": ended, "messages": 2 * total})


def echo_client_worker(spec: EchoClientSpec, conn: Connection) -> None:
    """Process entry: connect, wait for the number of messages, send them, report."""
    _raise_nofile()
    asyncio.run(_client(spec, conn))
