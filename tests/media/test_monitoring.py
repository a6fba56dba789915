"""A supervisor's listen and barge with real audio (CONTRACT §11): Chromium as the agent
(1 kHz), a second Chromium as the supervisor (1.7 kHz), a simulated caller saying 440 Hz, Janus
between them. Listening hears both sides and is heard by nobody; barging is heard by both; the
mode changes on the same connection; whispering is heard by the agent alone (a second
connection of each browser); the supervisor's hang-up leaves the call going on."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.browser.helpers import open_page
from tests.media.audio import (
    TONE_DBFS,
    TONE_SHARE,
    band_share,
    level_dbfs,
    stretch,
    write_tone,
)
from tests.media.conftest import AGENT_TONE, HAVE_CHROMIUM, SOFTPHONE_ARGS
from tests.media.helpers import (
    ADMIN,
    HEARD_IN_BROWSER,
    ON_SOFTPHONE,
    caller_heard,
    operator,
    request,
)
from tests.server.conftest import Running

pytestmark = pytest.mark.anyio

CALLER_TONE = 440.0
SUPERVISOR_TONE = 1700.0
TRIES = 4
"""Fresh measurements a change of mode gets before the test fails (a loaded machine mixes late)."""
MIXED = 0.2
"""Share of each of two tones heard at once (together above ``TONE_SHARE``)."""


@pytest.fixture
async def supervisor_browser(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Chromium whose fake microphone says 1.7 kHz (the supervisor's voice)."""
    from playwright.async_api import async_playwright

    from tests.browser.conftest import ARGS, CHROMIUM, Watched

    if not HAVE_CHROMIUM:
        pytest.skip("chromium is not installed")
    mic = write_tone(tmp_path / "supervisor-1700hz.wav", SUPERVISOR_TONE)
    args = [*ARGS, *SOFTPHONE_ARGS, f"--use-file-for-fake-audio-capture={mic}"]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield Watched(browser, request.node)
        await browser.close()


async def _browser_heard(page: Any, uid: str) -> tuple[Any, int]:
    got = await page.evaluate(HEARD_IN_BROWSER, uid)
    samples = np.asarray(got["samples"], dtype=np.float64)
    return stretch(samples, got["rate"], -1.5, 1.5), int(got["rate"])


async def _hears(
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


def _both(samples: Any, rate: int, one: float, other: float) -> None:
    """Two tones heard at once."""
    first, second = band_share(samples, rate, one), band_share(samples, rate, other)
    assert first > MIXED and second > MIXED, (first, second)
    assert first + second > TONE_SHARE
    assert level_dbfs(samples) > TONE_DBFS


async def test_a_supervisor_listens_barges_in_whispers_and_hangs_up(
    softphone_browser: Any,
    supervisor_browser: Any,
    crm: tuple[Path, str],
    media_server: Running,
) -> None:
    agent = await open_page(
        softphone_browser, crm, media_server, headless=False, extra="audioProcessing: false,"
    )
    await agent.evaluate(ON_SOFTPHONE, ["agent1", "agent1-pass"])
    boss = await open_page(
        supervisor_browser, crm, media_server, headless=False, extra="audioProcessing: false,"
    )
    await boss.evaluate(ON_SOFTPHONE, ["supervisor", "supervisor-pass"])
    agent1 = media_server.server.center.directory.agent_by_username("agent1")
    assert agent1 is not None
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        r = await http.post(
            "/api/sim/calls",
            json={"queue": 1, "from": "+420777123456", "audio": f"tone:{CALLER_TONE:g}"},
        )
        uid = r.json()["uniqueid"]
        await agent.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
        await agent.evaluate("window.ucsOperator.answer()")
        await agent.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
        )

        # Listen: the supervisor hears the caller and the agent; nobody hears the supervisor.
        watching = await boss.evaluate(f"window.ucsOperator.listen({agent1.id})")
        assert watching == {"uniqueid": uid, "userId": agent1.id, "mode": "listen"}
        await boss.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
        )
        boss_hears = lambda: _browser_heard(boss, uid)  # noqa: E731
        agent_hears = lambda: _browser_heard(agent, uid)  # noqa: E731
        caller_hears = lambda: caller_heard(http, uid)  # noqa: E731
        await _hears(boss_hears, (CALLER_TONE, AGENT_TONE))
        await _hears(caller_hears, (AGENT_TONE,), without=(SUPERVISOR_TONE,))
        await _hears(agent_hears, (CALLER_TONE,), without=(SUPERVISOR_TONE,))

        # Barge: both hear the supervisor, on the same connection.
        changed = await boss.evaluate(f"window.ucsOperator.barge({agent1.id})")
        assert changed["mode"] == "barge"
        await _hears(caller_hears, (AGENT_TONE, SUPERVISOR_TONE))
        await _hears(agent_hears, (CALLER_TONE, SUPERVISOR_TONE))
        assert await boss.evaluate("window.ucsOperator.__ucs.softphone.calls.size") == 1

        # Whisper: the agent hears the supervisor (a second connection), the caller does not.
        changed = await boss.evaluate(f"window.ucsOperator.whisper({agent1.id})")
        assert changed["mode"] == "whisper"
        coach = f"{uid}#coach"
        await agent.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{coach}') !== null", timeout=20000
        )
        await _hears(lambda: _browser_heard(agent, coach), (SUPERVISOR_TONE,))
        await _hears(caller_hears, (AGENT_TONE,), without=(SUPERVISOR_TONE,))
        await _hears(agent_hears, (CALLER_TONE,), without=(SUPERVISOR_TONE,))
        await _hears(boss_hears, (CALLER_TONE, AGENT_TONE))  # still hears both sides

        # Back to listening: the supervisor is heard by nobody again.
        await boss.evaluate(f"window.ucsOperator.listen({agent1.id})")
        await agent.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{coach}') === null"
        )
        await _hears(caller_hears, (AGENT_TONE,), without=(SUPERVISOR_TONE,))

        # The supervisor hangs up: the call goes on, the two still hear each other.
        await boss.evaluate("window.ucsOperator.hangup()")
        await boss.wait_for_function(f"window.ucsOperator.__ucs.softphone.remote('{uid}') === null")
        assert media_server.server.center.calls[uid].state == 3
        await _hears(caller_hears, (AGENT_TONE,))
        await _hears(agent_hears, (CALLER_TONE,))
        await agent.evaluate("window.ucsOperator.hangup()")


