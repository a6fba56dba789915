"""The database fails under load and nothing is lost: every call answered 201 is in the call
records once, with its true cause and account codes, and every status change is logged.

PostgreSQL is reached through a TCP proxy the test cuts (every connection dropped, new ones
refused, as when the server is stopped) while callers keep ringing and an agent keeps working;
SQLite runs on a small disk of its own (tmpfs, as root) that the test fills. ``ucs serve`` runs
as a process of its own, as users run it, and is killed with SIGKILL in one test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from tests.helpers import POSTGRES, behind_a_link, free_port, fresh_postgres
from ucs.client import Operator, OperatorError
from ucs.storage import schema
from ucs.storage.store import database_url

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own."""
    if not POSTGRES:
        pytest.skip("UCS_TEST_POSTGRES_URL is not set")
    with fresh_postgres("ucs_outage") as url:
        yield url


async def _serve(db: str, port: int, journal: Path) -> asyncio.subprocess.Process:
    cmd = ["-m", "ucs.cli", "serve", "--demo", "--db", db, "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "UCS_JOURNAL": str(journal)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    async with httpx.AsyncClient() as http:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return proc
            await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start")


class Day:
    """Callers ringing Sales (queue 2) every ``pause`` seconds, a quarter of them giving up
    after 0.3 s, and agent1 answering, coding and hanging up the others, now and then on a
    break: what every uniqueid answered 201 must end up as in the call records."""

    def __init__(self, url: str, op: Operator) -> None:
        self.url, self.op = url, op
        self.created: list[str] = []
        self.refused = 0
        self.codes: dict[str, str] = {}
        self.causes: dict[str, int] = {}
        self.changes: list[tuple[str, str | None]] = []
        self.giving_up: set[asyncio.Task[None]] = set()
        self.answering = True
        self.last_event = time.monotonic()

    async def callers(self, http: httpx.AsyncClient, seconds: float, pause: float) -> None:
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            n += 1
            answer = await http.post("/api/sim/calls", json={"queue": 2, "from": "+420601123456"})
            if answer.status_code == 201:
                uid = answer.json()["uniqueid"]
                self.created.append(uid)
                if n % 4 == 0:
                    self.giving_up.add(asyncio.create_task(self._give_up(http, uid, 0.3)))
            else:
                assert answer.status_code == 503, answer.text
                assert answer.json()["code"] == "STORAGE_UNAVAILABLE"
                assert answer.headers["Retry-After"]
                self.refused += 1
            await asyncio.sleep(pause)

    async def _give_up(self, http: httpx.AsyncClient, uid: str, after: float = 0.0) -> None:
        await asyncio.sleep(after)
        with contextlib.suppress(httpx.HTTPError):
            await http.post(f"/api/sim/calls/{uid}/hangup")

    async def agent(self) -> None:
        async for event in self.op.events():
            self.last_event = time.monotonic()
            if event.type != "call":
                continue
            if event.what == "ringing" and self.answering:
                with contextlib.suppress(OperatorError):  # the caller may have just given up
                    # What rings now: the event may be an earlier call's, long answered.
                    uid = str((await self.op.answer())["uniqueid"])
                    await self.op.set_account_code(uid, f"AC-{uid}")
                    self.codes[uid] = f"AC-{uid}"
                    await self.op.hangup()
            elif event.what == "hangup":
                self.causes[str(event.call["uniqueid"])] = int(event.call["cause"])

    async def breaks(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await asyncio.sleep(0.7)
            for status, reason in (("AUX", "Lunch"), ("READY", None)):
                with contextlib.suppress(OperatorError):
                    await self.op.change_status(status, reason)
                    self.changes.append((status, reason))
                await asyncio.sleep(0.2)

    async def close(self, http: httpx.AsyncClient) -> None:
        """Every caller still waiting gives up, and the agent hears of every end."""
        self.answering = False
        await asyncio.gather(*self.giving_up)
        await asyncio.sleep(0.5)
        for uid in self.created:
            if uid not in self.causes:
                await self._give_up(http, uid)
        while time.monotonic() - self.last_event < 1.0:  # noqa: ASYNC110 (quiet, not an event)
            await asyncio.sleep(0.1)


async def _health(http: httpx.AsyncClient, status: str, within: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        body: dict[str, Any] = (await http.get("/healthz")).json()
        if body["status"] == status and (status != "ok" or body["backlog"] == 0):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


def _check_records(day: Day, cdr: list[dict[str, Any]], db: str, agent_id: int = 1) -> None:
    uids = [c["uniqueid"] for c in cdr]
    assert len(uids) == len(set(uids)), "a call recorded twice"
    records = {c["uniqueid"]: c for c in cdr}
    missing = [u for u in day.created if u not in records]
    assert not missing, f"{len(missing)} of {len(day.created)} calls answered 201 are missing"
    for uid in day.created:
        call = records[uid]
        expected = day.causes.get(uid, 3)  # not the agent's: the caller gave up (3)
        assert call["cause"] == expected, (uid, call["cause"], expected)
        codes = [a["accountCode"] for a in call["account_codes"]]
        assert codes == ([day.codes[uid]] if uid in day.codes else []), (uid, codes)
    engine = create_engine(database_url(db))
    with engine.connect() as conn:
        rows = conn.execute(
            select(schema.status_log.c.status, schema.status_log.c.reason)
            .where(schema.status_log.c.agent_id == agent_id)
            .order_by(schema.status_log.c.id)
        ).all()
    engine.dispose()
    logged = [(r.status, r.reason) for r in rows]
    # Every change the agent made is logged, in order; on a busy machine others come between
    # (a call that rang too long makes the agent unavailable; a change whose answer came too
    # late for the client is logged, though the client did not count it).
    made = iter(logged)
    lost = [change for change in day.changes if change not in made]
    assert not lost, f"status changes were lost: {lost} of {day.changes}; logged {logged}"


@contextlib.asynccontextmanager
async def _agent(url: str) -> AsyncIterator[Operator]:
    async with Operator(url) as op:
        await op.login("agent1", "agent1-pass")
        await op.select_identifier("phone1")
        await op.provision()
        await op.change_status("READY")
        yield op


async def test_postgresql_stopped_under_load_loses_no_call_account_code_or_status_change(
    postgres_db: str, tmp_path: Path
) -> None:
    link, proxied = await behind_a_link(postgres_db)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    journal = tmp_path / "records.ucs-journal"
    proc = await _serve(proxied, port, journal)
    try:
        async with (
            _agent(url) as op,
            httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=10) as http,
        ):
            day = Day(url, op)
            agent = asyncio.create_task(day.agent())
            load = asyncio.gather(day.callers(http, 9.0, 0.05), day.breaks(9.0))
            await asyncio.sleep(2.0)
            await link.cut()  # PostgreSQL is gone for 5 s, under 20 calls/s
            degraded = await _health(http, "degraded", within=5)
            assert degraded["backlog"] > 0 and degraded["journal"] == str(journal)
            metrics = (await http.get("/metrics")).text
            assert 'ucs_storage_health{state="degraded"} 1.0' in metrics
            await asyncio.sleep(5.0)
            await link.restore()
            await load
            await day.close(http)
            await _health(http, "ok")
            agent.cancel()
            cdr = (await http.get("/api/cdr", params={"limit": 1000})).json()
        assert day.refused == 0  # the journal kept everything: no caller was turned away
        # 180 calls on a quiet machine, fewer on a busy one: enough that many rang and were
        # coded while the database was away (its backlog above says records waited).
        assert len(day.created) > 40 and len(day.codes) > 10, (len(day.created), day.codes)
        _check_records(day, cdr, postgres_db)
        assert not journal.exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 15)
        await link.cut()


async def test_kill_9_while_postgresql_is_down_loses_nothing_after_the_restart(
    postgres_db: str, tmp_path: Path
) -> None:
    link, proxied = await behind_a_link(postgres_db)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    journal = tmp_path / "records.ucs-journal"
    proc = await _serve(proxied, port, journal)
    try:
        async with (
            _agent(url) as op,
            httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=10) as http,
        ):
            day = Day(url, op)
            agent = asyncio.create_task(day.agent())
            await link.cut()
            await asyncio.gather(day.callers(http, 3.0, 0.05), day.breaks(3.0))
            await day.close(http)
            agent.cancel()
            await op.change_status("AUX", "Lunch")
            day.changes.append(("AUX", "Lunch"))
            live = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601999999"})
            live_uid = live.json()["uniqueid"]  # waiting in Support when the server dies
            await asyncio.sleep(0.3)
            assert (await http.get("/healthz")).json()["status"] == "degraded"
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    assert journal.exists()
    await link.restore()
    proc = await _serve(proxied, port, journal)  # the journal is written before anything else
    try:
        async with httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=10) as http:
            health = (await http.get("/healthz")).json()
            health.pop("writer", None)  # "starting" while its child process starts
            assert health == {"status": "ok", "backlog": 0, "sessions": 1}
            cdr = (await http.get("/api/cdr", params={"limit": 1000})).json()
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 15)
        await link.cut()
    assert len(day.created) > 15  # fewer on a busy machine; the journal held some (above)
    _check_records(day, [c for c in cdr if c["uniqueid"] != live_uid], postgres_db)
    assert next(c for c in cdr if c["uniqueid"] == live_uid)["cause"] == 0
    assert not journal.exists()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 32 MB disk of the test's own (tmpfs), for the database and its journal."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> Path:
    """Fill the disk to the last byte; returns the file that holds the space."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    return filler


async def test_a_full_disk_refuses_new_calls_and_commands_and_loses_nothing(
    small_disk: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = f"sqlite:///{small_disk}/ucs.db"
    journal = small_disk / "ucs.db.ucs-journal"  # the same disk: both fail
    proc = await _serve(db, port, journal)
    try:
        async with (
            _agent(url) as op,
            httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=10) as http,
        ):
            day = Day(url, op)
            agent = asyncio.create_task(day.agent())
            load = asyncio.gather(day.callers(http, 10.0, 0.05), day.breaks(10.0))
            await asyncio.sleep(1.5)
            filler = await asyncio.to_thread(_fill, small_disk)
            failing = await _health(http, "failing", within=6)
            assert failing["backlog"] > 0 and "journal" in failing["reason"]
            assert (await http.get("/healthz")).status_code == 503
            with pytest.raises(OperatorError) as refused:
                await op.change_status("AUX", "Break")
            assert refused.value.code == "STORAGE_UNAVAILABLE"
            assert (await op.state())["state"] == "READY"  # reading is still answered
            await asyncio.sleep(2.0)
            filler.unlink()  # the administrator makes room
            await _health(http, "ok")
            await load
            await day.close(http)
            await _health(http, "ok")
            agent.cancel()
            cdr = (await http.get("/api/cdr", params={"limit": 1000})).json()
        assert day.refused > 0  # callers turned away while nothing could be kept
        assert len(day.created) > 50, len(day.created)
        _check_records(day, cdr, db)
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 15)
