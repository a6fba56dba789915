"""Nodes of a cluster for the tests (CONTRACT §13): real ``ucs serve --cluster`` processes on
one PostgreSQL, and HAProxy in front of them as deploy/haproxy.cfg ships."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import free_port

__all__ = ["ADMIN", "HAPROXY", "PATIENCE", "Node", "haproxy"]

ADMIN = {"Authorization": "Bearer demo-admin-token"}
PATIENCE = 120.0
"""Seconds a node may take to start, take over or stop on a machine busy with other tests."""


class Node:
    """``ucs serve --cluster --node NAME --demo`` on a port of its own, its log in a file."""

    def __init__(self, db: str, name: str, log: Path, *args: str, port: int = 0) -> None:
        """``args``: more options of ``ucs serve``."""
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        cmd = [sys.executable, "-m", "ucs.cli", "serve", "--demo", "--cluster", "--node", name]
        cmd += ["--db", db, "--port", str(self.port), *args]
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=out, stderr=out
            )

    async def health(self) -> dict[str, Any] | None:
        try:
            async with httpx.AsyncClient() as http:
                answer = await http.get(f"{self.url}/healthz", timeout=1)
        except httpx.HTTPError:
            return None
        body: dict[str, Any] = answer.json()
        return body

    async def wait_serving(self) -> dict[str, Any]:
        try:
            async with asyncio.timeout(PATIENCE):
                while True:
                    assert self.proc.poll() is None, self.log.read_text()
                    health = await self.health()
                    if health is not None:
                        return health
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(
                f"node {self.name} did not serve:\n{self.log.read_text()}"
            ) from None

    async def wait_log(self, text: str) -> None:
        try:
            async with asyncio.timeout(PATIENCE):
                while True:
                    if text in self.log.read_text():
                        return
                    await asyncio.sleep(0.05)
        except TimeoutError:
            said = self.log.read_text()
            raise AssertionError(f"node {self.name} never said {text!r}:\n{said}") from None

    async def wait_exit(self) -> int:
        async with asyncio.timeout(PATIENCE):
            while True:
                code = self.proc.poll()
                if code is not None:
                    return code
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait()


HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else ""
)
DEPLOYED = Path(__file__).parents[1] / "deploy" / "haproxy.cfg"


@contextlib.contextmanager
def haproxy(nodes: list[Node], tmp_path: Path, port: int = 0) -> Iterator[str]:
    """deploy/haproxy.cfg, as shipped but for its addresses, in front of ``nodes``: its URL
    (on ``port``, else a free one)."""
    if not HAPROXY:
        pytest.skip("haproxy is not installed (make edge)")
    port = port or free_port()
    lines = []
    for line in DEPLOYED.read_text().splitlines():
        if line.strip().startswith("bind "):
            line = f"    bind 127.0.0.1:{port}"
        elif line.strip().startswith(("server ", "use-server ")):
            continue
        lines.append(line)
    lines += [f"    use-server {n.name} if {{ path_beg /node/{n.name}/ }}" for n in nodes]
    lines += [f"    server {n.name} 127.0.0.1:{n.port} check" for n in nodes]
    config = tmp_path / "haproxy.cfg"
    config.write_text("\n".join(lines) + "\n")
    with open(tmp_path / "haproxy.log", "wb") as log:
        proc = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()
