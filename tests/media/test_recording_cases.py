"""Recording's harder cases with real audio (CONTRACT §10, docs/media.md "Recording"): a
server without the tools that make recordings, a call held while it is recorded, and a call
transferred while it is recorded."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.helpers import open_page
from tests.media.audio import (
    SILENCE_DBFS,
    assert_tone,
    assert_two_sides,
    channels,
    level_dbfs,
    loudest_hz,
    stretch,
    write_tone,
)
from tests.media.conftest import AGENT_TONE, Netns, media_serving
from tests.media.helpers import (
    ADMIN,
    CALLER_TONE,
    ON_SOFTPHONE,
    caller_heard,
    operator,
    request,
    ring_and_answer,
    set_recording,
)
from tests.server.conftest import Running

pytestmark = pytest.mark.anyio

MUSIC_TONE = 600.0
STRETCH = 3.0
"""Seconds each stretch of a test (talking, held, talking again) lasts."""
REFUSAL = "(method) => window.ucsOperator[method]().then(() => 'resolved', (e) => e.code)"


# --- a server that cannot make recordings -------------------------------------------------


def _path_without_recording_tools(folder: Path) -> str:
    """A folder for PATH with what the media plane runs (Janus, the namespace's ``ip``,
    ``setpriv``) and none of ``janus-pp-rec``, ``opusdec`` and ``sox``."""
    folder.mkdir()
    for tool in ("janus", "ip", "setpriv"):
        found = shutil.which(tool)
        if found is not None:
            (folder / tool).symlink_to(found)
    return str(folder)


async def test_a_server_without_the_recording_tools_records_nothing_and_says_so(
    tmp_path: Path,
    netns: Netns,
    default_sounds: Path,
    softphone_browser: Any,
    crm: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Decided once, at the start: the softphone and the call's audio work, ``always`` does
    not claim the call recorded (a warning, ``ucs_calls_unrecorded``), ``startRecording()``
    is ``MEDIA_UNAVAILABLE`` and no recording or part of one is left."""
    monkeypatch.setenv("PATH", _path_without_recording_tools(tmp_path / "bin"))
    caplog.set_level(logging.WARNING, logger="ucs.media")
    async with media_serving(tmp_path, netns, default_sounds) as server:
        assert server.server.media.can_record is False
        assert any("cannot be recorded" in r.getMessage() for r in caplog.records)
        page = await open_page(
            softphone_browser, crm, server, headless=False, extra="audioProcessing: false,"
        )
        await page.evaluate(ON_SOFTPHONE, ["agent1", "agent1-pass"])
        async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30) as http:
            await set_recording(http, 1, "always")
            uid = await ring_and_answer(page, http)
            # The call has its audio: the caller hears the agent's microphone.
            samples, rate = await caller_heard(http, uid)
            assert_tone(samples, rate, AGENT_TONE)
            call = await page.evaluate("window.ucsOperator.state()")
            assert call["call"]["recorded"] is False
            assert await page.evaluate(REFUSAL, "startRecording") == "MEDIA_UNAVAILABLE"
            assert server.server.center.calls[uid].recorded is False  # type: ignore[index]
            assert any(
                uid in r.getMessage() and "not recorded" in r.getMessage() for r in caplog.records
            )
            metrics = (await http.get("/metrics")).text
            assert 'ucs_calls_unrecorded_total{name="Support",queue="1",reason="no_tools"} 1.0' in (
                metrics
            )
            await page.evaluate("window.ucsOperator.hangup()")
            async with asyncio.timeout(10):
                while True:
                    r = await http.get("/api/cdr", params={"limit": 10})
                    done = [c for c in r.json() if c["uniqueid"] == uid and c["cause"] >= 0]
                    if done:
                        break
                    await asyncio.sleep(0.1)
            assert done[0]["recorded"] is False
            assert (await http.get("/api/recordings")).json() == []
            assert (await http.get(f"/api/recordings/{uid}")).status_code == 404
            folder = server.server.media.recorder.folder
            assert not (folder / ".parts" / uid).exists()
            assert not (folder / f"{uid}.wav").exists()


