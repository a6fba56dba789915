"""A waiting caller hears the queue's greeting, its music and its place (real Janus, real RTP):
sounds uploaded as tones (greeting 800 Hz, music 600 Hz) so that each is told by frequency, the
place spoken by espeak-ng (speech: loud, and neither tone)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.media.audio import (
    SILENCE_DBFS,
    TONE_DBFS,
    TONE_SHARE,
    band_share,
    level_dbfs,
    read_wav,
    write_tone,
)
from tests.server.conftest import Running
from ucs.cli import app
from ucs.demo import DEMO_ADMIN_TOKEN

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}
GREETING, MUSIC = 800.0, 600.0


def _kinds(samples: Any, rate: int, step: float = 0.5) -> list[str]:
    """What each half second holds: ``greeting``, ``music``, ``speech`` or ``silence``
    (runs of one kind collapsed)."""
    kinds: list[str] = []
    n = int(step * rate)
    for start in range(0, len(samples) - n + 1, n):
        window = samples[start : start + n]
        level = level_dbfs(window)
        if level < SILENCE_DBFS:
            kind = "silence"
        elif band_share(window, rate, GREETING) > TONE_SHARE and level > TONE_DBFS:
            kind = "greeting"
        elif band_share(window, rate, MUSIC) > TONE_SHARE and level > TONE_DBFS:
            kind = "music"
        elif band_share(window, rate, MUSIC) < 0.3 and level > -40:
            kind = "speech"
        else:
            kind = "mixed"  # a window across a change
        if kind != "mixed" and (not kinds or kinds[-1] != kind):
            kinds.append(kind)
    return kinds


async def test_a_waiting_caller_hears_the_greeting_the_music_and_its_place(
    media_server: Running, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN) as http:
        for name, tone, seconds in (("greet", GREETING, 2.0), ("tune", MUSIC, 5.0)):
            wav = write_tone(tmp_path / f"{name}.wav", tone, seconds=seconds, rate=8000)
            r = await http.put(f"/api/sounds/{name}", content=wav.read_bytes())
            assert r.status_code == 200, r.text
        fields = {"greeting": "greet", "music": "tune", "announce_every": 5, "language": "en"}
        r = await http.patch("/api/queues/1", json=fields)
        assert r.status_code == 200 and r.json()["greeting"] == "greet", r.text
        r = await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420777000111", "audio": "tone:440"}
        )
        uid = r.json()["uniqueid"]
        async with asyncio.timeout(40):
            while True:  # nobody is logged in: the caller waits, and listens
                heard, rate = read_wav((await http.get(f"/api/sim/calls/{uid}/heard")).content)
                if len(heard) >= 9.5 * rate:
                    break
                await asyncio.sleep(0.2)
        kinds = _kinds(heard, rate)
        assert kinds[:4] == ["greeting", "music", "speech", "music"], kinds


def _sounds(samples: Any, rate: int) -> list[str]:
    """What was heard, in order, silences left out (a prompt may take a moment to make)."""
    kinds = [k for k in _kinds(samples, rate) if k != "silence"]
    return [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]


async def _heard_for(http: httpx.AsyncClient, uid: str, seconds: float) -> tuple[Any, int]:
    """What the caller heard, once it has heard ``seconds`` of it."""
    async with asyncio.timeout(60):
        while True:
            heard, rate = read_wav((await http.get(f"/api/sim/calls/{uid}/heard")).content)
            if len(heard) >= seconds * rate:
                return heard, rate
            await asyncio.sleep(0.2)


async def test_a_waiting_caller_presses_1_hears_it_taken_and_keeps_its_place(
    media_server: Running, tmp_path: Path
) -> None:
    """CONTRACT §12: the queue offers a callback (spoken), the caller presses 1 (DTMF), hears
    the confirmation instead of the music, the server hangs up, and the request waits in the
    caller's place, ahead of a caller who came after."""
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN) as http:
        wav = write_tone(tmp_path / "tune.wav", MUSIC, seconds=5.0, rate=8000)
        assert (await http.put("/api/sounds/tune", content=wav.read_bytes())).status_code == 200
        fields = {"greeting": None, "music": "tune", "announce_every": 0, "callback_offer": True}
        r = await http.patch("/api/queues/1", json=fields)
        assert r.status_code == 200 and r.json()["callback_offer"] is True, r.text
        r = await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420777000111", "audio": "tone:440"}
        )
        uid = r.json()["uniqueid"]
        async with asyncio.timeout(60):  # the offer said (made by espeak-ng first), the music
            while True:
                if _sounds(*await _heard_for(http, uid, 4.0))[:2] == ["speech", "music"]:
                    break
                await asyncio.sleep(0.5)
        later = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420777000222"})
        r = await http.post(f"/api/sim/calls/{uid}/dtmf", json={"digits": "1"})
        assert r.status_code == 204, r.text
        async with asyncio.timeout(60):  # the server hangs up once the confirmation is said
            while True:
                if any(c["uniqueid"] == uid for c in (await http.get("/api/cdr")).json()):
                    break
                await asyncio.sleep(0.2)
        record = next(c for c in (await http.get("/api/cdr")).json() if c["uniqueid"] == uid)
        assert record["cause"] == 8 and record["connected"] is None
        heard, rate = read_wav((await http.get(f"/api/sim/calls/{uid}/heard")).content)
        kinds = _sounds(heard, rate)
        assert kinds == ["speech", "music", "speech"], kinds  # the confirmation, no music after
        center = media_server.server.center
        requests = [c for c in center.calls.values() if c.callback_to is not None]
        assert [c.callback_to.number for c in requests if c.callback_to] == ["+420777000111"]
        waiting = center.calls[later.json()["uniqueid"]]
        assert center.distributor.place(requests[0]) == 1 and center.distributor.place(waiting) == 2


