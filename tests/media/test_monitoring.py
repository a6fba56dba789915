"""A supervisor's listen and barge with real audio (CONTRACT §11): Chromium as the agent
(1 kHz), a second Chromium as the supervisor (1.7 kHz), a simulated caller saying 440 Hz, Janus
between them. Listening hears both sides and is heard by nobody; barging is heard by both; the
mode changes on the same connection; whispering is heard by the agent alone (a second
connection of each browser); the supervisor's hang-up leaves the call going on."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.helpers import open_page
from tests.media.conftest import AGENT_TONE, SUPERVISOR_TONE
from tests.media.helpers import (
    ADMIN,
    CALLER_TONE,
    ON_SOFTPHONE,
    browser_heard,
    caller_heard,
    hear_all,
    hears,
    operator,
    request,
    ring_and_answer,
)
from tests.server.conftest import Running

pytestmark = pytest.mark.anyio


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
        uid = await ring_and_answer(agent, http)

        # Listen: the supervisor hears the caller and the agent; nobody hears the supervisor.
        watching = await boss.evaluate(f"window.ucsOperator.listen({agent1.id})")
        assert watching == {"uniqueid": uid, "userId": agent1.id, "mode": "listen"}
        await boss.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
        )
        boss_hears = lambda: browser_heard(boss, uid)  # noqa: E731
        agent_hears = lambda: browser_heard(agent, uid)  # noqa: E731
        caller_hears = lambda: caller_heard(http, uid)  # noqa: E731
        await hear_all(
            (boss_hears, (CALLER_TONE, AGENT_TONE)),
            (caller_hears, (AGENT_TONE,), (SUPERVISOR_TONE,)),
            (agent_hears, (CALLER_TONE,), (SUPERVISOR_TONE,)),
        )

        # Barge: both hear the supervisor, on the same connection.
        changed = await boss.evaluate(f"window.ucsOperator.barge({agent1.id})")
        assert changed["mode"] == "barge"
        await hear_all(
            (caller_hears, (AGENT_TONE, SUPERVISOR_TONE)),
            (agent_hears, (CALLER_TONE, SUPERVISOR_TONE)),
        )
        assert await boss.evaluate("window.ucsOperator.__ucs.softphone.calls.size") == 1

        # Whisper: the agent hears the supervisor (a second connection), the caller does not.
        changed = await boss.evaluate(f"window.ucsOperator.whisper({agent1.id})")
        assert changed["mode"] == "whisper"
        coach = f"{uid}#coach"
        await agent.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{coach}') !== null", timeout=20000
        )
        await hear_all(
            (lambda: browser_heard(agent, coach), (SUPERVISOR_TONE,)),
            (caller_hears, (AGENT_TONE,), (SUPERVISOR_TONE,)),
            (agent_hears, (CALLER_TONE,), (SUPERVISOR_TONE,)),
        )
        await hears(boss_hears, (CALLER_TONE, AGENT_TONE))  # still hears both sides

        # Back to listening: the supervisor is heard by nobody again.
        await boss.evaluate(f"window.ucsOperator.listen({agent1.id})")
        await agent.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{coach}') === null"
        )
        await hears(caller_hears, (AGENT_TONE,), without=(SUPERVISOR_TONE,))

        # The supervisor hangs up: the call goes on, the two still hear each other.
        await boss.evaluate("window.ucsOperator.hangup()")
        await boss.wait_for_function(f"window.ucsOperator.__ucs.softphone.remote('{uid}') === null")
        assert media_server.server.center.calls[uid].state == 3
        await hear_all(
            (caller_hears, (AGENT_TONE,)),
            (agent_hears, (CALLER_TONE,)),
        )
        await agent.evaluate("window.ucsOperator.hangup()")


async def test_a_reloaded_supervisor_tab_shows_the_monitoring_and_hears_it_again(
    softphone_browser: Any,
    supervisor_browser: Any,
    crm: tuple[Path, str],
    media_server: Running,
) -> None:
    """A supervisor listening reloads the tab (logged in with ``login(..., true)`` and
    ``autologin``): the session snapshot says the listening, the Team tab shows it (the
    mode pressed, the bar to stop it), the tab hears both sides again, still unheard, and its
    stop button (``hangup()``) ends it while the call goes on."""
    agent = await open_page(
        softphone_browser, crm, media_server, headless=False, extra="audioProcessing: false,"
    )
    await agent.evaluate(ON_SOFTPHONE, ["agent1", "agent1-pass"])
    boss = await open_page(
        supervisor_browser,
        crm,
        media_server,
        headless=False,
        extra="audioProcessing: false, autologin: true,",
    )
    await boss.evaluate(REMEMBERED_ON_SOFTPHONE, ["supervisor", "supervisor-pass"])
    center = media_server.server.center
    agent1 = center.directory.agent_by_username("agent1")
    supervisor = center.directory.agent_by_username("supervisor")
    assert agent1 is not None and supervisor is not None
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        uid = await ring_and_answer(agent, http)
        await boss.evaluate(f"window.ucsOperator.listen({agent1.id})")
        await boss.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
        )

        await boss.reload()
        await boss.wait_for_function(
            "window.ucsOperator.__ucs && window.ucsOperator.__ucs.phase === 'READY'",
            timeout=60_000,
        )
        watching = await boss.evaluate("window.ucsOperator.__ucs.monitoring")
        assert watching == {"uniqueid": uid, "userId": agent1.id, "mode": "listen"}
        await boss.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{uid}') !== null", timeout=20000
        )
        caller_hears = lambda: caller_heard(http, uid)  # noqa: E731
        await hear_all(
            (lambda: browser_heard(boss, uid), (CALLER_TONE, AGENT_TONE)),
            (caller_hears, (AGENT_TONE,), (SUPERVISOR_TONE,)),
            (lambda: browser_heard(agent, uid), (CALLER_TONE,), (SUPERVISOR_TONE,)),
        )

        ui = boss.locator("ucs-operator")
        await ui.locator("[data-tab='team']").click()
        await ui.locator("[data-monitoring='listen']").wait_for()
        pressed = ui.locator(f"button[data-monitor][data-user='{agent1.id}'][aria-pressed='true']")
        assert await pressed.get_attribute("data-monitor") == "listen"
        await ui.locator("button[data-monitor-end]").click()
        await boss.wait_for_function(f"window.ucsOperator.__ucs.softphone.remote('{uid}') === null")
        assert await boss.evaluate("window.ucsOperator.__ucs.monitoring") is None
        assert supervisor.id not in center.monitors
        assert center.calls[uid].state == 3  # the agent's call goes on
        await hears(caller_hears, (AGENT_TONE,))
        await agent.evaluate("window.ucsOperator.hangup()")


REMEMBERED_ON_SOFTPHONE = ON_SOFTPHONE.replace(
    "login(username, password)", "login(username, password, true)"
)
"""``ON_SOFTPHONE`` with the login remembered (``autologin`` logs in with it after a reload)."""


async def test_a_reloaded_agent_tab_hears_the_call_and_the_whisper_again(
    softphone_browser: Any,
    supervisor_browser: Any,
    crm: tuple[Path, str],
    media_server: Running,
) -> None:
    """The agent's tab that plays the call reloads while the supervisor whispers: logged in
    again (``autologin``), it plays the call again and opens the coach connection again (the
    snapshot's ``coach``); the agent hears the supervisor, the caller does not."""
    boss = await open_page(
        supervisor_browser, crm, media_server, headless=False, extra="audioProcessing: false,"
    )
    await boss.evaluate(ON_SOFTPHONE, ["supervisor", "supervisor-pass"])
    agent = await open_page(  # (last: the CRM page it reloads is this one)
        softphone_browser,
        crm,
        media_server,
        headless=False,
        extra="audioProcessing: false, autologin: true,",
    )
    await agent.evaluate(REMEMBERED_ON_SOFTPHONE, ["agent1", "agent1-pass"])
    agent1 = media_server.server.center.directory.agent_by_username("agent1")
    assert agent1 is not None
    async with httpx.AsyncClient(base_url=media_server.url, headers=ADMIN, timeout=30) as http:
        uid = await ring_and_answer(agent, http)
        await boss.evaluate(f"window.ucsOperator.whisper({agent1.id})")
        coach = f"{uid}#coach"
        await agent.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{coach}') !== null", timeout=20000
        )

        await agent.reload()
        await agent.wait_for_function(
            "window.ucsOperator.__ucs && window.ucsOperator.__ucs.phase === 'READY'",
            timeout=60_000,
        )
        for key in (uid, coach):
            await agent.wait_for_function(
                f"window.ucsOperator.__ucs.softphone.remote('{key}') !== null", timeout=20000
            )
        caller_hears = lambda: caller_heard(http, uid)  # noqa: E731
        await hear_all(
            (lambda: browser_heard(agent, coach), (SUPERVISOR_TONE,)),
            (lambda: browser_heard(agent, uid), (CALLER_TONE,), (SUPERVISOR_TONE,)),
            (caller_hears, (AGENT_TONE,), (SUPERVISOR_TONE,)),
        )

        await boss.evaluate(f"window.ucsOperator.listen({agent1.id})")  # the whisper ends
        await agent.wait_for_function(
            f"window.ucsOperator.__ucs.softphone.remote('{coach}') === null"
        )
        await agent.evaluate("window.ucsOperator.hangup()")
        await agent.wait_for_function(
            "window.ucsOperator.__ucs.softphone.playedHere().length === 0"
        )


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
