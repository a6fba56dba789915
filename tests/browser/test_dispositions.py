"""Account codes from the queue's list (dispositions) in the agent's desk, in real Chromium: a
call of a queue with a list offers its labels to pick from (no free text unless the queue
allows it), picked with the keyboard and shown on the card once saved; a change of the list
reaches the open component; English and Czech, 360 and 1280 px, light and dark, axe-core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import AXE, SHOTS, axe_problems, clipped, open_page
from tests.server.conftest import Running

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (make doc-tools)"),
]

ADMIN = {"Authorization": "Bearer demo-admin-token"}
LIST = [
    {"code": "SALE", "label": "Sale closed"},
    {"code": "INFO", "label": "Information only"},
    {"code": "CB", "label": "Customer asks for a call back on another day"},
]


async def _lang(page: Any, lang: str) -> None:
    if await page.evaluate("window.ucsOperator.__ucs.lang") != lang:
        await page.locator("ucs-operator").locator("button[data-lang]").click()
        await page.wait_for_function(f"window.ucsOperator.__ucs.lang === '{lang}'")


async def _looked_at(page: Any, name: str) -> list[str]:
    """Screenshots at 360 and 1280 px, light and dark, English and Czech, with axe-core's
    serious violations and anything cut; the page is left light, in English, at 1280 px."""
    problems: list[str] = []
    for theme in ("default", "dark"):
        await page.evaluate(f"window.ucsOperator.setTheme('{theme}')")
        for lang in ("en", "cs"):
            await _lang(page, lang)
            for width in (360, 1280):
                await page.set_viewport_size({"width": width, "height": 900})
                shot = (
                    f"dispositions-{name}-{width}-{'dark' if theme == 'dark' else 'light'}-{lang}"
                )
                await page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
                problems += [f"{shot}: {p}" for p in await axe_problems(page)]
                problems += [f"{shot}: {p}" for p in await clipped(page)]
    await page.evaluate("window.ucsOperator.setTheme('default')")
    await _lang(page, "en")
    await page.set_viewport_size({"width": 1280, "height": 900})
    return problems


async def test_the_agent_picks_a_disposition_from_the_queue_s_list(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.patch("/api/queues/1", json={"dispositions": LIST})
        assert r.status_code == 200
        page = await open_page(browser, crm, running, headless=False)
        ui = page.locator("ucs-operator")
        for call in ("login('agent1', 'agent1-pass')", "selectIdentifier('phone1')"):
            await page.evaluate(f"window.ucsOperator.{call}")
        await page.evaluate("window.ucsOperator.provision()")
        await page.evaluate("window.ucsOperator.changeStatus('READY')")
        r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601123456"})
        uid = r.json()["uniqueid"]
        await ui.locator("button[data-do=answer]").click()
        await ui.locator("button[data-do=hold]").wait_for()

        # The list by label, and no free text: Support takes only its list.
        listed = ui.locator("select[data-listed]")
        assert await listed.get_attribute("aria-label") == "Account code"
        options = await listed.locator("option").all_inner_texts()
        assert options == ["Choose a code…", *(d["label"] for d in LIST)]
        assert await ui.locator("form[data-code] input[name=code]").count() == 0
        assert await page.evaluate(f"window.ucsOperator.dispositions('{uid}')") == {
            "queue": 1,
            "codes": [{"accountCode": d["code"], "label": d["label"]} for d in LIST],
            "freeText": False,
        }
        problems = await _looked_at(page, "1-list")

        # Picked with the keyboard: the list, then Save.
        await listed.focus()
        await listed.select_option(label="Sale closed")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        await ui.locator("[data-codes]:text-is('Saved codes: Sale closed')").wait_for()

        # The administrator lets Support take other codes too: the card offers a field.
        r = await http.patch("/api/queues/1", json={"free_text_codes": True})
        assert r.status_code == 200
        own = ui.locator("form[data-code] input[name=code]")
        await own.wait_for()
        assert await own.get_attribute("aria-label") == "Other account code"
        await own.fill("VIP")
        await own.press("Enter")
        await ui.locator("[data-codes]:text-is('Saved codes: Sale closed, VIP')").wait_for()

        await _lang(page, "cs")
        assert await listed.get_attribute("aria-label") == "Kód hovoru"
        assert (await listed.locator("option").all_inner_texts())[0] == "Vyberte kód…"
        assert await own.get_attribute("aria-label") == "Jiný kód hovoru"
        await ui.locator("[data-codes]:text-is('Uložené kódy: Sale closed, VIP')").wait_for()
        await _lang(page, "en")
        problems += await _looked_at(page, "2-saved")
        assert problems == []

        await listed.select_option(label="Information only")  # chosen, not saved yet …
        await page.evaluate("window.ucsOperator.hangup()")
        # In wrap-up the call is still there to be given a code: a card of its own, until Done.
        wrapup = ui.locator(f"[data-wrapup='{uid}']")
        await wrapup.locator("h2:text-is('Wrap-up · code saved')").wait_for()
        assert await wrapup.locator("[data-codes]").inner_text() == "Saved codes: Sale closed, VIP"
        assert await wrapup.locator("select[data-listed]").input_value() == "INFO"  # … still
        await wrapup.locator("select[data-listed]").select_option("")
        await wrapup.locator("button[type=submit]").click()  # nothing chosen: said, not sent
        await ui.locator(".note:has-text('Choose a code (or type one) first.')").wait_for()
        focused = "document.querySelector('ucs-operator').shadowRoot.activeElement"
        assert await page.evaluate(f"{focused}.name") == "listed"  # on what to choose
        await wrapup.locator("select[data-listed]").select_option(label="Information only")
        await wrapup.locator("button[type=submit]").click()
        await wrapup.locator(
            "[data-codes]:text-is('Saved codes: Sale closed, VIP, Information only')"
        ).wait_for()
        problems = await _looked_at(page, "3-wrapup")
        assert problems == []
        await wrapup.locator("button[data-close-wrapup]:text-is('Done')").click()
        await ui.locator("[data-calls] .card.muted:text-is('No call')").wait_for()
        await http.post("/api/sim/calls", json={"queue": 2, "from": "+420601123457"})
        await ui.locator("button[data-do=answer]").click()
        await ui.locator("button[data-do=hold]").wait_for()
        # Sales has no list: the plain field, as ever.
        assert await ui.locator("select[data-listed]").count() == 0
        assert await own.get_attribute("aria-label") == "Account code"


async def test_the_web_admin_edits_a_queue_s_dispositions(browser: Any, running: Running) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{running.url}/admin/")
    await page.fill("#login-token-token", "demo-admin-token")
    await page.click("#login-token button[type=submit]")
    await page.click("nav button[data-page=queues]")
    await page.click("tr:has(td:text-is('Support')) [data-edit]")
    area = page.locator("#record-dispositions")
    assert await area.input_value() == ""
    # A code listed twice, then an empty code: each refused beside the field, nothing saved.
    await area.fill("SALE = Sale closed\nSALE = Again")
    await page.click("#record button[type=submit]")
    error = page.locator("#record [data-error=dispositions]")
    await page.wait_for_function(
        "document.querySelector('#record [data-error=\"dispositions\"]').textContent"
    )
    assert "SALE listed more than once" in await error.inner_text()
    assert await area.get_attribute("aria-invalid") == "true"
    await area.fill("SALE = Sale closed\n= No code")
    await page.click("#record button[type=submit]")
    await page.wait_for_function(
        "document.querySelector('#record [data-error=\"dispositions\"]')"
        ".textContent.startsWith('#2 code')"
    )
    problems: list[str] = []
    for width in (360, 1280):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(
            path=str(SHOTS / f"dispositions-admin-refused-{width}.png"), full_page=True
        )
        problems += await axe_problems(page, "main")
    assert problems == []
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        assert (await http.get("/api/queues/1")).json()["dispositions"] == []
        await area.fill("SALE = Sale closed\n\nINFO=Information only\nVIP")
        await page.check("#record-free_text_codes")
        await page.click("#record button[type=submit]")
        await page.wait_for_selector("tr:has(td:text-is('Support')) td:text-is('SALE, INFO, VIP')")
        support = (await http.get("/api/queues/1")).json()
    assert support["dispositions"] == [
        {"code": "SALE", "label": "Sale closed"},
        {"code": "INFO", "label": "Information only"},
        {"code": "VIP", "label": "VIP"},
    ]
    assert support["free_text_codes"] is True
    await page.click("tr:has(td:text-is('Support')) [data-edit]")
    assert await area.input_value() == "SALE = Sale closed\nINFO = Information only\nVIP = VIP"
    await page.screenshot(path=str(SHOTS / "dispositions-admin-1280.png"), full_page=True)
    await context.close()
