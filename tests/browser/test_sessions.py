"""Several tabs, remember + autologin, notifications, themes and languages, in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import open_page
from tests.server.conftest import Running

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]

READY = """(async () => {
  await window.ucsOperator.login('agent1', 'agent1-pass', true);
  await window.ucsOperator.selectIdentifier('phone1');
  await window.ucsOperator.provision();
})()"""


async def test_two_tabs_share_one_session(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    first = await open_page(browser, crm, running)
    await first.evaluate(READY)
    second = await open_page(browser, crm, running)
    user = await second.evaluate("window.ucsOperator.login('agent1', 'agent1-pass')")
    assert user["id"] == 1
    await second.wait_for_function("window.log.some(e => e[0] === 'onReady')")
    await first.evaluate("window.ucsOperator.changeStatus('AUX', 'Break')")
    await second.wait_for_function(
        "(() => { try { return window.ucsOperator.state().user.status === 'AUX'; }"
        " catch (e) { return false; } })()"
    )
    await second.evaluate("window.ucsOperator.logout()")
    await first.wait_for_function("window.log.some(e => e[0] === 'onLogout')")
    code = await first.evaluate(
        "(() => { try { window.ucsOperator.state(); } catch (e) { return e.code; } })()"
    )
    assert code == "INVALID_STATE"


async def test_remember_and_autologin_come_back_after_a_reload(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, extra="autologin: true,")
    await page.evaluate(READY)
    await page.reload()
    await page.wait_for_function("window.log.some(e => e[0] === 'onReady')")
    names = await page.evaluate("window.log.map(e => e[0])")
    assert "onCredentials" not in names and names[0] == "onConnect"
    await page.evaluate("window.ucsOperator.logout()")
    await page.reload()
    await page.wait_for_function("window.log.some(e => e[0] === 'onCredentials')")


async def test_notifications_themes_and_languages(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, headless=False, extra='lang: "cs",')
    host = page.locator("ucs-operator")
    assert await host.locator("button[type=submit]").inner_text() == "Přihlásit"
    await page.evaluate(
        "window.ucsOperator.notify('Bad identifier: {identifier}', 'error', true, null,"
        " 'CREDENTIALS', null, {values: {identifier: 'cisco'}})"
    )
    assert await host.locator(".notes-inline .note span").inner_text() == "Bad identifier: cisco"
    await page.evaluate("window.ucsOperator.notify('Bad identifier: {identifier}', 'error', true)")
    assert await host.locator(".note").count() == 1  # unique: the older one went
    theme = await page.evaluate("window.ucsOperator.setTheme('dark')")
    assert theme == "dark" and await host.get_attribute("theme") == "dark"
    code = await page.evaluate("window.ucsOperator.setTheme('pink').then(() => 'ok', e => e.code)")
    assert code == "INVALID_ARGUMENT"
    await page.evaluate("window.ucsOperator.notify('Saved', 'success', false, 200)")
    await host.locator(".n-success").wait_for()
    await host.locator(".n-success").wait_for(state="detached")


async def test_after_a_reload_requests_are_carried_out_not_answered_from_memory(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, extra="autologin: true,")
    await page.evaluate(READY)
    await page.evaluate("window.ucsOperator.changeStatus('READY')")
    await page.reload()
    await page.wait_for_function("window.log.some(e => e[0] === 'onReady')")
    user = await page.evaluate("window.ucsOperator.changeStatus('AUX', 'Lunch')")
    assert user["status"] == "AUX"  # carried out, not a stored answer to an earlier page


async def test_typing_survives_updates_from_the_server(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, headless=False)
    await page.evaluate(READY)
    ui = page.locator("ucs-operator")
    await page.evaluate("window.ucsOperator.dial('+420601123456')")
    code = ui.locator(".call input[name=code]")
    await code.fill("RENEW")
    await page.evaluate("window.ucsOperator.changeStatus('AUX', 'Break')")  # pushes arrive
    await ui.locator(".pill.s-AUX").wait_for()
    assert await code.input_value() == "RENEW"
