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
    GREETING,
    MUSIC,
    heard_sounds,
    read_wav,
    write_tone,
)
from tests.server.conftest import Running
from ucs.cli import app
from ucs.demo import DEMO_ADMIN_TOKEN

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}


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
        kinds = heard_sounds(heard, rate)  # (a short silence between two is no matter)
        assert kinds[:4] == ["greeting", "music", "speech", "music"], kinds


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
                if heard_sounds(*await _heard_for(http, uid, 4.0))[:2] == ["speech", "music"]:
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
        kinds = heard_sounds(heard, rate)
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


async def test_callers_waiting_share_the_music_hear_no_one_else_and_talk_once_answered(
    softphone_browser: Any, crm: tuple[Path, str], media_server: Running, tmp_path: Path
) -> None:
    """Callers waiting with the same music wait in one room of the engine that plays it
    (mixed once for all, docs/media.md), muted there: each hears the music and not the
    others; answered, a caller is back in its call's room, heard by the agent and hearing
    them (the agent's softphone, 1 kHz)."""
    from tests.browser.helpers import open_page
    from tests.media.conftest import AGENT_TONE
    from tests.media.helpers import ON_SOFTPHONE, browser_heard, caller_heard, hear_all
    from ucs.media.janus import JanusMedia

    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN) as http:
        wav = write_tone(tmp_path / "tune.wav", MUSIC, seconds=5.0, rate=8000)
        assert (await http.put("/api/sounds/tune", content=wav.read_bytes())).status_code == 200
        fields = {"greeting": None, "music": "tune", "announce_every": 0}
        assert (await http.patch("/api/queues/1", json=fields)).status_code == 200
        tones = (440.0, 1500.0)
        uids = []
        for tone in tones:
            body = {"queue": 1, "from": "+420777000111", "audio": f"tone:{tone:g}"}
            uids.append((await http.post("/api/sim/calls", json=body)).json()["uniqueid"])
        await hear_all(
            *((lambda u=u: caller_heard(http, u), (MUSIC,), tones) for u in uids)  # type: ignore[misc]
        )
        janus = media_server.server.media.media
        assert isinstance(janus, JanusMedia)
        assert len(janus._music) == 1  # one room plays the tune to both
        assert janus.client is not None and janus._manager is not None
        listed, _ = await janus.client.message(janus._manager, {"request": "list"})
        rooms = [int(r["room"]) for r in listed["list"]]
        assert rooms == list(janus._music.values())  # and their own rooms, empty, are gone

        page = await open_page(
            softphone_browser, crm, media_server, headless=False, extra="audioProcessing: false,"
        )
        await page.evaluate(ON_SOFTPHONE, ["agent1", "agent1-pass"])
        await page.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
        uid = (await page.evaluate("window.ucsOperator.answer()"))["uniqueid"]
        await page.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
        )
        other = next(u for u in uids if u != uid)
        said = tones[uids.index(uid)]
        await hear_all(
            (lambda: browser_heard(page, uid), (said,)),
            (lambda: caller_heard(http, uid), (AGENT_TONE,), (MUSIC,)),
            (lambda: caller_heard(http, other), (MUSIC,), tones),
        )
        listed, _ = await janus.client.message(janus._manager, {"request": "list"})
        assert len(listed["list"]) == 2  # the music's, and the answered call's made again
