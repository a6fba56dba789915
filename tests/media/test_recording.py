"""Recording calls with real audio (CONTRACT §10): the queue's ``recording``,
``startRecording()`` / ``stopRecording()``, the stereo WAV (the caller's tone left, the
agent's right, a paused stretch silent), ``/api/recordings`` and who may have them, and
recordings that survive ``ucs serve`` killed with SIGKILL."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.helpers import open_page
from tests.helpers import free_port
from tests.media.audio import (
    SILENCE_DBFS,
    assert_paused_recording,
    assert_tone,
    channels,
    level_dbfs,
    stretch,
)
from tests.media.conftest import AGENT_TONE
from tests.media.helpers import ADMIN, operator, request, set_recording
from tests.server.conftest import Running

pytestmark = pytest.mark.anyio

CALLER_TONE = 440.0
STRETCH = 2.5
"""Seconds each recorded (or paused) stretch of a test lasts."""
READY = """(async () => {
  await window.ucsOperator.login('agent1', 'agent1-pass');
  await window.ucsOperator.selectIdentifier('softphone');
  await window.ucsOperator.provision();
  await window.ucsOperator.changeStatus('READY');
})()"""


async def recording_of(http: httpx.AsyncClient, uid: str) -> bytes:
    """The call's WAV (the server waits while it is being made)."""
    r = await http.get(f"/api/recordings/{uid}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    return r.content


async def test_a_recording_has_the_caller_left_the_agent_right_and_a_silent_pause(
    softphone_browser: Any, crm: tuple[Path, str], media_server: Running
) -> None:
    page = await open_page(
        softphone_browser, crm, media_server, headless=False, extra="audioProcessing: false,"
    )
    await page.evaluate(READY)
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        await set_recording(http, 1, "on_demand")
        r = await http.post(
            "/api/sim/calls",
            json={"queue": 1, "from": "+420777123456", "audio": f"tone:{CALLER_TONE:g}"},
        )
        uid = r.json()["uniqueid"]
        await page.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
        call = await page.evaluate("window.ucsOperator.answer()")
        assert call["recorded"] is False
        await page.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
        )
        host = page.locator("ucs-operator")
        assert await host.locator("[data-recording]").count() == 0

        call = await page.evaluate("window.ucsOperator.startRecording()")
        assert call["recorded"] is True
        await host.locator("[data-recording=on]").wait_for()
        began = time.time()
        await asyncio.sleep(STRETCH)
        await page.evaluate("window.ucsOperator.stopRecording()")  # a card number is read
        paused = time.time()
        await host.locator("[data-recording=paused]").wait_for()
        await asyncio.sleep(STRETCH)
        again = await page.evaluate("window.ucsOperator.startRecording()")
        resumed = time.time()
        assert again["recorded"] is True
        await asyncio.sleep(STRETCH)
        await page.evaluate("window.ucsOperator.hangup()")
        ended = time.time()

        listed = (await http.get("/api/recordings")).json()
        data = await recording_of(http, uid)
        listed = (await http.get("/api/recordings", params={"queue": 1})).json()
        entry = next(x for x in listed if x["uniqueid"] == uid)
        assert entry["agent"] == "agent1" and entry["queue"] == 1
        assert entry["bytes"] == len(data)
        left, _, rate = channels(data)
        assert abs(entry["seconds"] - len(left) / rate) < 0.01
        assert abs(entry["start"] - began) < 1.0
        # One recording across the pause: recorded, silent, recorded again.
        times = (began, paused, resumed, ended)
        assert_paused_recording(data, entry["start"], times, CALLER_TONE, AGENT_TONE)
        r = await http.get("/api/cdr", params={"limit": 10})
        record = next(c for c in r.json() if c["uniqueid"] == uid)
        assert record["recorded"] is True


_IDS = itertools.count()


async def call_in_state(ws: Any, state: int) -> dict[str, Any]:
    """The agent's call in focus, once it is in ``state``."""
    async with asyncio.timeout(10):
        while True:
            call = (await request(ws, f"s{next(_IDS)}", "state"))["result"]["call"]
            if call is not None and call["state"] == state:
                return dict(call)
            await asyncio.sleep(0.05)


