"""Nodes of a cluster on one PostgreSQL (CONTRACT §13): one serves, a standby takes over when it
dies or stops answering, and an old owner writes nothing. Real ``ucs serve --cluster``
processes; skipped without ``UCS_TEST_POSTGRES_URL``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster import ADMIN, PATIENCE, Node, haproxy
from tests.helpers import POSTGRES, behind_a_link, free_port, state_once_back
from ucs.client import Operator
from ucs.storage import schema
from ucs.storage.store import Store
from ucs.web.cluster import STEPPED_DOWN

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(POSTGRES is None, reason="UCS_TEST_POSTGRES_URL is not set"),
]


def _cdr(db: str) -> list[dict[str, Any]]:
    store = Store(db)
    try:
        return store.cdr()
    finally:
        store.stop()
        store.engine.dispose()


def _rows(db: str) -> int:
    """Call records, live ones too."""
    store = Store(db)
    try:
        return len(store.rows(schema.cdr))
    finally:
        store.stop()
        store.engine.dispose()


async def _serving_through(url: str) -> None:
    """Once HAProxy's health check has found the owner."""
    async with asyncio.timeout(30), httpx.AsyncClient(base_url=url) as http:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def test_kill_9_of_the_owner_and_the_standby_serves_its_agents_and_calls(
    cluster_db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    a = Node(cluster_db, "a", tmp_path / "a.log")
    b: Node | None = None
    try:
        health = await a.wait_serving()
        assert (health["node"], health["partition"], health["epoch"]) == ("a", "main", 1)
        b = Node(cluster_db, "b", tmp_path / "b.log")
        await b.wait_log("node b is a standby: partition 'main' is run by node a (epoch 1)")
        assert await b.health() is None  # a standby does not listen
        with haproxy([a, b], tmp_path) as front:
            await _serving_through(front)
            op = Operator(front)
            await op.connect()
            await op.login("agent1", "agent1-pass")
            await op.select_identifier("phone1")
            await op.provision()
            await op.change_status("READY")
            events = op.events()
            async with httpx.AsyncClient(base_url=front, headers=ADMIN) as http:
                call = await http.post("/api/sim/calls", json={"queue": 2, "from": "+420601555001"})
                uid = call.json()["uniqueid"]
                async with asyncio.timeout(10):
                    async for e in events:
                        if e.type == "call" and e.what == "ringing":
                            break
                await op.answer()
                await asyncio.sleep(0.5)  # the writer commits within milliseconds
                a.proc.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                health = await b.wait_serving()
                took = time.monotonic() - killed
                request.node.user_properties.append(("take_over_seconds", round(took, 2)))
                assert (health["node"], health["epoch"]) == ("b", 2)
                # the take-over's steps, timed, in one line an operator reads
                await b.wait_log("node b serves partition 'main' (epoch 2), 1 sessions restored")
                said = next(x for x in b.log.read_text().splitlines() if "sessions restored" in x)
                assert said.startswith("INFO:")
                for step in ("directory", "agent states and sessions", "restore", "tokens"):
                    assert f" {step} " in said
                assert "started" in said and "(total " in said
                state = await state_once_back(op, PATIENCE)  # the SDK resumed on b by itself
                assert (state["state"], state["identifier"]) == ("READY", "phone1")
                assert state["user"]["status"] == "READY"
                assert state["calls"] == []
                # b serves: a new call reaches the same agent
                again = await http.post(
                    "/api/sim/calls", json={"queue": 2, "from": "+420601555002"}
                )
                assert again.status_code == 201
            await op.close()
        records = [r for r in _cdr(cluster_db) if r["uniqueid"] == uid]
        assert len(records) == 1 and records[0]["cause"] == 0  # live on a node that died
    finally:
        a.stop()
        if b is not None:
            b.stop()


async def test_a_paused_owner_is_replaced_and_writes_nothing_when_it_resumes(
    cluster_db: str, tmp_path: Path
) -> None:
    a = Node(cluster_db, "a", tmp_path / "a.log")
    b: Node | None = None
    try:
        await a.wait_serving()
        b = Node(cluster_db, "b", tmp_path / "b.log")
        await b.wait_log("is a standby")
        a.proc.send_signal(signal.SIGSTOP)  # paused: its connections live on, it renews nothing
        health = await b.wait_serving()
        assert (health["node"], health["epoch"]) == ("b", 2)
        # a request that reached the paused node: taken by its kernel, read once it resumes
        late = asyncio.create_task(
            asyncio.to_thread(
                httpx.post,
                f"{a.url}/api/sim/calls",
                json={"queue": 2, "from": "+420601555009"},
                headers=ADMIN,
                timeout=60,
            )
        )
        await asyncio.sleep(0.5)
        before = _rows(cluster_db)
        a.proc.send_signal(signal.SIGCONT)
        assert await a.wait_exit() == STEPPED_DOWN
        with contextlib.suppress(httpx.HTTPError):
            await late  # whatever it was answered, if anything
        assert "this node lost its partition" in a.log.read_text()
        assert await b.health() is not None  # b serves on
        assert _rows(cluster_db) == before  # the late call was never written
    finally:
        a.stop()
        if b is not None:
            b.stop()


async def test_a_node_cut_off_from_postgresql_stops_serving_and_the_standby_takes_over(
    cluster_db: str, tmp_path: Path
) -> None:
    link, through = await behind_a_link(cluster_db)
    a = Node(through, "a", tmp_path / "a.log")
    b: Node | None = None
    try:
        await a.wait_serving()
        b = Node(cluster_db, "b", tmp_path / "b.log")
        await b.wait_log("is a standby")
        await link.cut()  # a cannot reach the database: it cannot renew, nor know who owns
        assert await a.wait_exit() == STEPPED_DOWN
        assert "this node lost its partition" in a.log.read_text()
        health = await b.wait_serving()
        assert (health["node"], health["epoch"]) == ("b", 2)
    finally:
        await link.cut()
        a.stop()
        if b is not None:
            b.stop()


def test_a_cluster_needs_postgresql_and_a_node_needs_the_cluster(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "ucs.cli", "serve", "--port", str(free_port())]
    sqlite = subprocess.run(
        [*base, "--cluster", "--db", f"sqlite:///{tmp_path}/ucs.db"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sqlite.returncode == 2 and "PostgreSQL" in sqlite.stderr
    alone = subprocess.run(
        [*base, "--node", "a", "--db", f"sqlite:///{tmp_path}/ucs.db"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert alone.returncode == 2 and "--cluster" in alone.stderr
