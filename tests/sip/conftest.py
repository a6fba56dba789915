"""A real server with the SIP switch on loopback, and scriptable SIP peers around it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from tests.helpers import free_port
from tests.sip.peer import Peer, free_udp_port
from ucs.web.server import Server, Settings, build_server, create_app


@dataclass
class SipRunning:
    server: Server
    url: str
    sip: tuple[str, int]
    trunk: Peer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def sip_server(tmp_path: Path) -> AsyncIterator[SipRunning]:
    async with running_sip_server(tmp_path) as running:
        yield running


@contextlib.asynccontextmanager
async def running_sip_server(
    tmp_path: Path, trunk_port: int | None = None
) -> AsyncIterator[SipRunning]:
    """The demo server with the SIP switch; its trunk is a ``Peer`` (not opened when
    ``trunk_port`` names another program's port, such as sipp's)."""
    port, sip_port = free_port(), free_udp_port()
    trunk = Peer("trunk", ("127.0.0.1", sip_port))
    if trunk_port is not None:
        trunk.port = trunk_port
    settings = Settings(
        port=port,
        demo=True,
        db=f"sqlite:///{tmp_path}/ucs.db",
        switch="sip",
        sip_port=sip_port,
        sip_trunk=f"127.0.0.1:{trunk.port}",
    )
    server = build_server(settings)
    config = uvicorn.Config(create_app(server), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    while not uv.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        if trunk_port is None:
            await trunk.open()
        yield SipRunning(server, f"http://127.0.0.1:{port}", ("127.0.0.1", sip_port), trunk)
    finally:
        trunk.close()
        uv.should_exit = True
        await task