async def _ready_agent(running: Running) -> Any:
    """agent1 on the softphone, READY, over a real WebSocket (no browser: its side is silent)."""
    ws = await operator(running)
    await request(ws, "1", "login", "agent1", "agent1-pass")
    await request(ws, "2", "selectIdentifier", "softphone")
    await request(ws, "3", "provision")
    await request(ws, "4", "changeStatus", "READY")
    return ws


async def test_start_and_stop_recording_refuse_with_the_contracts_codes(
    media_server: Running,
) -> None:
    ws = await _ready_agent(media_server)
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        no_call = await request(ws, "5", "startRecording")
        assert no_call["code"] == "INVALID_STATE"
        r = await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420777111222", "audio": "tone:440"}
        )
        uid = r.json()["uniqueid"]
        await call_in_state(ws, 2)
        ringing = await request(ws, "6", "startRecording")
        assert ringing["code"] == "INVALID_STATE"  # not connected yet
        await request(ws, "7", "answer")
        await call_in_state(ws, 3)
        never = await request(ws, "8", "startRecording")  # Support records never (the default)
        assert never["code"] == "FORBIDDEN"
        assert media_server.server.center.calls[uid].recorded is False
        await set_recording(http, 1, "on_demand")
        started = await request(ws, "9", "startRecording")
        assert started["result"]["recorded"] is True
        await request(ws, "10", "hangup")
    await ws.close()


async def test_a_desk_phones_call_is_not_recorded(running: Running) -> None:
    """A desk phone's audio is not in an engine: nothing to record."""
    desk = await operator(running)
    await request(desk, "1", "login", "agent1", "agent1-pass")
    await request(desk, "2", "selectIdentifier", "phone1")
    await request(desk, "3", "provision")
    await request(desk, "4", "changeStatus", "READY")
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN, timeout=30) as http:
        await set_recording(http, 1, "on_demand")
        await http.post("/api/sim/calls", json={"queue": 1, "from": "+420777111222"})
        await call_in_state(desk, 2)
        await request(desk, "5", "answer")
        await call_in_state(desk, 3)  # the desk phone picked up
        refused = await request(desk, "6", "startRecording")
        assert refused["code"] == "MEDIA_UNAVAILABLE"
        r = await http.patch("/api/queues/1", json={"recording": "sometimes"})
        assert r.status_code == 422
        assert (await http.get("/api/queues/1")).json()["recording"] == "on_demand"
    await desk.close()


