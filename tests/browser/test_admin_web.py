"""The web admin at /admin/ (issue 17, item 14) in real Chromium: a superuser's login or the
admin token, agents, phones, queues and members, AUX reasons and settings with the API's
refusals shown beside their fields, and the audit log of who changed what. Screenshots of its
pages at 360 and 1280 px, light and dark, English and Czech, go to build/screenshots."""

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


async def _page(browser: Any, running: Running, width: int = 1280, **kw: Any) -> Any:
    context = await browser.new_context(viewport={"width": width, "height": 900}, **kw)
    page = await context.new_page()
    page.on("pageerror", lambda e: print("page error:", e))
    page.on("dialog", lambda d: d.accept())  # "Remove …?"
    await page.goto(f"{running.url}/admin/")
    await page.wait_for_selector("#login-user")
    return page


async def _error(page: Any, form: str, field: str) -> str:
    text: str = await page.locator(f"#{form} [data-error='{field}']").inner_text()
    return text


async def test_a_superuser_manages_the_center_and_refusals_show_by_field(
    browser: Any, running: Running
) -> None:
    page = await _page(browser, running)
    await page.fill("#login-user-username", "agent1")  # not a superuser
    await page.fill("#login-user-password", "agent1-pass")
    await page.click("#login-user button[type=submit]")
    await page.wait_for_function(
        "document.querySelector('#login-user [data-error=\"\"]').textContent"
    )
    assert "superuser" in await _error(page, "login-user", "")
    await page.fill("#login-user-username", "supervisor")
    await page.fill("#login-user-password", "supervisor-pass")
    await page.click("#login-user button[type=submit]")
    await page.wait_for_selector("text=Signed in as")
    assert await page.locator("header strong").inner_text() == "supervisor"

    # An agent: a short password and a taken username are refused beside their fields.
    await page.fill("#record-username", "agent2")
    await page.fill("#record-password", "short")
    await page.click("#record button[type=submit]")
    await page.wait_for_function(
        "document.querySelector('#record [data-error=\"password\"]').textContent"
    )
    assert "8 characters" in await _error(page, "record", "password")
    assert await page.get_attribute("#record-password", "aria-invalid") == "true"
    await page.screenshot(path=str(SHOTS / "admin-agent-refused-1280.png"), full_page=True)
    await page.fill("#record-password", "long-enough-1")
    await page.click("#record button[type=submit]")
    await page.wait_for_function(
        "document.querySelector('#record [data-error=\"username\"]').textContent"
    )
    assert "taken by agent 2" in await _error(page, "record", "username")
    await page.fill("#record-username", "erin")
    await page.fill("#record-firstname", "Erin")
    await page.fill("#record-lastname", "Nováková")
    await page.check("#record input[name=memberships][value='2']")
    await page.click("#record button[type=submit]")
    await page.wait_for_selector("td:text-is('erin')")
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        erin = next(a for a in (await http.get("/api/agents")).json() if a["username"] == "erin")
    assert erin["lastname"] == "Nováková" and [m["queue"] for m in erin["memberships"]] == [2]

    # A queue whose RONA reason must be an AUX reason, and its members.
    await page.click("nav button[data-page=queues]")
    await page.wait_for_selector("#record-strategy")
    await page.fill("#record-name", "Billing")
    await page.select_option("#record-strategy", "round-robin")
    await page.select_option("#record-rona_reason", "Break")
    await page.click("#record button[type=submit]")
    await page.wait_for_selector("td:text-is('Billing')")
    await page.click("tr:has(td:text-is('Billing')) [data-members]")
    await page.select_option("#member-agent", label="erin")
    await page.fill("#member-priority", "2")
    await page.click("#member button[type=submit]")
    await page.wait_for_selector("section:has(h2:has-text('Members: Billing')) td:text-is('erin')")
    await page.screenshot(path=str(SHOTS / "admin-queues-1280.png"), full_page=True)

    # Phones: a taken extension; the SSO secret: too short. Then both accepted.
    await page.click("nav button[data-page=phones]")
    await page.fill("#record-identifier", "desk9")
    await page.fill("#record-extension", "1001")
    await page.click("#record button[type=submit]")
    await page.wait_for_function(
        "document.querySelector('#record [data-error=\"extension\"]').textContent"
    )
    assert "'1001' is taken by phone 1" in await _error(page, "record", "extension")
    await page.fill("#record-extension", "1009")
    await page.click("#record button[type=submit]")
    await page.wait_for_selector("td:text-is('desk9')")
    await page.click("nav button[data-page=settings]")
    await page.fill("#sso-secret", "short")
    await page.click("#sso button[type=submit]")
    await page.wait_for_function(
        "document.querySelector('#sso [data-error=\"secret\"]').textContent"
    )
    await page.fill("#sso-secret", "a-new-sso-secret")
    await page.click("#sso button[type=submit]")
    await page.wait_for_selector("[data-note]:text-is('Saved.')")
    assert running.server.settings.sso_secret == "a-new-sso-secret"

    # AUX reasons: one a queue uses cannot go.
    await page.click("nav button[data-page=reasons]")
    await page.click("button[aria-label='Remove Break']")
    await page.wait_for_function(
        "document.querySelector('#reason [data-error=\"reasons\"]').textContent"
    )
    assert "RONA reason of queue 4" in await _error(page, "reason", "reasons")
    await page.fill("#reason-reasons", "Coaching")
    await page.click("#reason button[type=submit]")
    await page.wait_for_selector("li:has-text('Coaching')")

    # The audit log says who did it, passwords masked.
    await page.click("nav button[data-page=audit]")
    await page.wait_for_selector("td:text-is('POST /api/agents')")
    rows = await page.locator("tbody tr").all_inner_texts()
    assert all("supervisor" in r for r in rows) and len(rows) == 6
    assert "long-enough-1" not in await page.content()
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        log = (await http.get("/api/audit")).json()
    assert [(e["actor"], e["method"], e["path"]) for e in log["entries"]] == [
        ("supervisor", "PUT", "/api/aux-reasons"),
        ("supervisor", "PUT", "/api/settings/sso-secret"),
        ("supervisor", "POST", "/api/lines"),
        ("supervisor", "PUT", "/api/queues/4/members/5"),
        ("supervisor", "POST", "/api/queues"),
        ("supervisor", "POST", "/api/agents"),
    ]
    assert log["entries"][5]["body"]["password"] == "•••"
    assert log["entries"][1]["body"] == {"secret": "•••"}
    await page.click("[data-logout]")
    await page.wait_for_selector("#login-token")


