"""The media engine as ``ucs serve`` runs it: started, supervised, restarted, and the
simulator's callers who speak (real Janus, real RTP)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port
from tests.media.audio import SILENCE_DBFS, band_share, level_dbfs, read_wav, write_tone
from tests.media.helpers import core_file_limit, operator, request
from tests.server.conftest import Running
from ucs.demo import DEMO_ADMIN_TOKEN
from ucs.media.base import run_tool
from ucs.media.g711 import decode, wav

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}


async def test_a_speaking_caller_is_anchored_in_the_engine(media_server: Running) -> None:
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN) as http:
        r = await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420777111222", "audio": "tone:440"}
        )
        assert r.status_code == 201, r.text
        uid = r.json()["uniqueid"]
        media = media_server.server.media
        assert media.media.has_call(uid)
        r = await http.get(f"/api/sim/calls/{uid}/heard")
        assert r.status_code == 200
        assert r.headers["content-type"] == "audio/wav"
        samples, rate = read_wav(r.content)
        assert rate == 8000
        # Alone in the call, the caller hears nobody (the room does not echo its own voice).
        assert level_dbfs(samples) < SILENCE_DBFS
        r = await http.post(f"/api/sim/calls/{uid}/hangup")
        assert r.status_code == 204
        async with asyncio.timeout(5):
            while media.media.has_call(uid):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert (await http.get(f"/api/sim/calls/{uid}/heard")).status_code == 200


async def test_bad_audio_is_refused_and_nothing_starts(media_server: Running) -> None:
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN) as http:
        before = len(media_server.server.center.calls)
        for audio in ("tone:50", "tone:5000", "tone:", "music", "tone:440hz"):
            r = await http.post(
                "/api/sim/calls", json={"queue": 1, "from": "+420777111222", "audio": audio}
            )
            assert r.status_code == 422, (audio, r.text)
        assert len(media_server.server.center.calls) == before
        assert (await http.get("/api/sim/calls/nope/heard")).status_code == 404


async def test_the_engine_killed_mid_call_is_restarted_and_the_agent_is_not_stuck(
    media_server: Running,
) -> None:
    server = media_server.server
    supervisor = server.media.supervisor
    assert supervisor is not None and supervisor.pid is not None
    ws = await operator(media_server)
    await request(ws, "1", "login", "agent1", "agent1-pass")
    await request(ws, "2", "selectIdentifier", "softphone")
    await request(ws, "3", "provision")
    await request(ws, "4", "changeStatus", "READY")
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN) as http:
        r = await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420777111222", "audio": "tone:440"}
        )
        uid = r.json()["uniqueid"]
        answered = await request(ws, "5", "answer")
        assert answered["result"]["uniqueid"] == uid
        assert server.center.calls[uid].state == 3  # connected
        first = supervisor.pid
        # Janus lifts its own core file limit to unlimited as it starts; a crash of it must
        # not write gigabytes into the server's working directory (it did, in a benchmark).
        assert core_file_limit(first) == ("0", "0")
        os.kill(first, signal.SIGKILL)
        async with asyncio.timeout(20):
            while not (server.media.available and supervisor.pid not in (None, first)):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert supervisor.restarts == 1
        assert core_file_limit(supervisor.pid) == ("0", "0")
        # The call on it ended with a cause, as the caller hanging up; the agent is free.
        assert uid not in server.center.calls
        r = await http.get("/api/cdr", params={"limit": 10})
        record = next(c for c in r.json() if c["uniqueid"] == uid)
        assert record["cause"] == 3  # the caller hung up: its audio was gone
        state = await request(ws, "6", "state")
        assert state["result"]["calls"] == [] and state["result"]["identifier"] == "softphone"
        # And the next call rings the same softphone, with audio.
        r = await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420777111333", "audio": "tone:600"}
        )
        assert r.status_code == 201
        assert server.media.media.has_call(r.json()["uniqueid"])
    await ws.close()


async def test_without_an_engine_audio_is_media_unavailable(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420777111222", "audio": "tone:440"}
        )
        assert r.status_code == 503
        assert r.json()["code"] == "MEDIA_UNAVAILABLE"
        r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420777111222"})
        assert r.status_code == 201  # everything else works


async def test_sounds_are_listed_and_a_bad_upload_stores_nothing(
    media_server: Running, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN) as http:
        listed = (await http.get("/api/sounds")).json()
        names = {s["name"]: s for s in listed}
        assert {"music", "welcome"} <= set(names)
        assert set(names["welcome"]["languages"]) == {"", "cs"}
        assert names["music"]["seconds"] > 10
        for body in (b"", b"RIFF....WAVEfmt not really", b"\x00" * 1000):
            r = await http.put("/api/sounds/jingle", content=body)
            assert r.status_code == 422, r.text
        long = write_tone(tmp_path / "long.wav", 440, seconds=601, rate=8000)
        assert (await http.put("/api/sounds/jingle", content=long.read_bytes())).status_code == 422
        tone = write_tone(tmp_path / "tone.wav", 440, seconds=2, rate=16000).read_bytes()
        assert (await http.put("/api/sounds/Bad%20Name", content=tone)).status_code == 422
        assert (await http.get("/api/sounds")).json() == listed  # nothing stored
        r = await http.put("/api/sounds/jingle", content=tone)
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "jingle" and 1.9 < r.json()["seconds"] < 2.1
        assert "jingle" in {s["name"] for s in (await http.get("/api/sounds")).json()}
        r = await http.put("/api/sounds/jingle", content=tone, headers={"Authorization": "x"})
        assert r.status_code == 401


async def test_a_caller_with_a_voice_speaks_a_sentence(media_server: Running) -> None:
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN) as http:
        r = await http.post(
            "/api/sim/calls", json={"queue": 2, "from": "+420777111444", "audio": "voice"}
        )
        assert r.status_code == 201, r.text
        peer = media_server.server.media.callers[r.json()["uniqueid"]]
    samples, rate = read_wav(wav(decode(peer.clip)))
    assert 3 < len(samples) / rate < 15  # a sentence, then a second of silence
    assert level_dbfs(samples) > -35  # spoken, not silent
    assert level_dbfs(samples[-rate // 2 :]) < SILENCE_DBFS
    assert band_share(samples, rate, 440) < 0.2  # not a tone


def test_janus_goes_when_ucs_serve_is_killed(tmp_path: Path) -> None:
    """``ucs serve`` killed with SIGKILL leaves no Janus behind (it would hold its ports and
    memory for ever)."""
    if not shutil.which("janus"):
        pytest.skip("janus is not installed")
    port = free_port()
    env = {**os.environ, "UCS_MEDIA": "janus", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "ucs.cli", "serve", "--demo", "--port", str(port)]
    cmd += ["--db", f"sqlite:///{tmp_path}/ucs.db"]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)
    try:
        janus = None
        deadline = time.monotonic() + 60  # the server started Janus after 26 s at a load of 13
        while janus is None and time.monotonic() < deadline:
            janus = next(iter(_children(proc.pid, "janus")), None)
            time.sleep(0.1)
        assert janus is not None, "ucs serve started no janus"
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{janus}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{janus}").exists() or _state(janus) == "Z"


async def test_a_tool_cancelled_is_killed_and_waited_for() -> None:
    """A prompt or recording being made when the server stops (its tasks cancelled): the tool
    is killed and reaped, not left running past the server's event loop (whose closed
    transport once failed a later test of the same process with ResourceWarnings)."""
    task = asyncio.create_task(run_tool("sleep", "30"))
    async with asyncio.timeout(30):
        while not _children(os.getpid(), "sleep"):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _children(os.getpid(), "sleep") == []  # not even a zombie
    assert await run_tool("sh", "-c", "echo said >&2; exit 3") == (3, b"said\n")


def _children(pid: int, name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == pid and comm == name:
            found.append(int(entry.name))
    return found


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return stat[stat.rindex(")") + 2 :].split()[0]
