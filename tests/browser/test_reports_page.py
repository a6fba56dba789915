"""The reports page (/reports/) in Chromium: a supervisor signs in with their own password and
sees their queues' service level and abandoned calls and their team's handle time as charts,
the tables under them and the CSV; English and Czech, light and dark, 360 and 1280 px. And the
wallboard signed in by the same supervisor shows their team only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import SHOTS
from tests.conftest import PRAGUE
from tests.server.conftest import Running, serving
from tests.server.test_reports import DAY, a_morning

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _lead(running: Running) -> None:
    """``lead`` supervises Sales and Support (not a superuser); the morning is recorded."""
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        made = await http.post(
            "/api/agents",
            json={
                "username": "lead",
                "password": "lead-pass-1",
                "displayname": "Vedoucí týmu",
                "memberships": [{"queue": 1, "supervisor": True}, {"queue": 2, "supervisor": True}],
            },
        )
        assert made.status_code == 201
    running.server.store.deliver_all(a_morning())
    running.server.store.flush()


async def _sign_in(page: Any, url: str) -> None:
    await page.goto(url)
    await page.fill("#u", "lead")
    await page.fill("#p", "lead-pass-1")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#queues-table")


async def test_a_supervisor_reads_the_day_in_charts_and_tables(
    browser: Any, tmp_path: Path
) -> None:
    async with serving(tmp_path, tz=PRAGUE) as running:
        await _lead(running)
        page = await browser.new_page(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        await page.emulate_media(color_scheme="light")
        await _sign_in(page, f"{running.url}/reports/?from={DAY}&to={DAY}&lang=en")
        assert await page.locator("#sl-chart canvas").count() == 1
        assert await page.locator("#abandoned-chart canvas").count() == 1
        assert await page.locator("#aht-chart canvas").count() == 1
        queues = await page.locator("#queues-table").inner_text()
        assert "Support" in queues and "33.3" in queues and "107.5" in queues
        assert "Campaign" not in queues  # no calls: no rows
        agents = await page.locator("#agents-table").inner_text()
        assert "Vedoucí týmu" in agents and "0:03:15" in agents  # agent1's talk, 195 s
        async with page.expect_download() as info:
            await page.click("[data-csv=agents]")
        download = await info.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        assert download.suggested_filename == f"agents-{DAY}-{DAY}.csv"
        assert "agent1" in saved.read_text(encoding="utf-8-sig")
        await page.screenshot(path=str(SHOTS / "reports-1280-light-en.png"), full_page=True)

        await page.click("button[data-theme]")  # dark
        await page.click("[data-lang]")  # Czech
        await page.wait_for_selector("#queues-table")
        assert await page.evaluate("document.documentElement.dataset.theme") == "dark"
        assert "Úroveň služby" in await page.locator(".charts").inner_text()
        await page.select_option("select[name=interval]", "day")
        await page.click("form.period button[type=submit]")
        await page.wait_for_function(
            "document.querySelector('#queues-table') && "
            "document.querySelector('#queues-table').innerText.includes('2026-11-24\\t')"
        )
        await page.screenshot(path=str(SHOTS / "reports-1280-dark-cs.png"), full_page=True)

        await page.set_viewport_size({"width": 360, "height": 780})
        await page.reload()
        await page.wait_for_selector("#queues-table")
        wide = await page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
        assert wide  # the tables scroll inside their cards, the page does not
        await page.screenshot(path=str(SHOTS / "reports-360-dark.png"), full_page=True)

        await page.fill("input[name=from]", "2026-11-25")
        await page.fill("input[name=to]", "2026-11-24")
        await page.click("form.period button[type=submit]")
        await page.wait_for_selector(".error:has-text('2026-11-25')")

        # A period with no calls: a line in each chart's card, not three empty frames.
        await page.fill("input[name=from]", "2026-11-20")
        await page.fill("input[name=to]", "2026-11-20")
        await page.click("form.period button[type=submit]")
        await page.wait_for_selector("#sl-chart .nothing")
        for chart in ("#sl-chart", "#abandoned-chart", "#aht-chart"):
            box = await page.locator(chart).bounding_box()
            assert box is not None and box["height"] < 80, (chart, box)
        await page.close()


async def test_agents_are_refused_and_the_wallboard_shows_a_supervisors_team(
    browser: Any, tmp_path: Path
) -> None:
    async with serving(tmp_path, tz=PRAGUE) as running:
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            await http.post(
                "/api/agents",
                json={
                    "username": "lead",
                    "password": "lead-pass-1",
                    "memberships": [{"queue": 2, "supervisor": True}],
                },
            )
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await page.goto(f"{running.url}/reports/?lang=en")
        await page.fill("#u", "agent2")
        await page.fill("#p", "agent2-pass")
        await page.click("button[type=submit]")
        await page.wait_for_selector("form.login .error:not(:empty)")
        assert await page.locator("#queues-table").count() == 0
        await page.screenshot(path=str(SHOTS / "reports-login-refused.png"))

        await page.goto(f"{running.url}/admin/")  # the web admin: not for a supervisor
        await page.fill("#login-user-username", "lead")
        await page.fill("#login-user-password", "lead-pass-1")
        await page.click("#login-user button[type=submit]")
        await page.wait_for_selector("#login-user [data-error='']:has-text('/reports/')")
        assert await page.locator("text=Signed in as").count() == 0

        await page.goto(f"{running.url}/wallboard/")
        await page.fill("#u", "lead")
        await page.fill("#p", "lead-pass-1")
        await page.click("button[type=submit]")
        await page.wait_for_selector(".queue[data-queue='2']")
        assert await page.locator(".queue").count() == 1  # Sales only
        names = await page.locator(".agent .name").all_inner_texts()
        assert len(names) == 3 and not any("agent2" in n for n in names)  # agent2: not in Sales
        await page.close()
