"""Choices made before login carry into the session (CONTRACT §5): a CRM in dark mode calls
``setTheme("dark")`` at once, and a page may configure its ringtone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import open_page
from tests.server.conftest import Running
from ucs.core.ids import AgentId

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


async def _until(condition: Callable[[], bool]) -> None:
    """Wait for the server to have taken what the page sent (a bounded wait, no timing)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server never got there")


async def _ready(page: Any, user: str, phone: str) -> None:
    await page.evaluate(f"window.ucsOperator.login('{user}', '{user}-pass')")
    await page.evaluate(f"window.ucsOperator.selectIdentifier('{phone}')")
    await page.evaluate("window.ucsOperator.provision()")
    await page.wait_for_function("window.log.some(e => e[0] === 'onReady')")


async def test_set_theme_before_login_becomes_the_sessions(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, headless=False)
    assert await page.evaluate("window.ucsOperator.setTheme('dark')") == "dark"
    await _ready(page, "agent1", "phone1")
    await page.wait_for_function("window.ucsOperator.state().theme === 'dark'")
    # the component shows it, and the server's session holds it (another tab gets it too)
    host = await page.evaluate("document.querySelector('ucs-operator').getAttribute('theme')")
    assert host == "dark"
    await _until(lambda: running.server.center.sessions[AgentId(1)].theme == "dark")
    other = await open_page(browser, crm, running)  # joins the READY session
    await other.evaluate("window.ucsOperator.login('agent1', 'agent1-pass')")
    await other.wait_for_function("window.log.some(e => e[0] === 'onReady')")
    assert await other.evaluate("window.ucsOperator.state().theme") == "dark"


async def test_configured_ringtone_and_theme_carry_into_the_session(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, extra="theme: 'dark', ringingSound: 'quest',")
    await _ready(page, "agent2", "phone2")
    await page.wait_for_function(
        "(() => { const s = window.ucsOperator.state();"
        " return s.theme === 'dark' && s.ringingSound === 'quest'; })()"
    )
    session = running.server.center.sessions[AgentId(2)]
    await _until(lambda: (session.theme, session.ringing_sound) == ("dark", "quest"))


async def test_choices_survive_logout_and_the_next_login(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running)
    await _ready(page, "agent1", "phone1")
    await page.evaluate("window.ucsOperator.setTheme('dark')")
    await page.evaluate("window.ucsOperator.selectRingingSound('rush')")
    await page.evaluate("window.ucsOperator.logout()")
    await page.evaluate("window.log = []")
    await _ready(page, "agent1", "phone1")
    await page.wait_for_function(
        "(() => { const s = window.ucsOperator.state();"
        " return s.theme === 'dark' && s.ringingSound === 'rush'; })()"
    )
