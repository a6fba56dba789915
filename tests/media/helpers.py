"""What the media tests share besides audio measuring (``audio.py``): an operator connection
over the real WebSocket, and the admin token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from tests.media.audio import (
    TONE_DBFS,
    TONE_SHARE,
    Samples,
    band_share,
    level_dbfs,
    read_wav,
    stretch,
)
from tests.server.conftest import Running
from ucs.demo import DEMO_ADMIN_TOKEN

__all__ = [
    "ADMIN",
    "CALLER_TONE",
    "HEARD_IN_BROWSER",
    "MIXED",
    "TRIES",
    "browser_heard",
    "caller_heard",
    "hears",
    "operator",
    "request",
    "ring_and_answer",
    "set_recording",
]

ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}
CALLER_TONE = 440.0
"""What a simulated caller of ``ring_and_answer`` says."""


def core_file_limit(pid: int) -> tuple[str, str]:
    """The soft and hard limit of the core files process ``pid`` may write."""
    with open(f"/proc/{pid}/limits") as limits:
        for line in limits:
            if line.startswith("Max core file size"):
                soft, hard = line.split()[4:6]
                return soft, hard
    raise AssertionError(f"no core file limit for {pid}")


async def operator(running: Running) -> ClientConnection:
    """A WebSocket that said hello (not logged in)."""
    ws = await connect(running.url.replace("http", "ws") + "/ws")
    await ws.send(json.dumps({"v": 1, "type": "hello"}))
    json.loads(await ws.recv())
    return ws


async def request(ws: ClientConnection, rid: str, method: str, *args: Any) -> dict[str, Any]:
    """Send a request; its answer (events before it are skipped)."""
    message = {"v": 1, "type": "request", "id": rid, "method": method, "args": args}
    await ws.send(json.dumps(message))
    async with asyncio.timeout(10):
        while True:
            msg: dict[str, Any] = json.loads(await ws.recv())
            if msg.get("id") == rid or (msg.get("type") == "error" and "id" not in msg):
                return msg


HEARD_IN_BROWSER = """async (uniqueid) => {
  // 2.5 s of what this tab plays for the call, as the browser decoded it.
  const stream = window.ucsOperator.__ucs.softphone.remote(uniqueid);
  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(stream);
  const node = ctx.createScriptProcessor(4096, 1, 1);
  const mute = ctx.createGain();
  mute.gain.value = 0;
  const chunks = [];
  const want = Math.round(ctx.sampleRate * 2.5);
  let have = 0;
  await new Promise((resolve) => {
    node.onaudioprocess = (e) => {
      if (have >= want) return;
      const data = e.inputBuffer.getChannelData(0);
      chunks.push(Array.from(data));
      have += data.length;
      if (have >= want) resolve();
    };
    source.connect(node);
    node.connect(mute);
    mute.connect(ctx.destination);
  });
  await ctx.close();
  return { rate: ctx.sampleRate, samples: chunks.flat().slice(0, want) };
}"""
"""JavaScript for ``page.evaluate(HEARD_IN_BROWSER, uniqueid)``: what a tab's softphone plays
for a call, ``{rate, samples}``."""


ON_SOFTPHONE = """async ([username, password]) => {
  await window.ucsOperator.login(username, password);
  await window.ucsOperator.selectIdentifier('softphone');
  await window.ucsOperator.provision();
  await window.ucsOperator.changeStatus('READY');
}"""
"""JavaScript for ``page.evaluate(ON_SOFTPHONE, [username, password])``: the agent at work on
the browser softphone, READY."""


async def caller_heard(
    http: httpx.AsyncClient, uid: str, seconds: float = 2.0
) -> tuple[Samples, int]:
    """The last 1.5 s of what the simulated caller of ``uid`` heard, once ``seconds`` more of
    it arrived (``GET /api/sim/calls/{uid}/heard``)."""

    async def heard() -> tuple[Samples, int]:
        r = await http.get(f"/api/sim/calls/{uid}/heard")
        assert r.status_code == 200, r.text
        return read_wav(r.content)

    start, rate = await heard()
    async with asyncio.timeout(seconds * 3 + 10):
        while True:
            samples, rate = await heard()
            if len(samples) - len(start) >= seconds * rate:
                return stretch(samples, rate, -1.5, 1.5), rate
            await asyncio.sleep(0.1)


async def ring_and_answer(page: Any, http: httpx.AsyncClient, queue: int = 1) -> str:
    """A simulated caller saying 440 Hz rings the agent of ``page``, who answers on the
    softphone; once its audio plays in the tab. Returns the call's uniqueid."""
    r = await http.post(
        "/api/sim/calls",
        json={"queue": queue, "from": "+420777123456", "audio": f"tone:{CALLER_TONE:g}"},
    )
    assert r.status_code == 201, r.text
    uid = str(r.json()["uniqueid"])
    await page.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
    await page.evaluate("window.ucsOperator.answer()")
    await page.wait_for_function(
        f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
    )
    return uid


async def set_recording(http: httpx.AsyncClient, queue: int, mode: str) -> None:
    """The queue's ``recording`` mode over REST (``http`` with the admin token)."""
    r = await http.patch(f"/api/queues/{queue}", json={"recording": mode})
    assert r.status_code == 200, r.text
    assert r.json()["recording"] == mode


TRIES = 4
"""Fresh measurements a change of mode gets before the test fails (a loaded machine mixes late)."""
MIXED = 0.2
"""Share of each of two tones heard at once (together above ``TONE_SHARE``)."""


async def browser_heard(page: Any, uid: str) -> tuple[Any, int]:
    """What the tab's softphone played for ``uid`` (``HEARD_IN_BROWSER``): its middle 3 s."""
    got = await page.evaluate(HEARD_IN_BROWSER, uid)
    samples = np.asarray(got["samples"], dtype=np.float64)
    return stretch(samples, got["rate"], -1.5, 1.5), int(got["rate"])


async def hears(
    measure: Callable[[], Awaitable[tuple[Any, int]]],
    tones: tuple[float, ...],
    without: tuple[float, ...] = (),
) -> None:
    """What ``measure`` gives holds ``tones`` (one: alone; two: both at once) and none of
    ``without``, once the engine applied the change: measured again (a fresh stretch each
    time) up to ``TRIES`` times while it does not."""
    for attempt in range(TRIES):
        samples, rate = await measure()
        try:
            if len(tones) == 2:
                _both(samples, rate, *tones)
            else:
                assert band_share(samples, rate, tones[0]) > TONE_SHARE
                assert level_dbfs(samples) > TONE_DBFS
            for tone in without:
                assert band_share(samples, rate, tone) < 0.05
            return
        except AssertionError:
            if attempt == TRIES - 1:
                raise


Hearing = (
    tuple[Callable[[], Awaitable[tuple[Any, int]]], tuple[float, ...]]
    | tuple[Callable[[], Awaitable[tuple[Any, int]]], tuple[float, ...], tuple[float, ...]]
)
"""The arguments of one ``hears``."""


async def hear_all(*checks: Hearing) -> None:
    """Several ``hears`` at once: each party's measure of the same seconds, as a room of
    people hears one moment (a failure cancels the others)."""
    async with asyncio.TaskGroup() as group:
        for check in checks:
            group.create_task(hears(*check))


def _both(samples: Any, rate: int, one: float, other: float) -> None:
    """Two tones heard at once."""
    first, second = band_share(samples, rate, one), band_share(samples, rate, other)
    assert first > MIXED and second > MIXED, (first, second)
    assert first + second > TONE_SHARE, (first, second)
    assert level_dbfs(samples) > TONE_DBFS