async def test_only_the_admin_and_supervisors_of_the_queue_may_have_a_recording(
    media_server: Running,
) -> None:
    ws = await _ready_agent(media_server)
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        await set_recording(http, 1, "always")
        r = await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420777111222", "audio": "tone:440"}
        )
        uid = r.json()["uniqueid"]
        await call_in_state(ws, 2)  # the offer may reach the agent after the POST's answer
        await request(ws, "5", "answer")
        assert (await call_in_state(ws, 3))["recorded"] is True  # always: from the answer
        await asyncio.sleep(1.5)
        await request(ws, "6", "hangup")
        left, right, rate = channels(await recording_of(http, uid))
        assert_tone(stretch(left, rate, 0.3, 1.0), rate, CALLER_TONE)
        assert level_dbfs(right) < SILENCE_DBFS  # no browser: the agent's side said nothing
        # A supervisor of queue 2 only, an agent, and the superuser, each with the session
        # token their component got at login.
        for queue in (1, 2):
            body = {
                "username": f"sup{queue}",
                "password": f"sup{queue}-password",
                "memberships": [{"queue": queue, "supervisor": True}],
            }
            assert (await http.post("/api/agents", json=body)).status_code in (200, 201)
    tokens = {}
    for name, password in (
        ("sup1", "sup1-password"),
        ("sup2", "sup2-password"),
        ("agent2", "agent2-pass"),
        ("supervisor", "supervisor-pass"),
    ):
        other = await operator(media_server)
        tokens[name] = (await request(other, "1", "login", name, password))["result"]["token"]
        await other.close()
    async with httpx.AsyncClient(base_url=media_server.url, timeout=30) as http:

        def bearer(name: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[name]}"}

        assert (await http.get(f"/api/recordings/{uid}")).status_code == 401
        assert (await http.get("/api/recordings")).status_code == 401
        bad = {"Authorization": "Bearer nonsense"}
        assert (await http.get(f"/api/recordings/{uid}", headers=bad)).status_code == 401
        assert (
            await http.get(f"/api/recordings/{uid}", headers=bearer("agent2"))
        ).status_code == 403
        r = await http.get(f"/api/recordings/{uid}", headers=bearer("sup2"))
        assert r.status_code == 404  # not told it exists
        assert (await http.get("/api/recordings", headers=bearer("sup2"))).json() == []
        r = await http.get(f"/api/recordings/{uid}", headers=bearer("supervisor"))
        assert r.status_code == 200 and r.content[:4] == b"RIFF"
        listed = (await http.get("/api/recordings", headers=bearer("supervisor"))).json()
        assert [x["uniqueid"] for x in listed] == [uid]
        r = await http.get(f"/api/recordings/{uid}", headers=bearer("sup1"))
        assert r.status_code == 200 and r.content[:4] == b"RIFF"
        listed = (await http.get("/api/recordings", headers=bearer("sup1"))).json()
        assert [x["uniqueid"] for x in listed] == [uid]
        r = await http.delete(f"/api/recordings/{uid}", headers=bearer("sup1"))
        assert r.status_code == 403  # a supervisor fetches; an administrator removes
        # A supervisor's own sign-in (POST /api/admin/login) serves as well.
        body = {"username": "sup1", "password": "sup1-password"}
        signed = (await http.post("/api/admin/login", json=body)).json()["token"]
        r = await http.get(f"/api/recordings/{uid}", headers={"Authorization": f"Bearer {signed}"})
        assert r.status_code == 200 and r.content[:4] == b"RIFF"
        r = await http.get("/api/recordings", headers=ADMIN, params={"from": "not a day"})
        assert r.status_code == 422
        today = time.strftime("%Y-%m-%d")
        r = await http.get("/api/recordings", headers=ADMIN, params={"from": today, "to": today})
        assert [x["uniqueid"] for x in r.json()] == [uid]
        r = await http.get("/api/recordings", headers=ADMIN, params={"agent": "agent2"})
        assert r.json() == []
        assert (await http.delete(f"/api/recordings/{uid}", headers=ADMIN)).status_code == 204
        assert (await http.get(f"/api/recordings/{uid}", headers=ADMIN)).status_code == 404
        assert (await http.get("/api/recordings", headers=ADMIN)).json() == []
        folder = media_server.server.media.recorder.folder
        assert not (folder / f"{uid}.wav").exists()
    await ws.close()


async def test_old_recordings_go_after_the_retention(media_server: Running) -> None:
    ws = await _ready_agent(media_server)
    recorder = media_server.server.media.recorder
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        await set_recording(http, 1, "always")
        r = await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420777111222", "audio": "tone:440"}
        )
        uid = r.json()["uniqueid"]
        await call_in_state(ws, 2)  # the offer may reach the agent after the POST's answer
        await request(ws, "5", "answer")
        await call_in_state(ws, 3)
        await asyncio.sleep(1.0)
        await request(ws, "6", "hangup")
        await recording_of(http, uid)
        assert await recorder.prune(0, time.time() + 10 * 86400) == 0  # 0 keeps them
        assert await recorder.prune(30, time.time() + 29 * 86400) == 0
        assert await recorder.prune(30, time.time() + 31 * 86400) == 1
        assert (await http.get("/api/recordings")).json() == []
        assert not (recorder.folder / f"{uid}.wav").exists()
    await ws.close()


