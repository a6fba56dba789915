"""The demo CRM: SSO from the CRM, screen pop, click-to-dial, status buttons, callback log."""

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


async def _agent2_ready(browser: Any, running: Running) -> tuple[Any, Any]:
    """The demo CRM with agent2 signed in by SSO, phone2 confirmed, READY: the page and the
    component's host element."""
    page = await browser.new_page(viewport={"width": 1280, "height": 1000})
    await page.goto(f"{running.url}/demo/crm/")
    await page.select_option("#sso-user", "agent2")
    await page.wait_for_function("typeof window.ucsOperator.sso === 'function'")
    await page.click("#sso")
    host = page.locator("ucs-operator")
    await host.locator("button[data-phone=phone2]").click()
    await host.locator("button[data-confirm]").click()
    await page.click("#status-buttons button[data-status=READY]")
    await page.wait_for_function("document.getElementById('status-now').textContent === 'Ready'")
    return page, host


async def test_the_demo_crm_signs_in_with_sso_pops_a_screen_and_dials(
    browser: Any, running: Running
) -> None:
    page, host = await _agent2_ready(browser, running)
    async with httpx.AsyncClient(
        base_url=running.url, headers={"Authorization": "Bearer demo-admin-token"}
    ) as http:
        async with page.context.expect_page() as opened:  # crmAutoOpen: the contact's page
            await http.post("/api/sim/calls", json={"queue": 1, "from": "+420602234567"})
    contact = await opened.value
    assert contact.url == f"{running.url}/demo/crm/contact.html?id=2"
    await contact.locator("#who", has_text="Pekárna U Mostu").wait_for()
    await contact.close()
    await page.locator("#screen-pop:not([hidden])").wait_for()
    pop = await page.inner_text("#pop-body")
    assert "Eva Dvořáková, Pekárna U Mostu" in pop  # what the demo CRM's lookup answered
    await host.locator("button[data-do=answer]").click()
    await host.locator("button[data-do=hangup]").click()
    await page.locator("#screen-pop").wait_for(state="hidden")
    await page.click("text=+420603345678")
    await host.locator(".call >> text=+420603345678").wait_for()
    await page.screenshot(path=str(SHOTS / "demo-crm.png"), full_page=True)
    log = await page.inner_text("#log")
    for name in ("onReady", "onCallRinging", "onCallConnect", "onCallHangup", "onCall"):
        assert name in log


async def test_the_demo_token_endpoint_exists_only_in_demo_mode(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as http:
        assert (await http.get("/demo/crm/token/agent1")).json()["token"]
        assert (await http.get("/demo/crm/token/nobody")).status_code == 404


PAYLOAD = '<img src=x onerror="window.__pwned=1">'
"""A caller name as a trunk's SIP display name may carry it (issue 12, item 6)."""


async def test_outside_call_data_is_shown_as_text_by_the_demo_crm_and_the_component(
    browser: Any, running: Running
) -> None:
    page, host = await _agent2_ready(browser, running)
    async with httpx.AsyncClient(
        base_url=running.url, headers={"Authorization": "Bearer demo-admin-token"}
    ) as http:
        body = {"queue": 1, "from": "+420605111222", "name": PAYLOAD, "data": {"note": PAYLOAD}}
        assert (await http.post("/api/sim/calls", json=body)).status_code == 201
    await page.locator("#screen-pop:not([hidden])").wait_for()
    pop = await page.inner_text("#pop-body")
    assert pop.count(PAYLOAD) == 2, pop  # the caller's name and the data field, as text
    assert await page.locator("#pop-body *:not(b, span, dl, dt, dd, div)").count() == 0
    await host.locator(".call .party").wait_for()
    assert await host.locator(".call .party").inner_text() == PAYLOAD  # the component too
    assert await host.locator(".call img").count() == 0
    await host.locator("button[data-do=answer]").click()
    await host.locator("button[data-do=hangup]").click()
    await page.locator("#screen-pop").wait_for(state="hidden")
    assert await page.evaluate("document.querySelectorAll('img').length") == 0
    assert await page.evaluate("window.__pwned") is None
