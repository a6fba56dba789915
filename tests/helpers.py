"""What tests of several packages share (h11's ``tests/helpers.py``): free ports and a real
``ucs serve`` process. Core tests have ``VirtualCenter`` and ``tests/core/helpers.py``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from ucs.client import Operator

__all__ = ["free_port", "start_server"]


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
