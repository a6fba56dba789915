"""What the media tests share besides audio measuring (``audio.py``): an operator connection
over the real WebSocket, and the admin token."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.media.audio import Samples, read_wav, stretch
from tests.server.conftest import Running
from ucs.demo import DEMO_ADMIN_TOKEN

__all__ = [
    "ADMIN",
    "HEARD_IN_BROWSER",
    "caller_heard",
    "operator",
    "request",
    "set_recording",
]

ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}


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


async def set_recording(http: httpx.AsyncClient, queue: int, mode: str) -> None:
    """The queue's ``recording`` mode over REST (``http`` with the admin token)."""
    r = await http.patch(f"/api/queues/{queue}", json={"recording": mode})
    assert r.status_code == 200, r.text
    assert r.json()["recording"] == mode
