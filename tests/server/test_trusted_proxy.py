"""The client's address behind a proxy (docs/security.md): ``X-Forwarded-For`` is believed from
the addresses in ``--trusted-proxy`` alone, and the per-address cap on connections without a
session then counts the client, not the proxy. The proxy here connects from 127.0.0.2 (Linux
routes all of 127.0.0.0/8 to the loopback); a client on 127.0.0.1 that sends the header itself
is still counted as 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.server.conftest import Running, serving
from ucs.cli import app as cli
from ucs.client import Operator

pytestmark = pytest.mark.anyio

PROXY = "127.0.0.2"
WAIT = 10.0


async def _ws(running: Running, source: str = "127.0.0.1", forwarded: str = "") -> ClientConnection:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    ws = await connect(
        running.url.replace("http", "ws") + "/ws",
        open_timeout=WAIT,
        additional_headers=headers,
        local_addr=(source, 0),
    )
    await ws.send(json.dumps({"v": 1, "type": "hello"}))
    assert json.loads(await ws.recv())["type"] == "hello"
    return ws


async def _refused(running: Running, source: str = "127.0.0.1", forwarded: str = "") -> int:
    with pytest.raises(InvalidStatus) as refused:
        await _ws(running, source, forwarded)
    return refused.value.response.status_code


async def test_a_client_sending_x_forwarded_for_itself_is_capped_by_its_own_address(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, pending_per_address=2, trusted_proxies=(PROXY,)) as running:
        held = [await _ws(running, forwarded=f"203.0.113.{n}") for n in (1, 2)]
        assert await _refused(running, forwarded="203.0.113.3") == 429
        for ws in held:
            await ws.close()


async def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, pending_per_address=2, trusted_proxies=(PROXY,)) as running:
        # two clients behind the proxy, two connections each: the proxy's address holds four
        held = [
            await _ws(running, PROXY, client)
            for client in ("203.0.113.1", "203.0.113.2")
            for _ in range(2)
        ]
        assert await _refused(running, PROXY, "203.0.113.1") == 429  # that client's third
        # the client appends its own header's value: the proxy's addition counts, not its lie
        assert await _refused(running, PROXY, "198.51.100.9, 203.0.113.2") == 429
        held.append(await _ws(running, PROXY, "203.0.113.3"))
        for ws in held:
            await ws.close()


async def test_without_trusted_proxies_the_header_is_never_believed(tmp_path: Path) -> None:
    async with serving(tmp_path, pending_per_address=2) as running:
        held = [await _ws(running, PROXY, f"203.0.113.{n}") for n in (1, 2)]
        assert await _refused(running, PROXY, "203.0.113.3") == 429
        for ws in held:
            await ws.close()


def test_a_trusted_proxy_must_be_an_address_or_a_network(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/ucs.db"
    result = CliRunner().invoke(cli, ["serve", "--db", db, "--trusted-proxy", "10.0.0.0/8,haproxy"])
    assert result.exit_code == 2
    assert "'haproxy' is not an IP address or network" in result.output
    assert not (tmp_path / "ucs.db").exists()  # refused before anything was made


async def test_the_sdk_connects_from_the_local_address_it_is_given(tmp_path: Path) -> None:
    """``Operator(source=…)``: the benchmark's clients, each from an address of its own."""
    async with serving(tmp_path, pending_per_address=1) as running:
        first = Operator(running.url, reconnect=False, source="127.0.0.2")
        other = Operator(running.url, reconnect=False, source="127.0.0.3")
        await first.connect()
        await other.connect()  # another address: not capped by the first's
        with pytest.raises(InvalidStatus):
            await Operator(running.url, reconnect=False, source="127.0.0.2").connect()
        await first.close()
        await other.close()
