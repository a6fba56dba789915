"""window.ucsOperator on a CRM page of another origin, in real Chromium."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import SHOTS, open_page
from tests.server.conftest import Running
from ucs.core.model import CALL_FIELDS, QUEUE_FIELDS, USER_FIELDS

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]

ADMIN = {"Authorization": "Bearer demo-admin-token"}


async def _names(page: Any) -> list[str]:
    names: list[str] = await page.evaluate("window.log.map(e => e[0])")
    return names


async def test_a_normal_start_calls_back_in_the_documented_order(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running)
    assert await _names(page) == ["onConnect", "onCredentials"]
    user = await page.evaluate("window.ucsOperator.login('agent1', 'agent1-pass')")
    assert user["id"] == 1 and "queues" in user
    await page.evaluate("window.ucsOperator.selectIdentifier('phone1')")
    state = await page.evaluate("window.ucsOperator.provision()")
    assert state["state"] == "READY"
    await page.wait_for_function("window.log.some(e => e[0] === 'onReady')")
    names = await _names(page)
    order = ["onConnect", "onCredentials", "onUser", "onIdentify", "onIdentifier", "onDevice"]
    expected = [*order, "onReady"]
    assert [n for n in names if n in expected][: len(expected)] == expected
    now = await page.evaluate("window.ucsOperator.state()")
    assert set(now) == {
        "state",
        "user",
        "calls",
        "call",
        "identifier",
        "line",
        "ringingSound",
        "theme",
        "auxReasons",
    }
    assert now["auxReasons"] == ["Lunch", "Break", "Meeting", "Training"]
    assert (now["state"], now["identifier"], now["line"]) == ("READY", "phone1", 1)


async def test_refusals_are_errors_with_codes(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running)
    code = await page.evaluate("window.ucsOperator.answer().then(() => 'resolved', e => e.code)")
    assert code == "INVALID_STATE"
    thrown = await page.evaluate(
        "(() => { try { window.ucsOperator.state(); } catch (e) { return e.code; } })()"
    )
    assert thrown == "INVALID_STATE"
    code = await page.evaluate(
        "window.ucsOperator.login('agent1', 'wrong').then(() => 'resolved', e => e.code)"
    )
    assert code == "UNAUTHORIZED"
    await page.evaluate("window.ucsOperator.login('agent2', 'agent2-pass')")
    code = await page.evaluate(
        "window.ucsOperator.identifier('nope').then(() => 'resolved', e => e.code)"
    )
    assert code == "NOT_FOUND"
    await page.evaluate("window.ucsOperator.identificator('phone2')")
    await page.evaluate("window.ucsOperator.provision()")
    code = await page.evaluate(
        "window.ucsOperator.changeStatus('BUSY').then(() => 'resolved', e => e.code)"
    )
    assert code == "INVALID_ARGUMENT"


async def test_a_queue_call_rings_is_answered_held_and_hung_up(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running)
    await page.evaluate("""(async () => {
        await window.ucsOperator.login('agent1', 'agent1-pass');
        await window.ucsOperator.selectIdentifier('phone1');
        await window.ucsOperator.provision();
        await window.ucsOperator.changeStatus('READY');
    })()""")
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.post(
            "/api/sim/calls", json={"queue": 1, "from": "+420601123456", "name": "Jan Novák"}
        )
        uid = r.json()["uniqueid"]
    await page.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
    ringing = await page.evaluate("window.log.find(e => e[0] === 'onCallRinging')[1][0]")
    assert ringing["uniqueid"] == uid and ringing["caller_name"] == "Jan Novák"
    assert set(ringing) == CALL_FIELDS  # exactly the document's fields
    user = await page.evaluate("window.ucsOperator.state().user")
    assert set(user) == USER_FIELDS
    assert all(set(q) == QUEUE_FIELDS for q in user["queues"].values())
    await page.evaluate("window.ucsOperator.answer()")
    await page.wait_for_function("window.log.some(e => e[0] === 'onCallConnect')")
    held = await page.evaluate("window.ucsOperator.tribute()")
    assert held["state"] == 5
    await page.evaluate("window.ucsOperator.unhold()")
    await page.evaluate("window.ucsOperator.hangup()")
    await page.wait_for_function("window.log.some(e => e[0] === 'onCallHangup')")
    hung = await page.evaluate("window.log.find(e => e[0] === 'onCallHangup')[1][0]")
    assert hung["cause"] == 4 and hung["disconnected"] is not None
    state = await page.evaluate("window.ucsOperator.state()")
    assert state["calls"] == [] and state["user"]["in_calls_answered"] == 1
    await asyncio.sleep(0)


async def test_the_interface_lives_in_an_open_shadow_root_and_logs_in(
    browser: Any, crm: tuple[Path, str], running: Running, tmp_path: Path
) -> None:
    page = await open_page(browser, crm, running, headless=False, extra="listDevices: true,")
    host = page.locator("ucs-operator")
    await host.locator("input[name=username]").fill("agent3")
    await host.locator("input[name=password]").fill("agent3-pass")
    await host.locator("button[type=submit]").click()
    await host.locator("button[data-phone=phone3]").click()
    await host.locator("button[data-confirm]").click()
    await page.wait_for_function("window.log.some(e => e[0] === 'onReady')")
    await host.locator("[data-status] .pill").wait_for()
    await page.screenshot(path=str(SHOTS / "ready.png"), full_page=True)
    color = await host.locator("button[data-logout]").evaluate(
        "b => getComputedStyle(b).backgroundColor"
    )
    assert color != "rgb(255, 255, 0)"  # the CRM's yellow buttons do not leak in
