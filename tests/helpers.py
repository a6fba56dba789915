"""What tests of several packages share (h11's ``tests/helpers.py``): free ports and a real
``ucs serve`` process. Core tests have ``VirtualCenter`` and ``tests/core/helpers.py``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time

import httpx

from ucs.client import Operator

__all__ = ["Front", "free_port", "start_server"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(db: str, port: int) -> subprocess.Popen[bytes]:
    """``ucs serve --demo`` on ``port`` with the database ``db``, once ``/healthz`` answers."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "ucs.cli", "serve", "--demo", "--db", db, "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start")


async def ready_agent(url: str, n: int) -> Operator:
    """``agent{n}`` of the demo data signed in through the SDK on ``phone{n}``, and READY."""
    op = Operator(url)
    await op.connect()
    await op.login(f"agent{n}", f"agent{n}-pass")
    await op.select_identifier(f"phone{n}")
    await op.provision()
    await op.change_status("READY")
    return op


class Front:
    """One address for several servers, as a load balancer with health checks gives (HAProxy
    in deploy/): each new connection goes to the first of ``ports`` that accepts it, so
    clients reach whichever node of a cluster listens (a standby does not)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Front:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for port in self.ports:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            writer.transport.abort()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
