"""A callback request in the component, in real Chromium (CONTRACT §12): shown as one, with an
Answer button that makes the server dial the number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import open_page
from tests.crm.helpers import ADMIN
from tests.server.conftest import Running

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


async def test_the_agent_answers_a_callback_request_and_the_number_is_dialled(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running, headless=False)
    await page.evaluate("window.ucsOperator.login('agent1', 'agent1-pass')")
    await page.evaluate("window.ucsOperator.selectIdentifier('phone1')")
    await page.evaluate("window.ucsOperator.provision()")
    await page.evaluate("window.ucsOperator.changeStatus('READY')")
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        r = await http.post("/api/queues/1/callbacks", json={"number": "+420602234567"})
        assert r.status_code == 201
    card = page.locator("[data-calls] .call")
    await card.get_by_text("Callback request").wait_for()
    ringing = await page.evaluate("window.log.find(e => e[0] === 'onCallRinging')[1][0]")
    assert ringing["direction"] == "OUTGOING" and ringing["data"]["callback"] is True
    await card.locator("button[data-do=answer]").click()
    await page.wait_for_function("window.log.some(e => e[0] === 'onCallConnect')")
    await card.locator("button[data-do=hold]").wait_for()  # connected: the number answered