async def test_queue_sound_fields_are_checked_and_kept(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        before = (await http.get("/api/queues/1")).json()
        assert before["greeting"] == "welcome" and before["music"] == "music"
        assert before["announce_every"] == 20 and before["language"] == "en"
        for bad in (
            {"language": "de"},
            {"greeting": "Bad Name"},
            {"music": ""},
            {"announce_every": -1},
            {"announce_every": None},
            {"announce_wait": "often"},
            {"language": None},
        ):
            r = await http.patch("/api/queues/1", json=bad)
            assert r.status_code == 422, (bad, r.text)
        assert (await http.get("/api/queues/1")).json() == before
        r = await http.patch(
            "/api/queues/1", json={"greeting": None, "announce_wait": True, "language": "cs"}
        )
        assert r.status_code == 200, r.text
        queue = running.server.center.directory.queues[1]  # type: ignore[index]
        assert queue.greeting is None and queue.announce_wait and queue.language == "cs"
        r = await http.post("/api/queues", json={"name": "Quiet"})
        assert r.json()["announce_every"] == 0 and r.json()["greeting"] is None


async def _ucs(*args: str) -> tuple[int, str]:
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
    return result.exit_code, result.output


async def test_queue_sound_fields_over_the_cli(running: Running) -> None:
    url = ["--url", running.url, "--token", DEMO_ADMIN_TOKEN]
    code, out = await _ucs(
        "queue", "set", "1", "--greeting", "", "--music", "music", "--announce-every", "30",
        "--announce-wait", "--language", "cs", *url,
    )  # fmt: skip
    assert code == 0, out
    code, out = await _ucs("queue", "add", "Night", "--greeting", "welcome", "--music", "x", *url)
    assert code == 0, out
    code, out = await _ucs("queue", "list", *url)
    assert code == 0, out  # (the table is cut to the terminal: its content is checked below)
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        support = (await http.get("/api/queues/1")).json()
        night = (await http.get("/api/queues/4")).json()
    assert support["greeting"] is None and support["music"] == "music"
    assert support["announce_every"] == 30 and support["announce_wait"] is True
    assert support["language"] == "cs"
    assert night["greeting"] == "welcome" and night["music"] == "x"
    code, out = await _ucs("queue", "set", "1", "--language", "de", *url)
    assert code != 0
