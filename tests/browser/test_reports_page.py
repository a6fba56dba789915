"""The reports page (/reports/) in Chromium: a supervisor signs in with their own password and
sees their queues' service level and abandoned calls and their team's handle time as charts,
the tables under them and the CSV; English and Czech, light and dark, 360 and 1280 px. And the
wallboard signed in by the same supervisor shows their team only."""

from __future__ import annotations

import asyncio
import math
import struct
import wave
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import SHOTS
from tests.conftest import MORNING, PRAGUE
from tests.server.conftest import Running, serving
from tests.server.test_reports import DAY, a_morning
from ucs.storage import recordings as index
from ucs.storage.schema import agents_cell

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
        # (in Czech: chosen in the page, it outlived the link's ?lang=en and the reload)
        await page.wait_for_selector(".error:has-text('první je až po posledním')")
        # nothing of the day before is left under these dates
        assert await page.locator("#queues *, #agents *, #recordings *").count() == 0

        # A period still loading when the dates go backwards is not shown when it answers.
        async def slow(route: Any) -> None:
            await asyncio.sleep(1.0)
            await route.continue_()

        await page.route("**/api/reports/queues*", slow)
        await page.fill("input[name=from]", DAY)
        await page.fill("input[name=to]", DAY)
        await page.click("form.period button[type=submit]")
        await page.fill("input[name=from]", "2026-11-25")
        await page.click("form.period button[type=submit]")
        await asyncio.sleep(1.5)
        assert "první je až po posledním" in await page.locator(".error").inner_text()
        assert await page.locator("#queues *, #agents *, #recordings *").count() == 0
        await page.unroute("**/api/reports/queues*")

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


def _a_recording(
    folder: Path, uid: str, queue: int, agent: tuple[int, str], start: float
) -> dict[str, Any]:
    """A recorded call as the recorder leaves it: a stereo WAV of 1.5 s (440 Hz left, 1 kHz
    right) in the recordings folder, and its row in the index."""
    folder.mkdir(parents=True, exist_ok=True)
    with wave.open(str(folder / f"{uid}.wav"), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(
            b"".join(
                struct.pack(
                    "<hh",
                    int(8000 * math.sin(2 * math.pi * 440 * n / 8000)),
                    int(8000 * math.sin(2 * math.pi * 1000 * n / 8000)),
                )
                for n in range(12_000)
            )
        )
    return {
        "uniqueid": uid,
        "agent_id": agent[0],
        "agent": agent[1],
        "agents": agents_cell([agent]),
        "queue_id": queue,
        "start": start,
        "seconds": 1.5,
        "bytes": (folder / f"{uid}.wav").stat().st_size,
        "path": f"{uid}.wav",
    }


async def test_a_supervisor_plays_and_downloads_the_recordings_of_their_queues(
    browser: Any, tmp_path: Path
) -> None:
    """The period's recordings under the tables: those of the supervisor's queues only, played
    in the page (the WAV fetched with the sign-in's token) or saved as a file."""
    folder = tmp_path / "recordings"
    async with serving(tmp_path, tz=PRAGUE, recordings_dir=str(folder)) as running:
        await _lead(running)
        engine = running.server.store.engine
        index.save(engine, _a_recording(folder, "rec-support", 1, (1, "agent1"), MORNING + 600))
        index.save(engine, _a_recording(folder, "rec-campaign", 3, (2, "agent2"), MORNING + 900))
        page = await browser.new_page(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        await _sign_in(page, f"{running.url}/reports/?from={DAY}&to={DAY}&lang=en")
        table = page.locator("#recordings-table")
        await table.wait_for()
        rows = table.locator("tbody tr")
        assert await rows.count() == 1  # Campaign's is not lead's to hear
        text = await rows.first.inner_text()
        assert "Support" in text and "Alice Nováková" in text and "0:00:02" in text
        assert "2026-11-24 08:10:00" in text  # the server's time (Prague), as the tables say
        assert await rows.first.locator("button[data-remove]").count() == 0  # admins delete
        await rows.first.locator("button[data-play]").click()
        player = page.locator("audio[data-player]")
        await player.wait_for(state="visible")
        await page.wait_for_function("document.querySelector('audio[data-player]').readyState >= 1")
        seconds = await player.evaluate("(a) => a.duration")
        assert abs(seconds - 1.5) < 0.05  # the recording itself, decoded by the browser
        assert "Alice Nováková" in await page.locator("[data-playing]").inner_text()
        async with page.expect_download() as info:
            await rows.first.locator("button[data-save]").click()
        download = await info.value
        assert download.suggested_filename == "rec-support.wav"
        saved = tmp_path / "saved.wav"
        await download.save_as(saved)
        assert saved.read_bytes() == (folder / "rec-support.wav").read_bytes()
        await page.screenshot(path=str(SHOTS / "reports-recordings.png"), full_page=True)
        # Another day: none.
        await page.fill("input[name=from]", "2026-11-20")
        await page.fill("input[name=to]", "2026-11-20")
        await page.click("form.period button[type=submit]")
        await page.wait_for_selector("#recordings .nothing")
        await page.close()

        # The admin token (or a superuser) sees both and deletes one, once it is confirmed.
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        asked: list[str] = []

        async def answer(dialog: Any) -> None:
            asked.append(dialog.message)
            await (dialog.dismiss() if len(asked) == 1 else dialog.accept())

        page.on("dialog", answer)
        url = f"{running.url}/reports/?from={DAY}&to={DAY}&lang=en&token=demo-admin-token"
        await page.goto(url)
        campaign = page.locator("tr[data-recording='rec-campaign']")
        await campaign.wait_for()
        assert await page.locator("#recordings-table tbody tr").count() == 2
        await campaign.locator("button[data-remove]").click()  # dismissed: nothing happens
        await page.wait_for_timeout(300)
        assert (folder / "rec-campaign.wav").exists() and await campaign.count() == 1
        await campaign.locator("button[data-remove]").click()
        await campaign.wait_for(state="detached")
        assert "Delete the recording of 2026-11-24 08:15:00" in asked[1]
        assert not (folder / "rec-campaign.wav").exists()
        assert index.find(engine, "rec-campaign") is None
        assert await page.locator("#recordings-table tbody tr").count() == 1
        await page.close()
