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
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy import create_engine, exc, text
from sqlalchemy.engine import make_url

from ucs.client import Operator, OperatorError
from ucs.storage.store import database_url

__all__ = [
    "POSTGRES",
    "CuttableLink",
    "behind_a_link",
    "free_port",
    "fresh_postgres",
    "start_server",
    "state_once_back",
]

POSTGRES = os.environ.get("UCS_TEST_POSTGRES_URL")


@contextlib.contextmanager
def fresh_postgres(prefix: str = "ucs_test") -> Iterator[str]:
    """The URL of a new, empty database on the test PostgreSQL (the role needs CREATEDB),
    dropped afterwards."""
    assert POSTGRES is not None
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url(POSTGRES), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES.rpartition('/')[0]}/{name}"
    finally:
        try:
            _drop_database(admin, name)
        finally:
            admin.dispose()


def _drop_database(admin: Any, name: str) -> None:
    """DROP DATABASE … WITH (FORCE) ends the test's own leftover sessions, but a role without
    pg_signal_backend may not end an autovacuum worker that happens to be in the database; a
    plain DROP waits up to 5 s for that worker to go, so try again without FORCE."""
    for attempt in range(5):
        with admin.connect() as conn:
            try:
                force = " WITH (FORCE)" if attempt % 2 == 0 else ""
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"{force}'))
                return
            except exc.DBAPIError:
                if attempt == 4:
                    raise
        time.sleep(0.5)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(db: str, port: int, **env: str) -> subprocess.Popen[bytes]:
    """``ucs serve --demo`` on ``port`` with the database ``db`` (and ``env`` besides the
    test's environment), once ``/healthz`` answers."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    cmd = [sys.executable, "-m", "ucs.cli", "serve", "--demo", "--db", db, "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60  # a start-up took 27 s on a machine loaded to 18
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start")


async def state_once_back(op: Operator, within: float = 15) -> dict[str, Any]:
    """The client's state as soon as it has reconnected and resumed by itself (with backoff),
    after its server restarted or another node of a cluster took over."""
    async with asyncio.timeout(within):
        while True:
            try:
                state: dict[str, Any] = await op.state()
                return state
            except OperatorError as err:
                assert err.code == "UNAVAILABLE"
                await asyncio.sleep(0.2)


async def ready_agent(url: str, n: int) -> Operator:
    """``agent{n}`` of the demo data signed in through the SDK on ``phone{n}``, and READY."""
    op = Operator(url)
    await op.connect()
    await op.login(f"agent{n}", f"agent{n}-pass")
    await op.select_identifier(f"phone{n}")
    await op.provision()
    await op.change_status("READY")
    return op


async def records_of(http: httpx.AsyncClient, *uids: str) -> dict[str, dict[str, Any]]:
    """The call records (``/api/cdr``, ``http`` an admin's client) of these calls, by
    uniqueid, once every one is written (30 s at most)."""
    async with asyncio.timeout(30):
        while True:
            rows = (await http.get("/api/cdr")).json()
            found = {r["uniqueid"]: r for r in rows if r["uniqueid"] in uids}
            if len(found) == len(uids):
                return found
            await asyncio.sleep(0.1)


class CuttableLink:
    """A TCP proxy in front of a database: ``cut()`` drops every connection and refuses new
    ones until ``restore()``."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self.server = await asyncio.start_server(
            self._link, "127.0.0.1", self.port, reuse_address=True
        )

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.links):
            writer.transport.abort()
        self.links.clear()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.links |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except asyncio.CancelledError:  # the test is over
            writer.transport.abort()
            up_writer.transport.abort()
        self.links -= {writer, up_writer}


async def behind_a_link(db: str) -> tuple[CuttableLink, str]:
    """A link in front of the database ``db``, open, and the URL that reaches it through it."""
    target = make_url(database_url(db))
    link = CuttableLink(target.host or "127.0.0.1", target.port or 5432)
    await link.restore()
    proxied = db.replace(f"{target.host}:{target.port or 5432}", f"127.0.0.1:{link.port}")
    if proxied == db:  # the URL named no port
        proxied = db.replace(f"@{target.host}/", f"@127.0.0.1:{link.port}/")
    return link, proxied
