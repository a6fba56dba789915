"""The component's own page (/operator/, what an agent without a CRM opens): in the browser's
language (Czech or English) or the one asked (?lang=), and an agent signs in and starts work
on a phone from the list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM
from tests.server.conftest import Running

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


async def test_the_operator_page_speaks_the_browsers_language_and_signs_an_agent_in(
    browser: Any, running: Running
) -> None:
    czech = await browser.new_context(locale="cs-CZ")
    page = await czech.new_page()
    await page.goto(f"{running.url}/operator/")
    ui = page.locator("ucs-operator")
    await ui.locator("input[name=username]").wait_for()
    assert "Uživatelské jméno" in await ui.locator("form").first.inner_text()
    assert await page.get_attribute("html", "lang") == "cs"
    await page.goto(f"{running.url}/operator/?lang=en")
    await ui.locator("input[name=username]").wait_for()
    assert "Username" in await ui.locator("form").first.inner_text()
    await ui.locator("input[name=username]").fill("agent1")
    await ui.locator("input[name=password]").fill("agent1-pass")
    await ui.locator("button[type=submit]").click()
    await ui.get_by_role("button", name="phone1").first.click()
    await ui.locator("button[data-confirm]").click()
    await ui.locator("select[data-change-status]").wait_for()
    assert await page.evaluate("window.ucsOperator.state().identifier") == "phone1"
    await czech.close()

    english = await browser.new_context(locale="en-GB")
    page = await english.new_page()
    await page.goto(f"{running.url}/operator/")
    await page.locator("ucs-operator input[name=username]").wait_for()
    assert await page.get_attribute("html", "lang") == "en"
    await english.close()
