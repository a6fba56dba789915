"""The screen pop in real Chromium (CONTRACT §12): the component shows the name the CRM's
lookup found, opens its ``crmUrl`` with ``crmAutoOpen``, and never runs what a name carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import clipped, open_page
from tests.crm.helpers import ADMIN, SCRIPT, fake_crm
from tests.server.conftest import Running

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


async def _ready(page: Any) -> None:
    await page.evaluate("window.ucsOperator.login('agent1', 'agent1-pass')")
    await page.evaluate("window.ucsOperator.selectIdentifier('phone1')")
    await page.evaluate("window.ucsOperator.provision()")
    await page.evaluate("window.ucsOperator.changeStatus('READY')")


async def _caller(running: Running, lookup: str) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.put("/api/settings/lookup", json={"url": lookup, "timeout_ms": 3000})
        assert r.status_code == 200
        r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601123456"})
        assert r.status_code == 201


async def test_a_ringing_call_shows_the_crms_name_and_opens_its_page(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    folder, origin = crm
    (folder / "contact.html").write_text("<title>Contact 1</title>Jan", encoding="utf-8")
    page = await open_page(browser, crm, running, headless=False, extra="crmAutoOpen: true,")
    await _ready(page)
    with fake_crm(f"{origin}/contact.html?id=1") as lookup:
        async with page.context.expect_page() as opened:
            await _caller(running, f"{lookup.url}/lookup/ok")
        contact = await opened.value
        await contact.wait_for_load_state()
        assert contact.url == f"{origin}/contact.html?id=1"
        await page.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
        ringing = await page.evaluate("window.log.find(e => e[0] === 'onCallRinging')[1][0]")
        assert ringing["name"] == "Caller +420601123456"
        await page.locator("[data-calls]").get_by_text("Caller +420601123456").wait_for()


async def test_markup_in_a_name_is_shown_as_text_and_never_runs(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, headless=False)
    await _ready(page)
    with fake_crm() as lookup:
        await _caller(running, f"{lookup.url}/lookup/script")
        await page.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
        await page.locator("[data-calls]").get_by_text("window.hacked").first.wait_for()
    assert await page.evaluate("window.hacked === undefined")
    assert await page.locator("[data-calls] img, [data-calls] script").count() == 0
    assert SCRIPT[:40] in await page.locator("[data-calls]").inner_text()


@pytest.mark.parametrize("mode", ["longname", "hang", "stream", "invalid"])
async def test_a_misbehaving_crm_never_breaks_the_component(
    browser: Any, crm: tuple[Path, str], running: Running, mode: str, tmp_path: Path
) -> None:
    """A name of 10,000 characters (cut to 200), a lookup that hangs, 10 MB or invalid JSON:
    the call rings in the component all the same, and nothing sticks out of it at 360 px."""
    page = await open_page(browser, crm, running, headless=False)
    await page.set_viewport_size({"width": 360, "height": 740})
    await _ready(page)
    with fake_crm() as lookup:
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            r = await http.put(
                "/api/settings/lookup",
                json={
                    "url": f"{lookup.url}/lookup/{mode}",
                    "timeout_ms": 3000 if mode == "longname" else 600,
                },
            )
            assert r.status_code == 200
            r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601123456"})
            assert r.status_code == 201
        await page.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
        ringing = await page.evaluate("window.log.find(e => e[0] === 'onCallRinging')[1][0]")
        assert ringing["name"] == ("N" * 200 if mode == "longname" else None)
        await page.locator("[data-calls]").get_by_text("+420601123456").first.wait_for()
        await page.screenshot(path=str(tmp_path / f"screen-pop-{mode}.png"))
        assert await clipped(page) == []
        await page.evaluate("window.ucsOperator.answer()")
        await page.wait_for_function("window.log.some(e => e[0] === 'onCallConnect')")
