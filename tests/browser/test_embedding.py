"""What an integrator meets when embedding the component (issue 17, items 2-4), in real
Chromium on a CRM page of another origin: on(name, fn) beside the callback properties, the
state's auxReasons, the ES-module entry, and a component that cannot load saying why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import crm_page, open_page
from tests.server.conftest import Running, serving

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]

_LISTEN = """
window.heard = [];
const ucs = window.ucsOperator;
window.offA = ucs.on("stateChange", (s) => window.heard.push(["A", s.state]));
window.offB = ucs.on("stateChange", function (s) { window.heard.push(["B", this === ucs]); });
ucs.on("stateChange", () => { throw new Error("a CRM bug"); });
ucs.on("ready", (s) => window.heard.push(["ready", s.auxReasons]));
ucs.onStateChange = () => window.heard.push(["property"]);
"""


async def test_listeners_hear_beside_the_property_and_unsubscribe(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running)
    await page.evaluate(_LISTEN)
    await page.evaluate("window.ucsOperator.login('agent1', 'agent1-pass')")
    await page.evaluate("window.ucsOperator.selectIdentifier('phone1')")
    await page.evaluate("window.ucsOperator.provision()")
    await page.wait_for_function("window.heard.some(h => h[0] === 'ready')")
    ready = await page.evaluate("window.heard.find(h => h[0] === 'ready')")
    assert ready == ["ready", ["Lunch", "Break", "Meeting", "Training"]]
    await page.evaluate("window.heard = []")
    await page.evaluate("window.ucsOperator.changeStatus('AUX', 'Lunch')")
    await page.wait_for_function("window.heard.some(h => h[0] === 'A')")
    heard = await page.evaluate("window.heard")
    # The property first, then the listeners in the order added; one that throws stops none.
    assert heard[:3] == [["property"], ["A", "READY"], ["B", True]]
    await page.evaluate("window.offA(); window.offA(); window.heard = []")
    await page.evaluate("window.ucsOperator.changeStatus('READY')")
    await page.wait_for_function("window.heard.some(h => h[0] === 'B')")
    assert not any(h[0] == "A" for h in await page.evaluate("window.heard"))
    refused = await page.evaluate(
        """[["ringing", () => {}], ["callRinging", 5], [undefined, () => {}]].map(([n, f]) => {
             try { window.ucsOperator.on(n, f); return "added"; }
             catch (e) { return e.code + ": " + e.message; } })"""
    )
    assert all(r.startswith("INVALID_ARGUMENT: ") for r in refused), refused
    assert "callRinging" in refused[0]  # the message lists the names on() takes


async def test_the_es_module_entry_loads_the_component(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    folder, origin = crm
    (folder / "index.html").write_text(
        f"""<!doctype html><html><head><meta charset="utf-8"><title>CRM</title></head>
<body><div id="operator"></div>
<script type="module">
import loadOperator, {{ METHODS }} from "{running.url}/operator/operator.mjs";
window.log = [];
const ucs = loadOperator({{
  renderTo: "operator",
  onCredentials() {{ window.log.push("credentials"); }},
}});
ucs.on("user", (user) => window.log.push("user " + user.id));
window.ucs = ucs;
window.same = ucs === window.ucsOperator && loadOperator({{}}) === ucs;
window.table = METHODS.answer;
</script></body></html>""",
        encoding="utf-8",
    )
    page = await browser.new_page()
    await page.goto(f"{origin}/index.html")
    await page.wait_for_function("window.log && window.log.includes('credentials')")
    assert await page.evaluate("window.same") is True
    assert await page.evaluate("window.table") == ["READY"]
    await page.evaluate("window.ucs.login('agent2', 'agent2-pass')")
    await page.wait_for_function("window.log.includes('user 2')")
    shadow = await page.evaluate("!!document.querySelector('#operator ucs-operator, #operator *')")
    assert shadow  # the interface rendered into renderTo


async def _broken(browser: Any, crm: tuple[Path, str], server: str, **route: Any) -> Any:
    folder, origin = crm
    (folder / "index.html").write_text(crm_page(server), encoding="utf-8")
    page = await browser.new_page()
    page.console = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.console.append(m.text))
    if route:
        await page.route(route["pattern"], lambda r: r.abort())
    await page.goto(f"{origin}/index.html")
    await page.wait_for_function("window.log.some(e => e[0] === 'onError')")
    return page


async def test_a_module_whose_load_failed_once_is_loaded_again(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    """A module request that fails for a moment (Chromium fails the connections it is opening
    when the machine's network changes: ``ERR_NETWORK_CHANGED``) leaves no page without the
    component: the component's modules and its interface's are fetched again, and it loads."""
    folder, origin = crm
    (folder / "index.html").write_text(crm_page(running.url, headless=False), encoding="utf-8")
    page = await browser.new_page()
    failed: list[str] = []

    async def once(route: Any) -> None:
        if route.request.url in failed:
            await route.continue_()
        else:
            failed.append(route.request.url)
            await route.abort("connectionreset")

    await page.route("**/operator/listeners.js", once)
    await page.route("**/operator/ucs-element.js", once)
    await page.goto(f"{origin}/index.html")
    await page.wait_for_function("window.log.some(e => e[0] === 'onCredentials')")
    await page.wait_for_function("!!document.querySelector('#operator ucs-operator')")
    assert sorted(u.rsplit("/", 1)[1] for u in failed) == ["listeners.js", "ucs-element.js"]
    assert await page.evaluate("window.log.filter(e => e[0] === 'onError')") == []


async def test_a_refused_origin_says_which_setting_to_change(
    browser: Any, crm: tuple[Path, str], tmp_path: Path
) -> None:
    _folder, origin = crm
    async with serving(tmp_path, allowed_origins=("https://crm.example.com",)) as running:
        page = await _broken(browser, crm, running.url)
    error = await page.evaluate("window.log.find(e => e[0] === 'onError')[1][0]")
    assert error["code"] == "ORIGIN_REFUSED"
    said = "\n".join(page.console)
    assert "UCS_ALLOWED_ORIGINS" in said and origin in said
    assert await page.evaluate("window.log.map(e => e[0])") == ["onError"]


async def test_a_server_out_of_reach_is_told_to_on_error(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await _broken(browser, crm, running.url, pattern="**/ucs-operator.js")
    error = await page.evaluate("window.log.find(e => e[0] === 'onError')[1][0]")
    assert error["code"] == "SERVER_UNREACHABLE"
    assert any("cannot be reached" in line for line in page.console)


async def test_the_state_follows_the_administrators_aux_reasons(
    browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    import httpx

    page = await open_page(browser, crm, running)
    await page.evaluate("window.ucsOperator.login('agent2', 'agent2-pass')")
    await page.evaluate("window.ucsOperator.selectIdentifier('phone2')")
    await page.evaluate("window.ucsOperator.provision()")
    # A script, not an expression: a function that evaluate() got back would be called.
    await page.add_script_tag(
        content="window.ucsOperator.on('stateChange', (s) => { window.latest = s.auxReasons; });"
    )
    admin = {"Authorization": "Bearer demo-admin-token"}
    async with httpx.AsyncClient(base_url=running.url, headers=admin) as http:
        r = await http.put("/api/aux-reasons", json={"reasons": ["Lunch", "Coaching"]})
        assert r.status_code == 200
    await page.wait_for_function("window.latest && window.latest.includes('Coaching')")
    assert await page.evaluate("window.ucsOperator.state().auxReasons") == ["Lunch", "Coaching"]
    await page.evaluate("window.ucsOperator.changeStatus('AUX', 'Coaching')")
