"""A supervisor's component keeps the team view live (onTeamChange), and an agent's component
shows who acted for it (CONTRACT §11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import AXE, SHOTS, axe_problems, clipped, open_page
from tests.helpers import ready_agent
from tests.server.conftest import Running
from ucs.client import Operator

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]

_TEAM = """() => {
  const seen = window.log.filter(e => e[0] === 'onTeamChange');
  return seen.length ? seen[seen.length - 1][1][0] : null;
}"""


async def _ready(page: Any, user: str, password: str, phone: str) -> None:
    await page.evaluate(f"window.ucsOperator.login('{user}', '{password}')")
    await page.evaluate(f"window.ucsOperator.selectIdentifier('{phone}')")
    await page.evaluate("window.ucsOperator.provision()")
    await page.wait_for_function("window.log.some(e => e[0] === 'onReady')")


async def test_the_team_view_follows_the_agents_live(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running)
    await _ready(page, "supervisor", "supervisor-pass", "phone4")
    await page.wait_for_function(f"({_TEAM})() !== null")
    team = await page.evaluate(_TEAM)
    assert {a["username"] for a in team["agents"]} == {"agent1", "agent2", "agent3"}
    agent: Operator = await ready_agent(running.url, 1)
    try:
        await page.wait_for_function(
            f"(({_TEAM})() || {{agents: []}}).agents.some("
            "a => a.username === 'agent1' && a.status === 'READY' && a.identifier === 'phone1')"
        )
        await agent.change_status("AUX", "Lunch")
        await page.wait_for_function(
            f"({_TEAM})().agents.some(a => a.username === 'agent1' && a.reason === 'Lunch')"
        )
        # the view the component keeps is the server's
        kept = await page.evaluate(_TEAM)
        fresh = await page.evaluate("window.ucsOperator.team()")
        assert [(a["id"], a["status"], a["reason"]) for a in kept["agents"]] == [
            (a["id"], a["status"], a["reason"]) for a in fresh["agents"]
        ]
    finally:
        await agent.close()


async def _supervisor_on_phone4(running: Running) -> Operator:
    """Sam Supervisor (agent4) signed in over the SDK, on phone4."""
    boss = Operator(running.url)
    await boss.connect()
    await boss.login("supervisor", "supervisor-pass")
    await boss.select_identifier("phone4")
    await boss.provision()
    return boss


async def test_an_agent_sees_who_set_its_status(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, headless=False)
    await _ready(page, "agent1", "agent1-pass", "phone1")
    await page.evaluate("window.ucsOperator.changeStatus('READY')")
    boss = await _supervisor_on_phone4(running)
    try:
        await boss.set_agent_status(1, "AUX", "Meeting")
        await page.wait_for_function("window.ucsOperator.state().user.status === 'AUX'")
        text = page.locator("ucs-operator").get_by_text("Sam Supervisor set your status")
        await text.wait_for()
        await text.scroll_into_view_if_needed()
        await page.screenshot(path=str(SHOTS / "status-set-by-supervisor.png"))
        # Switched to Czech, the note says the same in Czech, the status too.
        await page.locator("ucs-operator").locator("[data-lang]").click()
        czech = "Váš stav je nyní Pauza · Meeting (změna od: Sam Supervisor)."
        await page.locator("ucs-operator").get_by_text(czech).wait_for()
        assert await text.count() == 0
        await boss.set_agent_status(1, "READY", None)  # the next such note replaces it
        await page.locator("ucs-operator").get_by_text("Váš stav je nyní K dispozici").wait_for()
        assert await page.locator("ucs-operator").get_by_text(czech).count() == 0
    finally:
        await boss.close()


async def test_an_agent_sees_who_logged_it_out(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    """Issue 18: a supervisor's logoutAgent ends the agent's session; the agent's component
    is back at its login form, saying who ended it."""
    page = await open_page(browser, crm, running, headless=False)
    await _ready(page, "agent1", "agent1-pass", "phone1")
    ui = page.locator("ucs-operator")
    await ui.locator("[data-status]").wait_for()
    boss = await _supervisor_on_phone4(running)
    try:
        await boss.logout_agent(1)
        await page.wait_for_function("window.log.some(e => e[0] === 'onLogout')")
        code = await page.evaluate(
            "(() => { try { window.ucsOperator.state(); } catch (e) { return e.code; } })()"
        )
        assert code == "INVALID_STATE"  # no longer READY: state() is refused
        note = ui.locator("[data-login] .note span")  # on the login form, shown
        await note.wait_for()
        assert await note.inner_text() == "Your session was ended by Sam Supervisor."
        assert await ui.locator("[data-login] input[name=username]").is_visible()
        assert await ui.locator("[data-status]").count() == 0
        team = await boss.team()
        assert next(a for a in team["agents"] if a["id"] == 1)["status"] == "OFFLINE"
        await page.screenshot(path=str(SHOTS / "logged-out-by-supervisor.png"))
    finally:
        await boss.close()


async def test_the_supervisors_tab_shows_queues_and_agents_live(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, headless=False)
    await _ready(page, "supervisor", "supervisor-pass", "phone4")
    ui = page.locator("ucs-operator")
    await ui.locator("[data-tab='team']").click()
    await ui.locator("[data-team-agent='1']").wait_for()
    assert await ui.locator("[data-team-queue]").count() == 3
    agent = await ready_agent(running.url, 1)
    try:
        row = ui.locator("[data-team-agent='1']")
        await row.locator(".s-READY").wait_for()
        assert "phone1" in await row.inner_text()
        await agent.change_status("AUX", "Lunch")
        await row.locator(".s-AUX").wait_for()
        assert "Lunch" in await row.inner_text()
        await ui.locator("[data-team-status]").select_option("AUX")
        assert await ui.locator("[data-team-agent]").count() == 1
        await ui.locator("[data-team-status]").select_option("")
        await ui.locator("[data-team-sort]").select_option("status")
        assert await ui.locator("[data-team-agent]").count() == 3
        for theme, lang in (("default", "en"), ("dark", "cs")):
            await page.evaluate(f"window.ucsOperator.setTheme('{theme}')")
            if lang == "cs":
                await ui.locator("[data-lang]").click()
                await ui.locator("[data-tab='team']").click()
            await ui.locator("[data-team-agent='1']").wait_for()
            await ui.screenshot(path=str(SHOTS / f"team-{theme}-{lang}.png"))
        await ui.locator("[data-tab='desk']").click()
        assert await ui.locator("[data-desk]").is_visible()
    finally:
        await agent.close()


async def test_the_team_is_in_the_order_a_person_reads_names(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    """By name: "Agent 9" before "Agent 10" (numbers as numbers), and in Czech "Cyril" before
    "Čeněk" before "Dana" (Czech letters where Czech puts them)."""
    admin = {"Authorization": "Bearer demo-admin-token"}
    async with httpx.AsyncClient(base_url=running.url, headers=admin) as http:
        for n, (first, last) in enumerate(
            (
                ("Agent 10", "Zeman"),
                ("Agent 9", "Zeman"),
                ("Čeněk", "Malý"),
                ("Dana", "Malá"),
                ("Cyril", "Malý"),
            )
        ):
            body = {
                "username": f"sorted{n}",
                "password": "long-enough-1",
                "firstname": first,
                "lastname": last,
                "memberships": [{"queue": 2}],
            }
            assert (await http.post("/api/agents", json=body)).status_code == 201, body
    page = await open_page(browser, crm, running, headless=False)
    await _ready(page, "supervisor", "supervisor-pass", "phone4")
    ui = page.locator("ucs-operator")
    await ui.locator("[data-tab='team']").click()
    await ui.locator("[data-team-agent]").first.wait_for()

    async def names() -> list[str]:
        cells = await ui.locator("[data-team-agent] td:first-child b").all_inner_texts()
        return [n for n in cells if n.split()[0] in ("Agent", "Čeněk", "Dana", "Cyril")]

    assert (await names())[:2] == ["Agent 9 Zeman", "Agent 10 Zeman"]
    await ui.locator("[data-lang]").click()
    await ui.locator("[data-tab='team']").click()
    await ui.locator("[data-team-agent]").first.wait_for()
    assert [n.split()[0] for n in await names()][2:] == ["Cyril", "Čeněk", "Dana"]


async def test_an_agent_who_supervises_nothing_has_no_team_tab(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, headless=False)
    await _ready(page, "agent1", "agent1-pass", "phone1")
    ui = page.locator("ucs-operator")
    await ui.locator("[data-status]").wait_for()
    assert await ui.locator("[data-tabs]").is_hidden()


_OVERFLOW = """(el) => ({more: el.hasAttribute('data-more'), wide: el.scrollWidth > el.clientWidth,
  hint: getComputedStyle(el.nextElementSibling).display !== 'none',
  card: el.closest('.card').scrollWidth <= el.closest('.card').clientWidth})"""


_SETTLED = """() => {
  const el = document.querySelector('ucs-operator').shadowRoot
    .querySelector("[data-team-scroll='queues']");
  return el.hasAttribute('data-more') === (el.scrollWidth > el.clientWidth);
}"""


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (make doc-tools)")
async def test_the_team_tab_filters_by_queue_and_fits_a_phone(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    """Issue 18: a queue filter narrows both tables to the queue and its members, and stays
    chosen while the view changes live; at 360 px the queues' table scrolls inside its card,
    with a line under it saying so while there is more to its right (light and dark, English
    and Czech, axe clean, nothing cut or sticking out)."""
    page = await open_page(browser, crm, running, headless=False)
    await _ready(page, "supervisor", "supervisor-pass", "phone4")
    ui = page.locator("ucs-operator")
    await ui.locator("[data-tab='team']").click()
    await ui.locator("[data-team-agent='1']").wait_for()
    rows = ui.locator("[data-team-agent]")
    agent = await ready_agent(running.url, 1)
    try:
        await ui.locator("[data-team-queue-filter]").select_option("2")  # Sales: Alice, Carol
        assert await ui.locator("[data-team-queue]").count() == 1
        assert await ui.locator("[data-team-queue='2']").count() == 1
        assert sorted([await r.get_attribute("data-team-agent") for r in await rows.all()]) == [
            "1",
            "3",
        ]
        await agent.change_status("AUX", "Lunch")  # a push redraws the tab: the filter stays
        await ui.locator("[data-team-agent='1'] .s-AUX").wait_for()
        assert await rows.count() == 2
        assert await ui.locator("[data-team-queue-filter]").input_value() == "2"
        await ui.locator("[data-team-queue-filter]").select_option("3")  # Campaign: Alice, Bob
        campaign = await ui.locator("[data-team-queue='3'] td").all_inner_texts()
        assert campaign == [
            "Campaign\nOutgoing · in progress 0 · dialled today 0",
            "–",
            "–",
            "0",
            "–",
            "–",
        ]
        assert sorted([await r.get_attribute("data-team-agent") for r in await rows.all()]) == [
            "1",
            "2",
        ]
        await ui.locator("[data-team-status]").select_option("AUX")  # and AUX: Alice
        assert await rows.count() == 1
        await ui.locator("[data-team-status]").select_option("")
        await ui.locator("[data-team-queue-filter]").select_option("")
        assert await rows.count() == 3
        assert await ui.locator("[data-team-queue]").count() == 3

        problems: list[str] = []
        scroller = ui.locator("[data-team-scroll='queues']")
        for theme, lang in (("default", "en"), ("dark", "en"), ("default", "cs"), ("dark", "cs")):
            await page.evaluate(f"window.ucsOperator.setTheme('{theme}')")
            if await page.evaluate("window.ucsOperator.__ucs.lang") != lang:
                await ui.locator("button[data-lang]").click()
                await page.wait_for_function(f"window.ucsOperator.__ucs.lang === '{lang}'")
                await ui.locator("[data-tab='team']").click()
            for width in (360, 1280):
                await page.set_viewport_size({"width": width, "height": 900})
                await page.wait_for_function(_SETTLED)  # the tick looks at the tables again
                seen = await scroller.evaluate(_OVERFLOW)
                assert seen["card"], "the queues' table sticks out of its card"
                assert seen["more"] == seen["wide"] == seen["hint"], seen
                if width == 360:
                    assert seen["wide"], "at 360 px the six columns are wider than the card"
                name = f"team-{width}-{'dark' if theme == 'dark' else 'light'}-{lang}"
                await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
                problems += [f"{name}: {p}" for p in await axe_problems(page)]
                problems += [f"{name}: {p}" for p in await clipped(page)]
        assert problems == []
        # Scrolled to its end, nothing more is to the right: the line goes; a push keeps the
        # table where it was scrolled.
        await page.set_viewport_size({"width": 360, "height": 900})
        await scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
        await page.wait_for_function(
            "!document.querySelector('ucs-operator').shadowRoot"
            ".querySelector(\"[data-team-scroll='queues']\").hasAttribute('data-more')"
        )
        left = await scroller.evaluate("el => el.scrollLeft")
        assert left > 0
        await agent.change_status("READY")
        await ui.locator("[data-team-agent='1'] .s-READY").wait_for()
        assert await scroller.evaluate("el => el.scrollLeft") == left
        await page.screenshot(path=str(SHOTS / "team-360-scrolled.png"), full_page=True)
    finally:
        await agent.close()
