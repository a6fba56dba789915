"""The component survives a server killed with -9 and started again."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import crm_page
from tests.helpers import free_port, start_server

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


async def test_the_component_shows_the_loss_reconnects_and_resumes(
    browser: Any, crm: tuple[Path, str], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path}/ucs.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(db, port)
    folder, origin = crm
    (folder / "index.html").write_text(crm_page(url, headless=False), encoding="utf-8")
    page = await browser.new_page()
    try:
        await page.goto(f"{origin}/index.html")
        await page.wait_for_function("window.log.some(e => e[0] === 'onCredentials')")
        await page.evaluate("""(async () => {
            await window.ucsOperator.login('agent2', 'agent2-pass');
            await window.ucsOperator.selectIdentifier('phone2');
            await window.ucsOperator.provision();
            await window.ucsOperator.changeStatus('AUX', 'Lunch');
        })()""")
        await asyncio.sleep(0.3)  # the writer commits within milliseconds (docs/deploy.md)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        await page.wait_for_function("window.log.some(e => e[0] === 'onError' && e[1][0] && true)")
        banner = page.locator("ucs-operator .banner")
        await banner.wait_for(state="visible")
        proc = start_server(db, port)
        await banner.wait_for(state="hidden", timeout=45_000)
        state = await page.evaluate("window.ucsOperator.state()")
        assert (state["state"], state["identifier"]) == ("READY", "phone2")
        assert state["user"]["status"] == "AUX"
        user = await page.evaluate("window.ucsOperator.changeStatus('READY')")
        assert user["status"] == "READY"
    finally:
        proc.terminate()
        proc.wait()