# --- a call held while it is recorded -----------------------------------------------------


async def recording_of(http: httpx.AsyncClient, uid: str) -> tuple[bytes, dict[str, Any]]:
    """The call's WAV (the server waits while it is being made) and its entry in the list."""
    r = await http.get(f"/api/recordings/{uid}")
    assert r.status_code == 200, r.text
    listed = (await http.get("/api/recordings")).json()
    return r.content, next(x for x in listed if x["uniqueid"] == uid)


async def test_a_held_stretch_is_silent_in_the_recording(
    tmp_path: Path, softphone_browser: Any, crm: tuple[Path, str], media_server: Running
) -> None:
    """Held, the caller hears the music and neither side is recorded (what the caller says
    meanwhile is not for the agent, and the music is nobody's speech): both channels are
    silent for the held stretch, and both sides are recorded again after ``unhold()``."""
    page = await open_page(
        softphone_browser, crm, media_server, headless=False, extra="audioProcessing: false,"
    )
    await page.evaluate(ON_SOFTPHONE, ["agent1", "agent1-pass"])
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        music = write_tone(tmp_path / "music.wav", MUSIC_TONE, seconds=5.0, rate=8000)
        assert (await http.put("/api/sounds/music", content=music.read_bytes())).status_code == 200
        await set_recording(http, 1, "always")
        uid = await ring_and_answer(page, http)
        talking = time.time()
        await asyncio.sleep(STRETCH)
        holding = time.time()
        held = await page.evaluate("window.ucsOperator.hold()")
        assert held["state"] == 5 and held["recorded"] is True
        samples, rate = await caller_heard(http, uid)  # the caller hears the music
        assert_tone(samples, rate, MUSIC_TONE)
        await asyncio.sleep(max(0.0, holding + STRETCH - time.time()))
        unholding = time.time()
        await page.evaluate("window.ucsOperator.unhold()")
        samples, rate = await caller_heard(http, uid)  # and the agent again
        assert_tone(samples, rate, AGENT_TONE)
        await asyncio.sleep(max(0.0, unholding + STRETCH - time.time()))
        ending = time.time()
        await page.evaluate("window.ucsOperator.hangup()")
        data, entry = await recording_of(http, uid)

    left, right, rate = channels(data)
    start = entry["start"]
    assert ending - start - 1.5 < len(left) / rate < ending - start + 1.5  # the hold is in it
    before = (talking - start + 0.5, holding - talking - 1.0)
    on_hold = (holding - start + 1.0, unholding - holding - 1.5)
    after = (unholding - start + 1.5, ending - unholding - 2.0)
    assert_two_sides(left, right, rate, [before, after], [on_hold], CALLER_TONE, AGENT_TONE)


# --- a call transferred while it is recorded ----------------------------------------------


async def state_of(ws: Any, state: int) -> dict[str, Any]:
    """The call in focus of the agent of ``ws`` (an operator connection), once in ``state``."""
    async with asyncio.timeout(15):
        while True:
            call = (await request(ws, f"s{time.monotonic_ns()}", "state"))["result"]["call"]
            if call is not None and call["state"] == state:
                return dict(call)
            await asyncio.sleep(0.05)