def test_a_recording_survives_ucs_serve_killed_with_sigkill(tmp_path: Path) -> None:
    """``ucs serve`` (a process of its own) killed with SIGKILL mid-call: the engine goes with
    it, and at the next start the call's recording is made from what was recorded."""
    if os.geteuid() != 0 or not __import__("shutil").which("janus"):
        pytest.skip("janus is not installed")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "UCS_MEDIA": "janus", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "ucs.cli", "serve", "--demo", "--port", str(port)]
    cmd += ["--db", f"sqlite:///{tmp_path}/ucs.db", "--recordings-dir", str(tmp_path / "rec")]

    def serve() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/openapi.json", timeout=2).status_code == 200:
                    return proc
            except httpx.HTTPError:
                time.sleep(0.1)
        proc.kill()
        raise AssertionError("ucs serve did not start")

    async def call() -> str:
        running = Running(None, url)  # type: ignore[arg-type]
        ws = None
        async with httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=30) as http:
            await set_recording(http, 1, "always")
            async with asyncio.timeout(30):  # the engine starts beside the server
                while True:
                    ws = await operator(running)
                    await request(ws, "1", "login", "agent1", "agent1-pass")
                    if "result" in await request(ws, "2", "selectIdentifier", "softphone"):
                        break
                    await ws.close()
                    await asyncio.sleep(0.2)
            await request(ws, "3", "provision")
            await request(ws, "4", "changeStatus", "READY")
            r = await http.post(
                "/api/sim/calls", json={"queue": 1, "from": "+420777111222", "audio": "tone:440"}
            )
            assert r.status_code == 201, r.text
            uid = str(r.json()["uniqueid"])
            await call_in_state(ws, 2)
            await request(ws, "5", "answer")
            assert (await call_in_state(ws, 3))["recorded"] is True
            await asyncio.sleep(2.0)
            await ws.close()
            return uid

    proc = serve()
    try:
        uid = asyncio.run(call())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    parts = tmp_path / "rec" / ".parts" / uid
    assert any(p.suffix == ".mjr" for p in parts.iterdir()), "nothing was being recorded"
    proc = serve()
    try:

        async def fetch() -> bytes:
            async with httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=30) as http:
                async with asyncio.timeout(30):
                    while not (await http.get("/api/recordings")).json():  # noqa: ASYNC110 (made at start, in another process)
                        await asyncio.sleep(0.1)
                return await recording_of(http, uid)

        left, _, rate = channels(asyncio.run(fetch()))
        assert len(left) / rate > 1.0
        assert_tone(stretch(left, rate, 0.3, 1.0), rate, CALLER_TONE)
        assert not parts.exists()
        cdr = httpx.get(f"{url}/api/cdr", headers=ADMIN, params={"limit": 10}).json()
        assert next(c for c in cdr if c["uniqueid"] == uid)["recorded"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_parts_header_is_read(tmp_path: Path) -> None:
    """A part with no packet (the engine opened it, nobody spoke) is left out, not an error."""
    from ucs.media.recorder import _header

    empty = tmp_path / "0001-far-audio.mjr"
    empty.write_bytes(b"MJR00002")
    assert _header(empty) is None
    info = json.dumps({"t": "a", "c": "pcmu", "s": 1, "u": 2}).encode()
    whole = tmp_path / "0002-far-audio.mjr"
    whole.write_bytes(b"MJR00002" + len(info).to_bytes(2, "big") + info)
    assert _header(whole) == {"t": "a", "c": "pcmu", "s": 1, "u": 2}


async def test_the_recording_mode_over_rest_and_the_cli(running: Running) -> None:
    from typer.testing import CliRunner

    from ucs.cli import app
    from ucs.demo import DEMO_ADMIN_TOKEN

    async def ucs(*args: str) -> tuple[int, str]:
        result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
        return result.exit_code, result.output

    url = ["--url", running.url, "--token", DEMO_ADMIN_TOKEN]
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN, timeout=30) as http:
        assert (await http.get("/api/queues/1")).json()["recording"] == "never"  # the default
        code, out = await ucs("queue", "set", "1", "--recording", "always", *url)
        assert code == 0, out
        assert (await http.get("/api/queues/1")).json()["recording"] == "always"
        assert running.server.center.directory.queues[1].recording == "always"  # type: ignore[index]
        code, out = await ucs("queue", "add", "Night", "--recording", "on_demand", *url)
        assert code == 0, out
        added = [q for q in (await http.get("/api/queues")).json() if q["name"] == "Night"]
        assert added[0]["recording"] == "on_demand"
        code, out = await ucs("queue", "set", "1", "--recording", "maybe", *url)
        assert code != 0
        assert (await http.get("/api/queues/1")).json()["recording"] == "always"
