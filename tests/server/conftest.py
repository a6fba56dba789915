"""A real server on a free loopback port, for tests that speak to it over sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.helpers import free_port
from ucs.web.listener import uvicorn_options
from ucs.web.server import Server, Settings, build_server, create_app


@dataclass
class Running:
    server: Server
    url: str


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, **settings: Any) -> AsyncIterator[Running]:
    """The demo server on a free loopback port, as ``ucs serve`` runs it (its listener), with
    ``settings`` (limits and such; ``demo=False`` for a server without the demo) changed."""
    port = free_port()
    config = Settings(
        **{"port": port, "demo": True, "db": f"sqlite:///{tmp_path}/ucs.db", **settings}
    )
    server = build_server(config)
    uv = uvicorn.Server(
        uvicorn.Config(
            create_app(server),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            **uvicorn_options(config),
        )
    )
    task = asyncio.create_task(uv.serve())
    while not uv.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        yield Running(server, f"http://127.0.0.1:{port}")
    finally:
        uv.should_exit = True
        await task


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """The demo server on a fresh SQLite database, on 127.0.0.1 at a free port."""
    port = free_port()
    server = build_server(Settings(port=port, demo=True, db=f"sqlite:///{tmp_path}/ucs.db"))
    config = uvicorn.Config(create_app(server), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    while not uv.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    yield Running(server, f"http://127.0.0.1:{port}")
    uv.should_exit = True
    await task
