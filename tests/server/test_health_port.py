"""``--health-port``: ``/healthz`` answered by a thread off the event loop (``web/health.py``),
so that a node whose loop is late (starved of CPU, or behind a burst of work) is not taken
for a dead one by HAProxy's check, while a loop stuck for good is."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import free_port
from tests.server.conftest import serving
from ucs.web.health import STALE, OffLoopHealth, Publisher

pytestmark = pytest.mark.anyio


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_the_thread_answers_what_the_loop_last_said_until_it_is_stale() -> None:
    now = [1000.0]
    health = OffLoopHealth("127.0.0.1", 0, clock=lambda: now[0])
    health.start()
    url = f"http://127.0.0.1:{health.port}"
    try:
        assert _get(f"{url}/healthz") == (503, {"status": "starting"})
        health.publish(200, {"status": "ok", "backlog": 0})
        now[0] += STALE  # late, but not stuck: what it said holds
        assert _get(f"{url}/healthz") == (200, {"status": "ok", "backlog": 0})
        health.publish(503, {"status": "failing", "backlog": 7})
        assert _get(f"{url}/healthz")[0] == 503
        health.publish(200, {"status": "ok", "backlog": 0})
        now[0] += STALE + 1  # nothing said for longer: the loop is stuck
        code, body = _get(f"{url}/healthz")
        assert (code, body["status"], body["stalled_for"]) == (503, "stalled", STALE + 1)
        assert _get(f"{url}/metrics")[0] == 404  # the check only
    finally:
        health.stop()


async def test_the_check_says_starting_until_the_servers_own_port_listens() -> None:
    main = free_port()
    health = OffLoopHealth("127.0.0.1", 0)
    publisher = Publisher(health, lambda: (200, {"status": "ok"}), ("127.0.0.1", main))
    publisher.start()
    url = f"http://127.0.0.1:{health.port}/healthz"
    try:
        await asyncio.sleep(0.3)  # the publisher has tried the port a few times meanwhile
        assert await asyncio.to_thread(_get, url) == (503, {"status": "starting"})
        listening = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", main)
        async with listening, asyncio.timeout(30):
            while (await asyncio.to_thread(_get, url))[0] != 200:  # noqa: ASYNC110 (no event)
                await asyncio.sleep(0.05)
    finally:
        await publisher.stop()


async def test_a_server_answers_its_check_while_its_event_loop_is_held(tmp_path: Path) -> None:
    port = free_port()
    async with serving(tmp_path, health_port=port) as running:
        async with httpx.AsyncClient() as http, asyncio.timeout(30):
            while (off := await http.get(f"http://127.0.0.1:{port}/healthz")).status_code != 200:
                assert off.json()["status"] == "starting"  # until it has seen its port listen
                await asyncio.sleep(0.05)
            on_loop = (await http.get(f"{running.url}/healthz")).json()
        assert off.json() == on_loop and on_loop["status"] == "ok"

        # The event loop is held (a step of work that takes long) until the check is answered:
        # only an answer from off the loop can come.
        answered: list[tuple[int, dict[str, Any]]] = []
        done = threading.Event()

        def check() -> None:
            answered.append(_get(f"http://127.0.0.1:{port}/healthz"))
            done.set()

        threading.Thread(target=check, daemon=True).start()
        held_until_answered = done.wait(60)  # blocks the loop: no await
        assert held_until_answered and answered[0][0] == 200
    with pytest.raises(urllib.error.URLError):  # stopped: the port is closed
        _get(f"http://127.0.0.1:{port}/healthz")