async def test_a_transferred_calls_recording_names_every_agent_and_stays_its_queues(
    tmp_path: Path, softphone_browser: Any, crm: tuple[Path, str], media_server: Running
) -> None:
    """agent1 (softphone, 1 kHz) answers a Support caller (440 Hz) recorded ``always`` and
    hands it over to agent3 (Sales only, a desk phone) by an attended transfer: one
    recording, the caller left throughout, agent1 right until the consultation, nothing
    while the caller waited (hold music), the caller again after the transfer and agent1 no
    more; listed for both agents; Support's supervisor may have it, Sales' may not."""
    page = await open_page(
        softphone_browser, crm, media_server, headless=False, extra="audioProcessing: false,"
    )
    await page.evaluate(ON_SOFTPHONE, ["agent1", "agent1-pass"])
    colleague = await operator(media_server)
    await request(colleague, "1", "login", "agent3", "agent3-pass")
    await request(colleague, "2", "selectIdentifier", "phone3")
    await request(colleague, "3", "provision")
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        music = write_tone(tmp_path / "music.wav", MUSIC_TONE, seconds=5.0, rate=8000)
        assert (await http.put("/api/sounds/music", content=music.read_bytes())).status_code == 200
        await set_recording(http, 1, "always")
        for queue in (1, 2):
            body = {
                "username": f"sup{queue}",
                "password": f"sup{queue}-password",
                "memberships": [{"queue": queue, "supervisor": True}],
            }
            assert (await http.post("/api/agents", json=body)).status_code in (200, 201)
        uid = await ring_and_answer(page, http)
        talking = time.time()
        await asyncio.sleep(STRETCH)
        consulting = time.time()
        await page.evaluate("window.ucsOperator.transfer('1003')")  # agent3's desk phone
        await state_of(colleague, 2)
        await request(colleague, "4", "answer")
        await state_of(colleague, 3)
        await asyncio.sleep(1.0)
        await page.evaluate("window.ucsOperator.finishTransfer()")
        taken = await state_of(colleague, 3)
        transferred = time.time()
        assert taken["uniqueid"] == uid and taken["recorded"] is True
        # The caller hears neither the hold music nor agent1 any more (agent3's desk phone
        # has no audio here).
        samples, rate = await caller_heard(http, uid)
        heard = (level_dbfs(samples), loudest_hz(samples, rate))  # (music 600 Hz, agent1 1 kHz)
        assert heard[0] < SILENCE_DBFS, heard
        await asyncio.sleep(max(0.0, transferred + STRETCH - time.time()))
        ending = time.time()
        await request(colleague, "5", "hangup")
        data, entry = await recording_of(http, uid)
        assert entry["agent"] == "agent1" and entry["agents"] == ["agent1", "agent3"]
        assert entry["queue"] == 1
        for who in ("agent1", "agent3"):
            listed = (await http.get("/api/recordings", params={"agent": who})).json()
            assert [x["uniqueid"] for x in listed] == [uid], who
        assert (await http.get("/api/recordings", params={"agent": "agent2"})).json() == []
        assert (await http.get("/api/recordings", params={"agent": "agent"})).json() == []
    await colleague.close()

    tokens = {}
    for name in ("sup1", "sup2"):
        ws = await operator(media_server)
        login = await request(ws, "1", "login", name, f"{name}-password")
        tokens[name] = {"Authorization": f"Bearer {login['result']['token']}"}
        await ws.close()
    async with httpx.AsyncClient(base_url=media_server.url, timeout=30) as http:
        r = await http.get(f"/api/recordings/{uid}", headers=tokens["sup1"])
        assert r.status_code == 200 and r.content == data
        listed = (await http.get("/api/recordings", headers=tokens["sup1"])).json()
        assert [x["uniqueid"] for x in listed] == [uid]
        # Sales' supervisor: agent3 is theirs, the call is Support's.
        assert (await http.get(f"/api/recordings/{uid}", headers=tokens["sup2"])).status_code == 404
        assert (await http.get("/api/recordings", headers=tokens["sup2"])).json() == []

    left, right, rate = channels(data)
    start = entry["start"]
    before = (talking - start + 0.5, consulting - talking - 1.0)
    waiting = (consulting - start + 1.0, transferred - consulting - 2.0)
    after = (transferred - start + 1.5, ending - transferred - 2.0)
    assert_tone(stretch(left, rate, *before), rate, CALLER_TONE)
    assert_tone(stretch(right, rate, *before), rate, AGENT_TONE)
    assert level_dbfs(stretch(left, rate, *waiting)) < SILENCE_DBFS
    assert level_dbfs(stretch(right, rate, *waiting)) < SILENCE_DBFS
    assert_tone(stretch(left, rate, *after), rate, CALLER_TONE)
    assert level_dbfs(stretch(right, rate, *after)) < SILENCE_DBFS  # agent1 is gone
