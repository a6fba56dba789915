"""What the browser tests share: a CRM page of another origin embedding the component, opened
in Chromium, and where screenshots go."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.server.conftest import Running
from ucs.client import Operator

__all__ = ["AXE", "CALLBACKS", "SHOTS", "axe_problems", "clipped", "crm_page", "goto", "open_page"]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"  # looked at, not kept
SHOTS.mkdir(parents=True, exist_ok=True)
AXE = Path(sys.executable).parents[1] / "node" / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core from the npm registry, installed by ``make doc-tools`` (never from a CDN)."""

CALLBACKS = [
    "onConnect",
    "onCredentials",
    "onUser",
    "onIdentify",
    "onIdentifier",
    "onDevice",
    "onReady",
    "onStateChange",
    "onCallRinging",
    "onCallConnect",
    "onCallHangup",
    "onCall",
    "onLogout",
    "onError",
    "onTeamChange",
]


def crm_page(server: str, *, headless: bool = True, extra: str = "") -> str:
    hooks = ",\n".join(
        f"{name}(...a) {{ window.log.push(['{name}', JSON.parse(JSON.stringify(a))]); }}"
        for name in CALLBACKS
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>CRM</title>
<style>body {{ font-family: serif; color: red; }} button {{ background: yellow; }}</style></head>
<body><h1>Acme CRM</h1><div id="operator"></div>
<script>
window.log = [];
window.ucsOperator = {{ renderTo: "operator", headless: {str(headless).lower()}, {extra}
{hooks} }};
</script>
<script src="{server}/operator/operator.js"></script></body></html>"""


async def open_page(browser: Any, crm: tuple[Path, str], running: Running, **kw: Any) -> Any:
    """A new page showing the CRM page with the component, once it asked for credentials."""
    folder, origin = crm
    (folder / "index.html").write_text(crm_page(running.url, **kw), encoding="utf-8")
    page = await browser.new_page()
    page.on("console", lambda m: print("console:", m.text))
    await goto(page, f"{origin}/index.html")
    # The component's modules load in well under a second, some 3 s on a machine loaded to 14
    # with media tests; they are fetched again after a failed load (a network change).
    await page.wait_for_function("window.log.some(e => e[0] === 'onCredentials')", timeout=60_000)
    return page


async def goto(page: Any, url: str) -> None:
    """``page.goto(url)``, once more when Chromium failed the navigation because the host's
    network changed (``ERR_NETWORK_CHANGED``: a link or address of the machine came or went,
    such as the veth pair of another test process's media namespace, tests/media)."""
    for attempt in range(3):
        try:
            await page.goto(url)
            return
        except Exception as err:  # playwright's Error
            if "ERR_NETWORK_CHANGED" not in str(err) or attempt == 2:
                raise


CHECKS = (Path(__file__).parent / "screen_checks.js").read_text(encoding="utf-8")
"""The page-side halves of ``axe_problems`` and ``clipped``."""


async def axe_problems(page: Any, selector: str = "ucs-operator") -> list[str]:
    """axe-core's critical and serious violations inside ``selector`` (its shadow root too),
    each as "rule: what @ where"; empty when there are none."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        await page.add_script_tag(content=CHECKS)
    return list(await page.evaluate("(s) => window.ucsChecks.axe(s)", selector))


async def clipped(page: Any, selector: str = "ucs-operator") -> list[str]:
    """What does not fit inside the component: text wider than its box (buttons, labels,
    headings, a select's chosen option), anything sticking out of it, or the page scrolling
    sideways."""
    if not await page.evaluate("typeof window.ucsChecks !== 'undefined'"):
        await page.add_script_tag(content=CHECKS)
    return list(await page.evaluate("(s) => window.ucsChecks.clipped(s)", selector))


@contextlib.asynccontextmanager
async def colleague_rung(ui: Any, url: str) -> AsyncIterator[Operator]:
    """agent2 on phone2 (extension 1002), rung by an attended transfer that the component
    (``ui``, its shadow host) starts to 1002; yields agent2's SDK client once it rings."""
    async with Operator(url) as colleague:
        await colleague.login("agent2", "agent2-pass")
        await colleague.select_identifier("phone2")
        await colleague.provision()
        events = colleague.events()
        await ui.locator("input[name=number]").fill("1002")
        await ui.locator("button[data-transfer]").click()
        async with asyncio.timeout(30):
            async for event in events:
                if event.type == "call" and event.what == "ringing":
                    break
        yield colleague
