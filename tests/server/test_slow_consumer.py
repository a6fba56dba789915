"""A connection that stops reading is dropped, and nobody else notices (docs/protocol.md,
"Flow control": a bounded send queue per connection; one that cannot keep up is closed with
code 1013 rather than slowing anyone else).

The slow client is a WebSocket on a plain socket with a small receive buffer that the test
simply stops reading from. Its agent's other connections generate the pushes (a call with
large CRM data, muted and unmuted), large so that the operating system's buffers take few of
them and the server's queue fills soon; they, and another agent, must keep receiving every
event in order. Timings are measured (in the JUnit report) but never asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import socket
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from tests.server.conftest import Running
from ucs.core.ids import AgentId
from ucs.web.hub import Connection
from ucs.web.ws import RATE

pytestmark = pytest.mark.anyio

SMALL_BUFFER = 4096
"""Receive buffer of the slow client's socket (the kernel may round it up a little)."""
TOGGLERS = 8
"""Connections of the slow client's agent that generate the pushes."""
AT_ONCE = 180
"""Requests each of them sends at once, within the rate limit's burst (200) …"""
AT_MOST = 1000
"""… and at most, the rest at the rate limit's pace (however much the system's buffers take)."""
PAD = 16_000
"""Bytes of CRM data on the call (near the 16 KiB a call's data may have): every push about
the call carries them."""


