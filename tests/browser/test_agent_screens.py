"""Every screen an agent meets, at 360 px (a phone, a narrow CRM sidebar) and 1280 px, light and
dark, English and Czech: a screenshot of each in build/screenshots (looked at), axe-core's
critical and serious violations (none), and nothing cut or sticking out (issue 17, items 9-10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import AXE, SHOTS, axe_problems, clipped, colleague_rung, open_page
from tests.server.conftest import Running

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (make doc-tools)"),
]

ADMIN = {"Authorization": "Bearer demo-admin-token"}
WIDTHS = (360, 1280)


async def _lang(page: Any, lang: str) -> None:
    ui = page.locator("ucs-operator")
    if await page.evaluate("window.ucsOperator.__ucs.lang") != lang:
        await ui.locator("button[data-lang]").click()
        await page.wait_for_function(f"window.ucsOperator.__ucs.lang === '{lang}'")


async def _every_way(page: Any, name: str, problems: list[str]) -> None:
    """Shoot and check the screen as it is now, at both widths, in both themes and languages;
    the page is left at 1280 px, light, in English."""
    for theme in ("default", "dark"):
        await page.evaluate(f"window.ucsOperator.setTheme('{theme}')")
        await page.wait_for_function(
            f"document.querySelector('ucs-operator')?.getAttribute('theme') === '{theme}'"
        )
        for lang in ("en", "cs"):
            await _lang(page, lang)
            for width in WIDTHS:
                await page.set_viewport_size({"width": width, "height": 900})
                shot = f"agent-{name}-{width}-{'dark' if theme == 'dark' else 'light'}-{lang}"
                await page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
                problems += [f"{shot}: {p}" for p in await axe_problems(page)]
                problems += [f"{shot}: {p}" for p in await clipped(page)]
    await page.evaluate("window.ucsOperator.setTheme('default')")
    await _lang(page, "en")
    await page.set_viewport_size({"width": 1280, "height": 900})


async def test_every_screen_fits_and_passes_axe(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        # Offers ring long enough here to be looked at in every way.
        await http.patch("/api/queues/1", json={"ring_timeout": 600})
        page = await open_page(browser, crm, running, headless=False, extra="listDevices: true,")
        ui = page.locator("ucs-operator")
        problems: list[str] = []
        await _every_way(page, "1-login", problems)
        await ui.locator("input[name=username]").fill("agent1")
        await ui.locator("input[name=password]").fill("wrong")
        await ui.locator("button[type=submit]").click()
        await ui.locator(".notes-inline .n-error").wait_for()
        await _every_way(page, "2-login-refused", problems)
        await ui.locator("input[name=username]").fill("agent1")
        await ui.locator("input[name=password]").fill("agent1-pass")
        await ui.locator("button[type=submit]").click()
        await ui.locator("button[data-phone=phone1]").wait_for()
        await _every_way(page, "3-phone", problems)
        await ui.locator("button[data-phone=phone1]").click()
        await ui.locator("button[data-confirm]").wait_for()
        await _every_way(page, "4-confirm", problems)
        await ui.locator("button[data-confirm]").click()
        await ui.locator("select[data-change-status]").select_option("READY")
        await ui.locator(".pill.s-READY").wait_for()
        await _every_way(page, "5-ready", problems)
        await ui.locator("select[data-change-status]").select_option("AUX:Lunch")
        await ui.locator(".pill.s-AUX").wait_for()
        await _every_way(page, "6-not-ready", problems)
        await ui.locator("select[data-change-status]").select_option("READY")
        await ui.locator(".pill.s-READY").wait_for()
        await http.post(
            "/api/sim/calls",
            json={"queue": 1, "from": "+420601123456", "name": "Jan Novák"},
        )
        await ui.locator("button[data-do=answer]").wait_for()
        await _every_way(page, "7-ringing", problems)
        await ui.locator("button[data-do=answer]").click()
        await ui.locator("button[data-do=hold]").wait_for()
        await _every_way(page, "8-connected", problems)
        await ui.locator("button[data-do=hold]").click()
        await ui.locator("button[data-do=unhold]").wait_for()
        await _every_way(page, "9-held", problems)
        await ui.locator("button[data-do=unhold]").click()
        async with colleague_rung(ui, running.url) as colleague:
            await colleague.answer()
            await ui.locator("button[data-do=finishTransfer]").wait_for()
            await _every_way(page, "10-consulting", problems)
            await ui.locator("button[data-do=finishTransfer]").click()
            await page.wait_for_function(
                "!document.querySelector('ucs-operator').shadowRoot"
                ".querySelector('.call[data-uniqueid]')"
            )
        await ui.locator("input[name=number]").fill("+420601000001")  # busy (CONTRACT §7)
        await ui.locator("form[data-dial] button[type=submit]").click()
        await ui.locator("[data-outcome=busy]").wait_for()
        await _every_way(page, "11-busy", problems)
        await page.close()
    assert not problems, "\n".join(problems)
