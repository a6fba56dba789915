"""Login throttling through the server's sockets (docs/security.md, Logins): a lockout is
written to the log once, without the password; a flood of unknown usernames is slowed and
answered as a real username's wrong password is, while the real password still gets in."""

from __future__ import annotations

import logging

import pytest

from tests.server.conftest import Running
from ucs.client import Operator, OperatorError

pytestmark = pytest.mark.anyio


async def _refusal(op: Operator, username: str, password: str) -> str:
    with pytest.raises(OperatorError) as err:
        await op.login(username, password)
    return err.value.code


async def test_a_lockout_is_logged_once_and_never_the_password(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ucs")
    async with Operator(running.url, reconnect=False) as op:
        codes = [await _refusal(op, "agent1", "hunter2-guess") for _ in range(7)]
    assert codes == ["UNAUTHORIZED"] * 5 + ["TOO_MANY_ATTEMPTS"] * 2
    locked = [r.getMessage() for r in caplog.records if "login locked" in r.getMessage()]
    assert locked == ["login locked: username=agent1 for 300 s"]
    assert "hunter2-guess" not in caplog.text


async def test_a_flood_of_unknown_usernames_is_slowed_and_the_real_password_gets_in(
    running: Running,
) -> None:
    running.server.center.throttle.burst = 5.0  # the flood fills it in a few attempts
    async with Operator(running.url, reconnect=False) as op:
        codes = [await _refusal(op, f"throwaway{i}", "guess") for i in range(8)]
        assert codes == ["UNAUTHORIZED"] * 5 + ["TOO_MANY_ATTEMPTS"] * 3
        # A real username's wrong password gets the answer an unknown one gets.
        assert await _refusal(op, "agent2", "guess") == "TOO_MANY_ATTEMPTS"
        assert await _refusal(op, "nobody", "guess") == "TOO_MANY_ATTEMPTS"
        welcome = await op.login("agent2", "agent2-pass")
        assert welcome["user"]["id"] == 2
    assert len(running.server.center.throttle) == 0
