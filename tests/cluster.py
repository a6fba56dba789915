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
from ucs.workers import free_ports

__all__ = ["ADMIN", "HAPROXY", "KAMAILIO", "PATIENCE", "Node", "haproxy", "kamailio"]

ADMIN = {"Authorization": "Bearer demo-admin-token"}
PATIENCE = 120.0
"""Seconds a node may take to start, take over or stop on a machine busy with other tests."""


class Node:
    """``ucs serve --cluster --node NAME --demo`` on a port of its own, its log in a file."""

    def __init__(self, db: str, name: str, log: Path, *args: str, port: int = 0) -> None:
        """``args``: more options of ``ucs serve``."""
        self.name = name
        # (a standby binds them only when it takes a partition over: outside the ephemeral
        # range, no outgoing connection holds them by then)
        ours, self.health_port = free_ports(2)
        self.port = port or ours
        """Where it answers its health check off its event loop (deploy/haproxy.cfg checks)."""
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        cmd = [sys.executable, "-m", "ucs.cli", "serve", "--demo", "--cluster", "--node", name]
        cmd += ["--workers", "1"]  # one node a process (--workers: tests/server/test_workers.py)
        cmd += ["--db", db, "--port", str(self.port), "--health-port", str(self.health_port)]
        cmd += args
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
    lines += [f"    server {n.name} 127.0.0.1:{n.port} check port {n.health_port}" for n in nodes]
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


KAMAILIO = shutil.which("kamailio") or (
    "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").exists() else ""
)
KAMAILIO_CFG = Path(__file__).parents[1] / "deploy" / "kamailio.cfg"


@contextlib.contextmanager
def kamailio(
    nodes: list[tuple[str, int]], trunk: tuple[str, int], port: int, trunk_side: int, tmp: Path
) -> Iterator[None]:
    """deploy/kamailio.cfg as shipped, its addresses given as defines (``-A``): the front on
    ``port`` (phones and the trunk), the nodes' trunk on ``trunk_side``, in front of
    ``nodes`` (their SIP addresses, the dispatcher list)."""
    if not KAMAILIO:
        pytest.skip("kamailio is not installed (make sip-proxy)")
    listing = tmp / "dispatcher.list"
    listing.write_text("".join(f"1 sip:{h}:{p}\n" for h, p in nodes))
    defines = {
        "UCS_IP": "127.0.0.1",
        "UCS_PORT": str(port),
        "UCS_TRUNK_SIDE": str(trunk_side),
        "TRUNK_IP": trunk[0],
        "TRUNK_PORT": str(trunk[1]),
        "TRUNK_URI": f'"sip:{trunk[0]}:{trunk[1]}"',
        "DISPATCHER_LIST": f'"{listing}"',
    }
    cmd = [KAMAILIO, "-DD", "-E", "-f", str(KAMAILIO_CFG), "-P", str(tmp / "kamailio.pid")]
    cmd += ["-Y", str(tmp), "-w", str(tmp)]
    for name, value in defines.items():
        cmd += ["-A", f"{name}={value}"]
    with open(tmp / "kamailio.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + PATIENCE
        while not _answers(port):  # any answer: Kamailio listens
            assert proc.poll() is None and time.monotonic() < deadline, (
                tmp / "kamailio.log"
            ).read_text()
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _answers(port: int) -> bool:
    """Whether a SIP OPTIONS to 127.0.0.1:``port`` is answered within half a second."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.5)
        me = s.getsockname()[1]
        s.sendto(
            (
                f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{time.monotonic_ns()}\r\n"
                "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\n"
                f"To: <sip:127.0.0.1:{port}>\r\nCall-ID: {time.monotonic_ns()}@probe\r\n"
                "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            ).encode(),
            ("127.0.0.1", port),
        )
        try:
            return bool(s.recv(4096))
        except OSError:
            return False
