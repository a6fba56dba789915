"""What an agent meets at the desk (issue 17, items 5, 9-11), clicked and typed as an agent
would in real Chromium: a ringing call says where it comes from (its queue, the page's title,
a screen reader's announcement, a desktop notification when the page is hidden), the hotkeys
answer, hold, mute and hang up, focus stays where it was, a dial that fails says why, the
Czech interface shows errors in Czech, and the language and the last phone are remembered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import AXE, axe_problems, clipped, open_page
from tests.server.conftest import Running
from ucs.client import Operator

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]

ADMIN = {"Authorization": "Bearer demo-admin-token"}

# A browser that allowed notifications, on a page the agent is not looking at: what the
# component shows is recorded.
HIDDEN_PAGE = """
Object.defineProperty(document, "hidden", { get: () => true });
window.shown = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) {
    this.open = true;
    window.shown.push({ title, ...options, note: this });
  }
  close() { this.open = false; }
};
"""


def _shadow(expression: str) -> str:
    return f"document.querySelector('ucs-operator').shadowRoot.{expression}"


async def _ready(page: Any) -> None:
    for call in (
        "login('agent1', 'agent1-pass')",
        "selectIdentifier('phone1')",
        "provision()",
        "changeStatus('READY')",
    ):
        await page.evaluate(f"window.ucsOperator.{call}")


async def test_a_ringing_call_is_told_and_the_keyboard_handles_it(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    context = await browser.new_context()
    await context.add_init_script(HIDDEN_PAGE)
    page = await open_page(_Context(context), crm, running, headless=False)
    ui = page.locator("ucs-operator")
    await _ready(page)
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420601123456", "name": "Jan Novák"}
        )
    await ui.locator("button[data-do=answer]").wait_for()
    assert await ui.locator("button[data-do=hangup]").inner_text() == "Reject"
    assert await ui.locator("[data-queue-name]").inner_text() == "Queue: Support"
    await page.wait_for_function(_shadow("querySelector('[data-live]').textContent") + " !== ''")
    spoken = await page.evaluate(_shadow("querySelector('[data-live]').textContent"))
    assert spoken == "Call from Jan Novák · Queue: Support"
    assert await page.title() == "☎ Call from Jan Novák · Queue: Support"
    shown = await page.evaluate("window.shown.map((n) => [n.title, n.body, n.note.open])")
    assert shown == [["Ringing", "Call from Jan Novák · Queue: Support", True]]

    await page.keyboard.press("Alt+Shift+KeyA")  # answer
    await ui.locator("button[data-do=hold]").wait_for()
    assert await page.title() == "CRM"  # the page's own title is back
    assert await page.evaluate("window.shown[0].note.open") is False
    await page.keyboard.press("Alt+Shift+KeyO")  # hold
    await ui.locator("button[data-do=unhold]").wait_for()
    await page.keyboard.press("Alt+Shift+KeyO")  # and back
    await ui.locator("button[data-do=hold]").wait_for()
    await page.keyboard.press("Alt+Shift+KeyM")  # mute
    await ui.locator("button[data-do=mute][aria-pressed=true]").wait_for()

    # Focus stays on the control the agent used, though the card is drawn again.
    await ui.locator("button[data-do=mute]").focus()
    await page.keyboard.press("Enter")  # unmute
    await ui.locator("button[data-do=mute][aria-pressed=false]").wait_for()
    assert await page.evaluate(_shadow("activeElement.dataset.do")) == "mute"
    await ui.locator("select[data-change-status]").focus()
    await page.keyboard.press("ArrowDown")  # to the first AUX reason: the status card redraws
    await ui.locator(".pill.s-AUX").wait_for()
    assert await page.evaluate(_shadow("activeElement.dataset.changeStatus")) == ""

    # An account code saved shows on the call.
    await ui.locator("input[name=code]").fill("SALE")
    await ui.locator("form[data-code] button[type=submit]").click()
    await ui.locator("[data-codes]:text-is('Saved codes: SALE')").wait_for()

    await page.keyboard.press("Alt+Shift+KeyH")  # hang up
    await ui.locator(".card.muted:text-is('No call')").wait_for()
    await context.close()


async def test_outcomes_errors_language_and_last_phone(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, headless=False, extra="listDevices: true,")
    ui = page.locator("ucs-operator")
    await ui.locator("button[data-lang]").click()  # Czech, remembered by the browser
    await page.reload()
    await page.wait_for_function("window.log.some(e => e[0] === 'onCredentials')")
    assert await ui.locator("button[type=submit]").inner_text() == "Přihlásit"
    await ui.locator("input[name=username]").fill("agent1")
    await ui.locator("input[name=password]").fill("wrong-password")
    await ui.locator("button[type=submit]").click()
    note = ui.locator(".notes-inline .n-error span")
    await note.wait_for()
    assert await note.inner_text() == "Chybné uživatelské jméno nebo heslo."
    await ui.locator("input[name=password]").fill("agent1-pass")
    await ui.locator("button[type=submit]").click()
    await ui.locator("button[data-phone=phone1]").click()
    await ui.locator("button[data-confirm]").click()
    await ui.locator("select[data-change-status]").wait_for()

    # The number field offers the colleagues at work to pick from, by name or extension.
    async with Operator(running.url) as colleague:
        await colleague.login("agent2", "agent2-pass")
        await colleague.select_identifier("phone2")
        await colleague.provision()
        await colleague.change_status("READY")
        await ui.locator("input[name=number]").focus()
        await ui.locator("#ucs-directory option[value='1002']").wait_for(state="attached")
        label = await ui.locator("#ucs-directory option[value='1002']").text_content()
        assert label == "Bob Dvořák · K dispozici"
        await ui.locator("input[name=number]").fill("1002")
        await ui.locator("button[data-blind]").focus()  # off the field: the list closes

    for number, key, words in (
        ("+420601000003", "rejected", "Číslo +420601000003 hovor odmítlo."),
        ("+420601000001", "busy", "Číslo +420601000001 je obsazené."),
        ("+42012", "invalidNumber", "Číslo +42012 není platné."),
    ):
        await ui.locator("input[name=number]").fill(number)
        await ui.locator("form[data-dial] button[type=submit]").click()
        await ui.locator(f"[data-outcome={key}]").wait_for()
        await ui.locator(f"footer .n-warning span:text-is('{words}')").wait_for()
        assert await ui.locator("[data-ended]").count() == 1  # the last one only
    assert await ui.locator("[data-outcome]").text_content() == "Neplatné číslo"
    await ui.locator("[data-close-outcome]").click()
    await ui.locator("[data-ended]").wait_for(state="detached")

    # The keypad folds away, and opens with its button.
    assert await ui.locator(".keypad").is_hidden()
    await ui.locator("[data-keypad-toggle]").click()
    await ui.locator("button[data-key='5']").click()
    assert await ui.locator("input[name=number]").input_value() == "+420125"

    # A returning agent starts work in one click, on the phone of last time.
    await ui.locator("button[data-logout]").click()
    await ui.locator("input[name=username]").fill("agent1")
    await ui.locator("input[name=password]").fill("agent1-pass")
    await ui.locator("button[type=submit]").click()
    start = ui.locator("button[data-last-phone=phone1]")
    assert await start.inner_text() == "Začít pracovat na phone1"
    await start.click()
    await ui.locator("select[data-change-status]").wait_for()
    assert await page.evaluate("window.ucsOperator.state().identifier") == "phone1"


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (make doc-tools)")
async def test_the_screen_checks_find_what_is_wrong(browser: Any) -> None:
    """The checks of test_agent_screens.py can fail: an input with no name and grey on grey
    are axe violations, a word wider than its button is cut."""
    page = await browser.new_page()
    await page.set_content(
        '<html lang="en"><body><div id="bad"><input>'
        '<p style="color:#aaa;background:#bbb">faint</p>'
        '<button style="width:30px;overflow:hidden;white-space:nowrap">Unbelievably</button>'
        "</div></body></html>"
    )
    problems = await axe_problems(page, "#bad")
    assert any(p.startswith("label:") for p in problems)
    assert any(p.startswith("color-contrast:") for p in problems)
    assert any("Unbelievably" in p for p in await clipped(page, "#bad"))
    await page.close()


class _Context:
    """A browser context standing in for the browser in ``open_page`` (its pages get the
    context's init script)."""

    def __init__(self, context: Any) -> None:
        self.context = context

    async def new_page(self) -> Any:
        return await self.context.new_page()


async def test_keyboard_focus_goes_on_to_the_next_screen_and_past_an_ended_call(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    """Signed in, a phone chosen and confirmed, a call hung up, the language switched, all
    with the keyboard: each time the focus is on a control of the component, never back at
    the page's start (where the next Tab would begin again)."""
    page = await open_page(browser, crm, running, headless=False, extra="listDevices: true,")
    ui = page.locator("ucs-operator")
    focused = _shadow("activeElement && " + _shadow("activeElement.tagName"))
    await ui.locator("input[name=username]").fill("agent1")
    await ui.locator("input[name=password]").fill("agent1-pass")
    await ui.locator("input[name=password]").press("Enter")
    await ui.locator("button[data-phone=phone1]").wait_for()
    assert await page.evaluate(focused) in ("BUTTON", "INPUT", "SELECT")
    await ui.locator("button[data-phone=phone1]").focus()
    await page.keyboard.press("Enter")
    await ui.locator("button[data-confirm]").wait_for()
    assert await page.evaluate(focused) in ("BUTTON", "INPUT", "SELECT")
    await ui.locator("button[data-confirm]").focus()
    await page.keyboard.press("Enter")
    await ui.locator("select[data-change-status]").wait_for()
    assert await page.evaluate(focused) in ("BUTTON", "INPUT", "SELECT")

    await page.evaluate("window.ucsOperator.changeStatus('READY')")
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        await http.post("/api/sim/calls", json={"queue": 2, "from": "+420601123456"})
    await ui.locator("button[data-do=answer]").focus()
    await page.keyboard.press("Enter")
    await ui.locator("button[data-do=hangup]").focus()
    await page.keyboard.press("Enter")  # the card goes, with the focus that was on it
    await ui.locator(".card.muted:text-is('No call')").wait_for()
    assert await page.evaluate(focused) in ("BUTTON", "INPUT", "SELECT")

    await ui.locator("button[data-lang]").focus()
    await page.keyboard.press("Enter")
    await ui.locator("button[data-lang]:text-is('English')").wait_for()
    assert await page.evaluate(_shadow("activeElement.dataset.lang")) == ""  # still on it
