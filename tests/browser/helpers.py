"""What the browser tests share: a CRM page of another origin embedding the component, opened
in Chromium, and where screenshots go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.server.conftest import Running

__all__ = ["CALLBACKS", "SHOTS", "crm_page", "open_page"]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"  # looked at, not kept
SHOTS.mkdir(parents=True, exist_ok=True)

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
    await page.goto(f"{origin}/index.html")
    await page.wait_for_function("window.log.some(e => e[0] === 'onCredentials')")
    return page
