"""Every method in every component state, in the browser: refused with INVALID_STATE where the
table of CONTRACT §5 does not allow it, and nothing changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import open_page
from tests.server.conftest import Running
from ucs.core.model import Phase
from ucs.core.session import ALIASES, METHODS

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]

STEPS = {
    Phase.CREDENTIALS: [],
    Phase.IDENTIFY: ["login('agent1', 'agent1-pass')"],
    Phase.DEVICE: ["login('agent1', 'agent1-pass')", "selectIdentifier('phone1')"],
    Phase.READY: ["login('agent1', 'agent1-pass')", "selectIdentifier('phone1')", "provision()"],
}

PROBE = """async (names) => {
  const codes = {};
  for (const name of names) {
    if (name === 'state') {
      try { window.ucsOperator.state(); codes[name] = 'ok'; } catch (e) { codes[name] = e.code; }
      continue;
    }
    codes[name] = await window.ucsOperator[name]().then(() => 'ok', (e) => e.code);
  }
  return codes;
}"""


@pytest.mark.parametrize("phase", list(Phase))
async def test_methods_not_allowed_in_a_state_are_refused(
    phase: Phase, browser: Any, crm: tuple[Path, str], running: Running
) -> None:
    page = await open_page(browser, crm, running)
    for step in STEPS[phase]:
        await page.evaluate(f"window.ucsOperator.{step}")
    refused = [m for m, spec in METHODS.items() if phase not in spec.allowed]
    refused += [alias for alias, m in ALIASES.items() if phase not in METHODS[m].allowed]
    before = await page.evaluate("window.ucsOperator.__ucs.phase")
    codes = await page.evaluate(PROBE, refused)
    assert codes == dict.fromkeys(refused, "INVALID_STATE")
    assert await page.evaluate("window.ucsOperator.__ucs.phase") == before == phase.value
    for name in list(METHODS) + list(ALIASES):
        assert await page.evaluate(f"typeof window.ucsOperator.{name}") == "function"
