"""Call control through window.ucsOperator in Chromium: dial, mute, account codes, attended
and blind transfer between two agents' pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import open_page
from tests.server.conftest import Running

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


def ready(user: str, phone: str) -> str:
    return f"""(async () => {{
      await window.ucsOperator.login('{user}', '{user}-pass');
      await window.ucsOperator.selectIdentifier('{phone}');
      await window.ucsOperator.provision();
      await window.ucsOperator.changeStatus('READY');
    }})()"""


async def test_dial_mute_account_code_and_transfers(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    a1 = await open_page(browser, crm, running)
    a2 = await open_page(browser, crm, running)
    await a1.evaluate(ready("agent1", "phone1"))
    await a2.evaluate(ready("agent2", "phone2"))

    call = await a1.evaluate("window.ucsOperator.dial('+420601123456', 'directCall')")
    assert call["direction"] == "OUTGOING" and call["outbound_id"] is None
    await a1.wait_for_function("window.log.some(e => e[0] === 'onCallConnect')")
    muted = await a1.evaluate("window.ucsOperator.mute()")
    assert muted["caller_muted"] is True
    codes = await a1.evaluate(
        f"window.ucsOperator.setAccountCode('{call['uniqueid']}', 'SALES', 'renewal', false)"
    )
    assert codes == [{"accountCode": "SALES", "subAccountCode": "renewal"}]
    await a1.evaluate("window.ucsOperator.hangup()")

    async with httpx.AsyncClient(
        base_url=running.url, headers={"Authorization": "Bearer demo-admin-token"}
    ) as http:
        r = await http.post("/api/sim/calls", json={"queue": 2, "from": "+420601777777"})
        uid = r.json()["uniqueid"]
    await a1.wait_for_function(
        "window.log.some(e => e[0] === 'onCallRinging' && e[1][0].direction === 'INCOMING')"
    )
    await a1.evaluate("window.ucsOperator.answer()")
    waiting = await a1.evaluate("window.ucsOperator.transfer()")
    assert waiting["state"] == 4
    await a1.evaluate("window.ucsOperator.dial('1002')")
    await a2.wait_for_function("window.log.some(e => e[0] === 'onCallRinging')")
    await a2.evaluate("window.ucsOperator.answer()")
    await a1.wait_for_function(
        "window.ucsOperator.state().calls.some(c => c.called_number === '1002' && c.state === 3)"
    )
    await a1.evaluate("window.ucsOperator.finishTransfer()")
    await a2.wait_for_function(
        f"window.ucsOperator.state().calls.some(c => c.uniqueid === '{uid}' && c.state === 3)"
    )
    assert (await a1.evaluate("window.ucsOperator.state()"))["calls"] == []
    await a2.evaluate("window.ucsOperator.blindTransfer('+420601123456')")
    await a2.wait_for_function("window.ucsOperator.state().calls.length === 0")
    hangups = await a2.evaluate(
        "window.log.filter(e => e[0] === 'onCallHangup').map(e => e[1][0].cause)"
    )
    assert hangups[-1] == 8


async def test_an_unregistered_phone_is_shown_to_the_agent(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    """A pushed error (not the answer to a call of the API) reaches onError and is shown in the
    component: here, the switch saying that the agent's phone is not registered."""
    from ucs.core.events import Registrations
    from ucs.core.ids import LineId

    page = await open_page(browser, crm, running, headless=False)
    await page.evaluate(ready("agent1", "phone1"))
    running.server.engine.submit(Registrations(frozenset({LineId(2)})))
    await page.wait_for_function(
        "window.log.some(e => e[0] === 'onError' && e[1][0].code === 'SWITCH_FAILURE')"
    )
    note = page.locator("ucs-operator").locator(".note.n-error")
    await note.wait_for()
    assert "Phone phone1 is not registered" in (await note.inner_text())
    await page.screenshot(path=str(crm[0] / "unregistered.png"), full_page=True)
    await note.locator("button[data-dismiss]").click()
    await note.wait_for(state="detached")


async def test_the_unregistered_phone_is_said_in_czech(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    from ucs.core.events import Registrations

    page = await open_page(browser, crm, running, headless=False, extra="lang: 'cs',")
    await page.evaluate(ready("agent2", "phone2"))
    running.server.engine.submit(Registrations(frozenset()))
    note = page.locator("ucs-operator").locator(".note.n-error")
    await note.wait_for()
    assert "Telefon phone2 není zaregistrován" in (await note.inner_text())
