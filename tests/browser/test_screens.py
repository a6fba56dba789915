"""The interface in every state, clicked as an agent would; a screenshot of each is saved in
build/screenshots to be looked at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import SHOTS, colleague_rung, open_page
from tests.server.conftest import Running

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


async def test_every_state_of_the_interface(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, headless=False, extra="listDevices: true,")
    await page.set_viewport_size({"width": 520, "height": 1100})
    ui = page.locator("ucs-operator")

    async def shot(name: str) -> None:
        await page.screenshot(path=str(SHOTS / f"state-{name}.png"), full_page=True)

    await ui.locator("input[name=username]").fill("agent1")
    await ui.locator("input[name=password]").fill("wrong")
    await ui.locator("button[type=submit]").click()
    await ui.locator(".notes-inline .n-error").wait_for()  # the refusal, under the inputs
    await shot("1-credentials")
    await ui.locator("input[name=password]").fill("agent1-pass")
    await ui.locator("button[type=submit]").click()
    await ui.locator("button[data-phone=phone1]").wait_for()
    await shot("2-identify")
    await ui.locator("button[data-phone=phone1]").click()
    await ui.locator("button[data-confirm]").wait_for()
    await shot("3-device")
    await ui.locator("button[data-confirm]").click()
    await ui.locator("select[data-change-status]").select_option("READY")
    await ui.locator(".pill.s-READY").wait_for()
    await shot("4-ready")

    async with httpx.AsyncClient(
        base_url=running.url, headers={"Authorization": "Bearer demo-admin-token"}
    ) as http:
        await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420601123456", "name": "Jan Novák"}
        )
    await ui.locator("button[data-do=answer]").wait_for()
    assert await ui.locator(".call .party").inner_text() == "Jan Novák"
    await page.wait_for_function("window.ucsOperator.__ucs.ringer.playing === 'default'")
    await shot("5-ringing")
    await ui.locator("button[data-do=answer]").click()
    await ui.locator("button[data-do=hold]").wait_for()
    await page.wait_for_function("window.ucsOperator.__ucs.ringer.playing === null")  # silent
    await shot("6-connected")
    await ui.locator("button[data-do=hold]").click()
    await ui.locator("button[data-do=unhold]").wait_for()
    await shot("7-held")
    await ui.locator("button[data-do=unhold]").click()
    async with colleague_rung(ui, running.url) as colleague:
        # While the colleague's phone rings, the transfer cannot be completed yet.
        await ui.locator(".call.st-1, .call.st-2").last.wait_for()
        assert await ui.locator("button[data-do=finishTransfer]").count() == 0
        await colleague.answer()
        await ui.locator("button[data-do=finishTransfer]").wait_for()
        await shot("8-consulting")
        await colleague.hangup()  # the colleague cannot take it after all
    await ui.locator("button[data-do=unhold]").wait_for()  # back to the caller
    await ui.locator("button[data-do=unhold]").click()
    await ui.locator("button[data-do=hold]").wait_for()
    await ui.locator("select[data-sound]").select_option("quest")
    await page.wait_for_function("window.ucsOperator.state().ringingSound === 'quest'")
    await ui.locator("button[data-test]").click()
    assert await page.evaluate("window.ucsOperator.__ucs.ringer.playing") == "quest"
    await ui.locator("button[data-stop]").click()
    assert await page.evaluate("window.ucsOperator.__ucs.ringer.playing") is None
    await ui.locator("input[data-theme]").check()
    await ui.locator("button[data-lang]").click()
    await ui.locator("button[data-do=hangup]:has-text('Zavěsit')").wait_for()
    assert await ui.get_attribute("theme") == "dark"
    await shot("9-dark-czech")