async def test_monitoring_refusals(media_server: Running) -> None:
    """NOT_FOUND without a connected call, FORBIDDEN outside the team or for an agent,
    MEDIA_UNAVAILABLE without the supervisor's softphone; nothing changes."""
    agent = await operator(media_server)
    await request(agent, "1", "login", "agent1", "agent1-pass")
    await request(agent, "2", "selectIdentifier", "softphone")
    await request(agent, "3", "provision")
    await request(agent, "4", "changeStatus", "READY")
    boss = await operator(media_server)
    await request(boss, "1", "login", "supervisor", "supervisor-pass")
    await request(boss, "2", "selectIdentifier", "phone4")
    await request(boss, "3", "provision")
    center = media_server.server.center
    agent1 = center.directory.agent_by_username("agent1")
    assert agent1 is not None
    assert (await request(boss, "4", "listen", agent1.id))["code"] == "NOT_FOUND"
    assert (await request(boss, "5", "barge", 9999))["code"] == "NOT_FOUND"
    assert (await request(agent, "5", "listen", 4))["code"] == "FORBIDDEN"  # no supervisor
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420777111222", "audio": "tone:440"}
        )
    tries = itertools.count()
    async with asyncio.timeout(10):  # once the call rings
        while (await request(agent, f"a{next(tries)}", "answer")).get("code"):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    async with asyncio.timeout(10):
        while not any(c.state == 3 for c in center.calls.values()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    # On a desk phone the supervisor hears nothing: the softphone is needed.
    assert (await request(boss, "6", "listen", agent1.id))["code"] == "MEDIA_UNAVAILABLE"
    assert center.monitors == {}
    await request(boss, "7", "identify")
    await request(boss, "8", "selectIdentifier", "softphone")
    await request(boss, "9", "provision")
    whispered = await request(boss, "10", "whisper", agent1.id)
    assert whispered["result"]["mode"] == "whisper"
    listened = await request(boss, "11", "listen", agent1.id)
    assert listened["result"]["mode"] == "listen"
    assert center.monitors[center.directory.agent_by_username("supervisor").id].mode == "listen"  # type: ignore[union-attr]
    await request(agent, "6", "hangup")  # the call ends: so does the listening
    assert center.monitors == {}
    await agent.close()
    await boss.close()
