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


class _Relay:
    """A TCP relay in front of the server that the test can cut: every connection through it
    closed, and from then on each new one noted (the loop's time) and closed at once, as a
    node that went away."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.cut = False
        self.attempts: list[float] = []
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            self.attempts.append(asyncio.get_running_loop().time())
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers += [writer, up_writer]
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    def cut_all(self) -> None:
        self.cut = True
        for writer in self._writers:
            writer.close()

    async def close(self) -> None:
        self.cut_all()
        if self._server is not None:
            self._server.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def test_clients_of_a_server_that_went_away_do_not_all_come_back_at_once(
    running: Running,
) -> None:
    """Twelve SDK clients lose their connections in the same instant: their first attempts
    to come back are spread (each back-off drawn between half of it and all of it), not all
    in one millisecond, which on a node's failure would be a thousand handshakes at once."""
    host, port = running.url.removeprefix("http://").split(":")
    relay = _Relay(host, int(port))
    url = f"http://127.0.0.1:{await relay.start()}"
    clients = [Operator(url) for _ in range(12)]
    try:
        for client in clients:
            await client.connect()
        relay.cut_all()
        async with asyncio.timeout(10):
            while len(relay.attempts) < len(clients):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        first = sorted(relay.attempts)[: len(clients)]  # each client's first try (0.1-0.2 s)
        assert first[-1] - first[0] >= 0.03, first
    finally:
        for client in clients:
            await client.close()
        await relay.close()