class _Raw:
    """A WebSocket client on a non-blocking socket that reads only when asked to."""

    def __init__(self, sock: socket.socket, protocol: ClientProtocol) -> None:
        self.sock = sock
        self.protocol = protocol
        self.texts: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.eof = False

    @classmethod
    async def open(cls, url: str) -> _Raw:
        loop = asyncio.get_running_loop()
        parts = urlsplit(url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
        sock.setblocking(False)
        await loop.sock_connect(sock, (parts.hostname, parts.port))
        protocol = ClientProtocol(parse_uri(url.replace("http", "ws") + "/ws"), max_size=None)
        protocol.send_request(protocol.connect())
        raw = cls(sock, protocol)
        await raw._flush()
        while not any(isinstance(e, Response) for e in await raw._read()):
            pass
        assert protocol.handshake_exc is None
        return raw

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(cls, url: str) -> AsyncIterator[_Raw]:
        raw = await cls.open(url)
        try:
            yield raw
        finally:
            raw.close()  # else the server would wait for it to read, at its shutdown

    async def _flush(self) -> None:
        data = b"".join(self.protocol.data_to_send())
        if data:
            await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def _read(self) -> list[Any]:
        data = await asyncio.get_running_loop().sock_recv(self.sock, 65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.eof = True
            self.protocol.receive_eof()
        events = self.protocol.events_received()
        for event in events:
            if getattr(event, "opcode", None) is Opcode.TEXT:
                self.texts.append(json.loads(event.data))
            elif getattr(event, "opcode", None) is Opcode.CLOSE:
                received = self.protocol.close_rcvd
                self.close_code = received.code if received is not None else None
        with contextlib.suppress(OSError):
            await self._flush()  # the echo of a close frame
        return events

    async def send(self, message: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        await self._flush()

    async def answer(self, rid: str) -> dict[str, Any]:
        while True:
            for msg in self.texts:
                if msg.get("id") == rid:
                    return msg
            await self._read()

    async def read_to_the_end(self) -> None:
        while not self.eof and self.close_code is None:
            await self._read()

    def close(self) -> None:
        self.sock.close()


class _Client:
    """A client that reads everything as it comes, like the component does."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.rtts: list[float] = []
        self._ids = 0
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, running: Running, resume: dict[str, Any] | None = None) -> _Client:
        url = running.url.replace("http", "ws") + "/ws"
        ws = await connect(url, ping_interval=None, compression=None, max_size=None)
        client = cls(ws)
        hello: dict[str, Any] = {"v": 1, "type": "hello"}
        if resume is not None:
            hello["resume"] = resume
        await ws.send(json.dumps(hello))
        return client

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for text in self.ws:
                msg = json.loads(text)
                self.messages.append(msg)
                future = self.waiting.pop(str(msg.get("id")), None)
                if future is not None and not future.done():
                    future.set_result(msg)

    async def request(self, method: str, *args: Any) -> dict[str, Any]:
        self._ids += 1
        rid = str(self._ids)
        future = asyncio.get_running_loop().create_future()
        self.waiting[rid] = future
        body = {"v": 1, "type": "request", "id": rid, "method": method, "args": list(args)}
        started = time.perf_counter()
        await self.ws.send(json.dumps(body))
        async with asyncio.timeout(10):
            answer = await future
        self.rtts.append(time.perf_counter() - started)
        assert answer["type"] == "result", answer
        return answer

    def seqs(self) -> list[int]:
        return [m["seq"] for m in self.messages if "seq" in m]

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


@contextlib.asynccontextmanager
async def _ready(running: Running, agent: int, n: int = 1) -> AsyncIterator[list[_Client]]:
    clients = [await _Client.open(running) for _ in range(n)]
    try:
        for client in clients:
            await client.request("login", f"agent{agent}", f"agent{agent}-pass")
        await clients[0].request("selectIdentifier", f"phone{agent}")
        await clients[0].request("provision")
        yield clients
    finally:
        for client in clients:
            await client.close()


def _consecutive(seqs: list[int]) -> bool:
    return bool(seqs) and seqs == list(range(seqs[0], seqs[0] + len(seqs)))


async def _until(condition: Any) -> None:
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 (the server's state has no event to wait on)
            await asyncio.sleep(0.01)


async def test_a_client_that_stops_reading_is_dropped_and_nobody_else_notices(
    running: Running, request: pytest.FixtureRequest
) -> None:
    hub = running.server.hub
    measured = request.node.user_properties  # in the JUnit report: measured, never asserted
    async with _ready(running, 1, TOGGLERS) as togglers, _ready(running, 2) as (other,):
        for i in range(10):
            await other.request("changeStatus", *(("AUX", "Break") if i % 2 else ("READY",)))
        measured.append(("other_agent_rtt_before_ms", _median_ms(other.rtts)))
        other.rtts.clear()
        dropped, token, seq = await _drop_a_slow_client(running, togglers, other, measured)
        measured.append(("other_agent_rtt_during_ms", _median_ms(other.rtts)))
        # Nothing of it stays in the server once its socket is gone.
        await _until(lambda: gc.collect() >= 0 and dropped() is None)
        # It reconnects and resumes, as the protocol says: it missed too much for a replay,
        # so it gets the snapshot.
        back = await _Client.open(running, resume={"session": token, "seq": seq})
        try:
            await _until(lambda: any(m["type"] == "session.joined" for m in back.messages))
            hello = back.messages[0]
            assert hello["type"] == "hello" and hello["resumed"] is True
            assert hello["seq"] == hub.current(AgentId(1))
            joined = next(m for m in back.messages if m["type"] == "session.joined")
            assert joined["session"]["state"] == "READY" and joined["calls"]
        finally:
            await back.close()


async def _drop_a_slow_client(
    running: Running, togglers: list[_Client], other: _Client, measured: list[Any]
) -> tuple[weakref.ref[Connection], str, int]:
    """Fill a client's queue until the server drops it; check the others meanwhile. Returns
    the dropped connection (weakly), its session token, and the last push it received."""
    server, hub = running.server, running.server.hub
    agent1, agent2 = AgentId(1), AgentId(2)
    before = set(hub.connections)
    async with _Raw.opened(running.url) as slow:
        await slow.send({"v": 1, "type": "hello"})
        login = ["agent1", "agent1-pass"]
        await slow.send({"v": 1, "type": "request", "id": "1", "method": "login", "args": login})
        token = (await slow.answer("1"))["result"]["token"]
        (conn,) = (hub.connections[c] for c in set(hub.connections) - before)
        assert conn.id in server.center.sessions[agent1].clients
        # From here on the slow client reads nothing. Its agent's call carries 16 KB of CRM
        # data, so that every push about it is large and the system's buffers take few.
        first = hub.current(agent1) + 1
        await togglers[0].request("dial", "+420601123456", None, None, {"crm": "x" * PAD})
        await _until(lambda: any(m.get("what") == "connect" for m in togglers[0].messages))

        async def toggle(client: _Client) -> None:
            for i in range(AT_MOST):
                if conn.overflowed:
                    return
                if i >= AT_ONCE:
                    await asyncio.sleep(1 / RATE)
                await client.request("mute")

        async def meanwhile() -> None:  # another agent works on, within the rate limit
            for i in itertools.count():
                await other.request("changeStatus", *(("AUX", "Break") if i % 2 else ("READY",)))
                await asyncio.sleep(2 / RATE)

        bystander = asyncio.create_task(meanwhile())
        await asyncio.gather(*(toggle(c) for c in togglers))
        bystander.cancel()
        await asyncio.gather(bystander, return_exceptions=True)
        assert conn.overflowed, "the pushes did not fill the slow client's queue"
        measured.append(("pushes_until_dropped", hub.current(agent1) - first + 1))
        # The server lets go of it at once, while it still reads nothing: it leaves the
        # session and the hub, and what was queued for it is dropped.
        await _until(lambda: conn.id not in hub.connections)
        assert conn.id not in server.center.sessions[agent1].clients
        assert conn.queue.qsize() <= 1  # at most the end marker
        # The others go on as if nothing had happened: every event, in order.
        await togglers[0].request("mute")
        await other.request("changeStatus", "READY")
        last = hub.current(agent1)
        await _until(lambda: all(c.seqs()[-1] == last for c in togglers))
        for client in togglers:
            assert [s for s in client.seqs() if s >= first] == list(range(first, last + 1))
        assert _consecutive(other.seqs()) and other.seqs()[-1] == hub.current(agent2)
        # The slow client, reading again, finds what it got in order, then the close.
        async with asyncio.timeout(10):
            await slow.read_to_the_end()
        got = [m["seq"] for m in slow.texts if "seq" in m and m["seq"] >= first]
        assert got == list(range(first, first + len(got)))
        assert slow.close_code == 1013
    return weakref.ref(conn), token, got[-1]


def _median_ms(rtts: list[float]) -> float:
    return round(sorted(rtts)[len(rtts) // 2] * 1000, 2)
