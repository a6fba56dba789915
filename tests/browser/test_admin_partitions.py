"""The partition of queues and agents in the web admin (CONTRACT §13): a field of both forms
and a column of both tables; an agent given a queue of another partition is refused beside
the field, in English and Czech. Screenshots at 360 and 1280 px, light and dark, go to
build/screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import SHOTS
from tests.server.conftest import Running

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _signed_in(browser: Any, running: Running, width: int, scheme: str) -> Any:
    context = await browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme
    )
    page = await context.new_page()
    await page.goto(f"{running.url}/admin/")
    await page.fill("#login-token-token", "demo-admin-token")
    await page.click("#login-token button[type=submit]")
    await page.wait_for_selector("header strong:text-is('admin')")
    return page


async def test_partitions_are_set_in_the_forms_and_the_rule_is_shown_by_field(
    browser: Any, running: Running
) -> None:
    page = await _signed_in(browser, running, 1280, "light")
    await page.click("nav button[data-page=queues]")
    await page.wait_for_selector("#record-partition")
    assert await page.input_value("#record-partition") == "main"  # the default
    await page.fill("#record-name", "North")
    await page.fill("#record-partition", "North Side")  # not a partition's name
    await page.click("#record button[type=submit]")
    await page.wait_for_function(
        "document.querySelector('#record [data-error=\"partition\"]').textContent"
    )
    await page.fill("#record-partition", "north")
    await page.click("#record button[type=submit]")
    await page.wait_for_selector("tr:has(td:text-is('North')) td:text-is('north')")

    await page.click("nav button[data-page=agents]")
    await page.wait_for_selector("#record-partition")
    await page.fill("#record-username", "nina")
    await page.fill("#record-password", "nina-pass-1")
    await page.check("#record input[name=memberships][value='4']")
    await page.click("#record button[type=submit]")  # main, with a queue of north
    await page.wait_for_function(
        "document.querySelector('#record [data-error=\"memberships\"]').textContent"
    )
    said = await page.locator("#record [data-error='memberships']").inner_text()
    assert "queue 4 (North) is in partition 'north', the agent in 'main'" in said
    await page.fill("#record-partition", "north")
    await page.click("#record button[type=submit]")
    await page.wait_for_selector("tr:has(td:text-is('nina')) td:text-is('north')")
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        nina = next(a for a in (await http.get("/api/agents")).json() if a["username"] == "nina")
    assert (nina["partition"], [m["queue"] for m in nina["memberships"]]) == ("north", [4])
    await page.context.close()

    for width in (360, 1280):
        for scheme in ("light", "dark"):
            page = await _signed_in(browser, running, width, scheme)
            for lang in ("en", "cs"):
                if lang == "cs":
                    await page.click("[data-lang]")
                    await page.wait_for_selector("h1:text-is('Správa ucs')")
                    label = await page.locator("label[for=record-partition]").inner_text()
                    assert label.startswith("Oddíl")
                await page.wait_for_selector("#record-partition")
                await page.fill("#record-username", "nora")
                await page.fill("#record-password", "nora-pass-1")
                await page.check("#record input[name=memberships][value='4']")
                await page.click("#record button[type=submit]")
                await page.wait_for_function(
                    "document.querySelector('#record [data-error=\"memberships\"]').textContent"
                )
                shot = SHOTS / f"admin-partition-refused-{width}-{scheme}-{lang}.png"
                await page.screenshot(path=str(shot), full_page=True)
                wide = await page.evaluate(
                    "document.documentElement.scrollWidth > window.innerWidth + 1"
                )
                assert not wide, (width, scheme, lang)
            await page.context.close()