async def test_the_admin_token_signs_in_and_the_pages_look_right(
    browser: Any, running: Running
) -> None:
    for width, scheme in ((360, "light"), (360, "dark"), (1024, "light"), (1280, "dark")):
        page = await _page(browser, running, width=width, color_scheme=scheme)
        await page.fill("#login-token-token", "not-the-token")
        await page.click("#login-token button[type=submit]")
        await page.wait_for_function(
            "document.querySelector('#login-token [data-error=\"\"]').textContent"
        )
        assert "not the admin token" in await _error(page, "login-token", "")
        await page.fill("#login-token-token", "demo-admin-token")
        await page.click("#login-token button[type=submit]")
        await page.wait_for_selector("header strong:text-is('admin')")
        for lang in ("en", "cs"):
            if lang == "cs":
                await page.click("[data-lang]")
                await page.wait_for_selector("h1:text-is('Správa ucs')")
            for name in ("agents", "queues", "audit"):
                await page.click(f"nav button[data-page={name}]")
                await page.wait_for_selector(f"nav button[data-page={name}][aria-current=page]")
                await page.wait_for_selector("main section.card")
                shot = SHOTS / f"admin-{name}-{width}-{scheme}-{lang}.png"
                await page.screenshot(path=str(shot), full_page=True)
                # Nothing wider than the window, nor than its card: a table too wide (the
                # queues' at 1024 px hid its Remove buttons behind a sideways scroll)
                # becomes a list of records.
                wide = await page.evaluate(
                    "document.documentElement.scrollWidth > window.innerWidth + 1 || "
                    "[...document.querySelectorAll('section.card')]"
                    ".some((c) => c.scrollWidth > c.clientWidth + 1)"
                )
                assert not wide, (name, width, lang)
        await page.click("[data-lang]")  # back to English for the next round
        await page.context.close()


async def test_the_admin_opens_in_the_links_language_until_one_is_chosen_in_it(
    browser: Any, running: Running
) -> None:
    """The home page's link carries its language (?lang=cs): the admin opens in Czech in an
    English browser; switched to English in the page, it stays English after a reload (the
    choice wins over the link), and a refusal of a field is said in the page's language."""
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await page.goto(f"{running.url}/admin/?lang=cs")
    assert await page.get_attribute("html", "lang") == "cs"
    await page.fill("#login-token-token", "demo-admin-token")
    await page.click("#login-token button[type=submit]")
    await page.click("nav button[data-page=agents]")
    await page.fill("#record-username", "ivan")
    await page.fill("#record-password", "short")
    await page.click("#record button[type=submit]")
    error = page.locator("#record [data-error=password]")
    await page.wait_for_function(
        "document.querySelector('#record [data-error=\"password\"]').textContent"
    )
    assert await error.inner_text() == "Aspoň 8 znaků."
    await page.click("[data-lang]")  # English
    assert "lang=" not in page.url
    await page.reload()
    await page.wait_for_selector("nav button[data-page=agents]")
    assert await page.get_attribute("html", "lang") == "en"
    await context.close()
