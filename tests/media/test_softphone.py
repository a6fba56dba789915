"""The browser softphone with the simulated switch, with real audio (CONTRACT §10): Chromium
with a fake microphone (1 kHz) as the agent, a simulated caller saying 440 Hz, Janus between
them. What each side heard is measured by frequency (``tests/media/audio.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.browser.helpers import goto, open_page
from tests.media.audio import (
    SILENCE_DBFS,
    TONE_DBFS,
    TONE_SHARE,
    band_share,
    level_dbfs,
    read_wav,
    stretch,
    write_tone,
)
from tests.media.conftest import AGENT_TONE
from tests.media.helpers import HEARD_IN_BROWSER
from tests.server.conftest import Running
from ucs.demo import DEMO_ADMIN_TOKEN

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}
CALLER_TONE = 440.0
MUSIC_TONE = 600.0

READY = """(async () => {
  await window.ucsOperator.login('agent1', 'agent1-pass');
  const identifier = await window.ucsOperator.selectIdentifier('softphone');
  await window.ucsOperator.provision();
  await window.ucsOperator.changeStatus('READY');
  return identifier;
})()"""


def _array(recorded: dict[str, Any]) -> Any:
    return np.asarray(recorded["samples"], dtype=np.float64)


async def _heard(http: httpx.AsyncClient, uid: str) -> tuple[Any, int]:
    r = await http.get(f"/api/sim/calls/{uid}/heard")
    assert r.status_code == 200, r.text
    return read_wav(r.content)


async def _more_heard(http: httpx.AsyncClient, uid: str, seconds: float) -> tuple[Any, int]:
    """What the caller heard, once ``seconds`` more of it have arrived."""
    start, rate = await _heard(http, uid)
    async with asyncio.timeout(seconds * 3 + 10):
        while True:
            samples, rate = await _heard(http, uid)
            if len(samples) - len(start) >= seconds * rate:
                return samples, rate
            await asyncio.sleep(0.1)


async def test_a_caller_and_an_agent_on_the_softphone_hear_each_other(
    softphone_browser: Any, crm: tuple[Path, str], media_server: Running, tmp_path: Path
) -> None:
    page = await open_page(
        softphone_browser, crm, media_server, headless=False, extra="audioProcessing: false,"
    )
    assert await page.evaluate(READY) == "softphone"
    state = await page.evaluate("window.ucsOperator.state()")
    assert state["identifier"] == "softphone" and state["state"] == "READY"
    # The panel names the microphone and shows its level moving with the fake tone.
    assert await page.locator("[data-microphone]").inner_text() != "—"
    await page.wait_for_function(
        "(() => { const host = document.querySelector('ucs-operator');"
        " const m = host && host.shadowRoot.querySelector('[data-level]');"
        " return m && m.value > 0.05; })()"
    )

    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN) as http:
        music = write_tone(tmp_path / "music.wav", MUSIC_TONE, seconds=5.0, rate=8000)
        r = await http.put("/api/sounds/music", content=music.read_bytes())
        assert r.status_code == 200, r.text
        r = await http.post(
            "/api/sim/calls",
            json={"queue": 1, "from": "+420777123456", "audio": f"tone:{CALLER_TONE:g}"},
        )
        assert r.status_code == 201, r.text
        uid = r.json()["uniqueid"]
        await page.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
        call = await page.evaluate("window.ucsOperator.answer()")
        assert call["uniqueid"] == uid
        assert call["connected_channel"].startswith("WebRTC/agent1-")
        await page.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
        )

        # The agent hears the caller's 440 Hz.
        got = await page.evaluate(HEARD_IN_BROWSER, uid)
        played = stretch(_array(got), got["rate"], -1.5, 1.5)
        assert band_share(played, got["rate"], CALLER_TONE) > TONE_SHARE
        assert level_dbfs(played) > TONE_DBFS

        # The caller hears the agent's 1 kHz.
        samples, rate = await _more_heard(http, uid, 2.0)
        spoken = stretch(samples, rate, -1.5, 1.5)
        assert band_share(spoken, rate, AGENT_TONE) > TONE_SHARE
        assert level_dbfs(spoken) > TONE_DBFS

        # Muted, the agent is not heard (whatever the browser still sends).
        muted = await page.evaluate("window.ucsOperator.mute()")
        assert muted["connected_muted"] is True
        samples, rate = await _more_heard(http, uid, 2.0)
        assert level_dbfs(stretch(samples, rate, -1.5, 1.5)) < SILENCE_DBFS
        unmuted = await page.evaluate("window.ucsOperator.mute()")
        assert unmuted["connected_muted"] is False

        # Held, the caller hears the music (here a 600 Hz tone) and the agent nothing.
        held = await page.evaluate("window.ucsOperator.hold()")
        assert held["state"] == 5
        samples, rate = await _more_heard(http, uid, 2.0)
        music = stretch(samples, rate, -1.5, 1.5)
        assert band_share(music, rate, MUSIC_TONE) > TONE_SHARE
        assert level_dbfs(music) > TONE_DBFS
        got = await page.evaluate(HEARD_IN_BROWSER, uid)
        assert level_dbfs(stretch(_array(got), got["rate"], -1.5, 1.5)) < SILENCE_DBFS

        # Taken back, they hear each other again.
        await page.evaluate("window.ucsOperator.unhold()")
        samples, rate = await _more_heard(http, uid, 2.0)
        assert band_share(stretch(samples, rate, -1.5, 1.5), rate, AGENT_TONE) > TONE_SHARE
        got = await page.evaluate(HEARD_IN_BROWSER, uid)
        assert band_share(stretch(_array(got), got["rate"], -1.5, 1.5), got["rate"], 440) > 0.8

        await page.evaluate("window.ucsOperator.hangup()")
        await page.wait_for_function("window.log.some(e => e[0] === 'onCallHangup')")
        assert await page.evaluate(f"window.ucsOperator.__ucs.softphone.remote('{uid}')") is None
        async with asyncio.timeout(5):
            while media_server.server.media.media.has_call(uid):  # noqa: ASYNC110
                await asyncio.sleep(0.02)


PHASE = "window.ucsOperator.__ucs.phase"


async def test_without_an_engine_the_softphone_is_media_unavailable(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, headless=False)
    code = await page.evaluate(
        """(async () => {
          await window.ucsOperator.login('agent1', 'agent1-pass');
          try { await window.ucsOperator.selectIdentifier('softphone'); return null; }
          catch (e) { return e.code; }
        })()"""
    )
    assert code == "MEDIA_UNAVAILABLE"
    assert await page.evaluate(PHASE) == "IDENTIFY"
    # The phone list offers this browser first all the same; desk phones still work.
    first = page.locator("[data-phone]").first
    assert await first.get_attribute("data-phone") == "softphone"
    assert await first.inner_text() == "This browser"
    assert await page.evaluate("window.ucsOperator.selectIdentifier('phone1')") == "phone1"


async def test_a_refused_microphone_is_media_unavailable_and_stays_in_device(
    browser: Any, crm: tuple[Path, str], media_server: Running
) -> None:
    page = await open_page(browser, crm, media_server)
    code = await page.evaluate(
        """(async () => {
          navigator.mediaDevices.getUserMedia = () =>
            Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
          await window.ucsOperator.login('agent1', 'agent1-pass');
          await window.ucsOperator.selectIdentifier('softphone');
          try { await window.ucsOperator.provision(); return null; }
          catch (e) { return e.code; }
        })()"""
    )
    assert code == "MEDIA_UNAVAILABLE"
    assert await page.evaluate(PHASE) == "DEVICE"
    agent = media_server.server.center.directory.agent_by_username("agent1")
    assert agent is not None
    assert media_server.server.center.sessions[agent.id].phase.value == "DEVICE"


async def test_the_demo_crm_rings_support_and_the_agent_hears_the_caller_speak(
    softphone_browser: Any, media_server: Running
) -> None:
    page = await softphone_browser.new_page(viewport={"width": 1280, "height": 1000})
    await goto(page, f"{media_server.url}/demo/crm/")
    await page.wait_for_function("typeof window.ucsOperator.sso === 'function'", timeout=60_000)
    await page.click("#sso")
    host = page.locator("ucs-operator")
    browser_phone = host.locator("button[data-phone]").first
    assert await browser_phone.inner_text() == "This browser"
    await browser_phone.click()
    await host.locator("button[data-confirm]").click()  # provision(): the microphone is asked
    await page.wait_for_function(f"{PHASE} === 'READY'")
    await page.click("#status-buttons button[data-status=READY]")
    await page.wait_for_function("document.getElementById('status-now').textContent === 'Ready'")
    await page.click("#ring-support")
    await page.locator("#screen-pop:not([hidden])").wait_for()
    await page.locator("#log >> text=the caller speaks").wait_for()
    uid = next(iter(media_server.server.center.calls))
    await host.locator("button[data-do=answer]").click()
    await page.wait_for_function(
        f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
    )
    got = await page.evaluate(HEARD_IN_BROWSER, uid)
    speech = stretch(_array(got), got["rate"], -2.0, 2.0)
    assert level_dbfs(speech) > -35  # the caller's sentence (or its pause: the window is 2 s)
    await host.locator("button[data-do=hangup]").click()
