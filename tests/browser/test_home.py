"""The page at ``/`` in Chromium: readable and accessible (axe-core) in English and Czech, light
and dark, at 360 and 1280 px, and its links lead where they say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import SHOTS, axe_problems, clipped
from tests.server.conftest import Running

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


@pytest.mark.parametrize(("lang", "scheme", "width"), [("en", "light", 1280), ("cs", "dark", 360)])
async def test_the_home_page_reads_well_and_leads_to_each_page(
    browser: Any, running: Running, lang: str, scheme: str, width: int
) -> None:
    context = await browser.new_context(
        viewport={"width": width, "height": 800},
        color_scheme=scheme,
        locale="cs-CZ" if lang == "cs" else "en-US",
    )
    page = await context.new_page()
    await page.goto(f"{running.url}/")
    assert await page.get_attribute("html", "lang") == lang
    assert await axe_problems(page, "body") == []
    assert await clipped(page, "body") == []
    await page.screenshot(path=str(SHOTS / f"home-{lang}-{scheme}-{width}.png"), full_page=True)
    wallboard = "Nástěnka" if lang == "cs" else "Wallboard"
    await page.get_by_role("link", name=wallboard).click()
    await page.wait_for_url(f"{running.url}/wallboard/?lang={lang}")  # in the same language
    assert await page.get_attribute("html", "lang") == lang
    await page.go_back()
    other = "English" if lang == "cs" else "Česky"
    await page.get_by_role("link", name=other).click()
    await page.wait_for_url(f"{running.url}/?lang={'en' if lang == 'cs' else 'cs'}")
    assert await page.get_attribute("html", "lang") == ("en" if lang == "cs" else "cs")
    await context.close()
