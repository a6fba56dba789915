"""A start's steps, timed, said in one line (``ucs.web.startup``); the line a real node logs
when it takes a partition over is checked in ``test_cluster.py``."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from tests.helpers import free_port
from ucs.web.startup import Steps


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_step_is_the_time_since_the_previous_mark() -> None:
    clock = Clock()
    steps = Steps(clock)
    clock.now += 0.25
    steps.mark("directory")
    clock.now += 1.5
    steps.mark("restore")
    assert steps.steps == [("directory", 0.25), ("restore", 1.5)]
    assert steps.line() == "directory 0.25 s, restore 1.50 s (total 1.75 s)"


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.floats(0, 1e4))))
def test_the_steps_add_up_to_the_total(marks: list[tuple[str, float]]) -> None:
    clock = Clock()
    steps = Steps(clock)
    for name, seconds in marks:
        clock.now += seconds
        steps.mark(name)
    assert [name for name, _ in steps.steps] == [name for name, _ in marks]
    assert abs(sum(s for _, s in steps.steps) - steps.total()) <= 1e-6 * max(1.0, steps.total())
    assert steps.total() == clock.now - 100.0


def _serve_and_connect(tmp_path: Path, *args: str) -> str:
    """``ucs serve --demo`` (and ``args``), one WebSocket opened and closed: what it logged."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    cmd = [sys.executable, "-m", "ucs.cli", "serve", "--demo", "--media", "off"]
    cmd += ["--db", f"sqlite:///{tmp_path}/ucs.db", "--port", str(port), *args]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 120
        while "Uvicorn running" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

        async def hello() -> None:
            async with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=30) as ws:
                await ws.send(json.dumps({"v": 1, "type": "hello"}))
                assert json.loads(await ws.recv())["type"] == "hello"

        asyncio.run(hello())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return log.read_text()


def test_a_start_says_its_steps_and_no_line_for_each_socket_unless_asked(
    tmp_path: Path,
) -> None:
    said = _serve_and_connect(tmp_path)
    started = next(line for line in said.splitlines() if "started: " in line)
    assert started.startswith("INFO:") and " restore " in started and "(total " in started
    assert "connection open" not in said and "[accepted]" not in said
    assert "[accepted]" in _serve_and_connect(tmp_path, "--access-log")
