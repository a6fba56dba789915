"""The ``ucs`` command against a running server."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from tests.server.conftest import Running
from ucs.cli import app
from ucs.core.sso import ReplayMemory, verify_token

pytestmark = pytest.mark.anyio


async def _ucs(*args: str) -> tuple[int, str]:
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
    return result.exit_code, result.output


async def test_admin_commands_through_the_api(running: Running) -> None:
    url = ["--url", running.url]
    code, out = await _ucs("queue", "add", "Returns", "--strategy", "ringall", *url)
    assert code == 0 and "queue Returns added with id 4" in out
    code, out = await _ucs("phone", "add", "desk5", "1005", *url)
    assert code == 0 and "added as line 5" in out
    code, out = await _ucs("agent", "add", "erin", "--password", "erin-pass", "--queue", "4", *url)
    assert code == 0 and "agent erin added" in out
    code, out = await _ucs("agent", "list", *url)
    assert code == 0 and "erin" in out and "agent1" in out
    code, out = await _ucs("queue", "member", "4", "1", "--priority", "2", *url)
    assert code == 0
    code, out = await _ucs("sim", "call", "4", "--from", "+420601555555", *url)
    assert code == 0 and "." in out.strip()
    code, out = await _ucs("sim", "hangup", out.strip(), *url)
    assert code == 0
    code, out = await _ucs("cdr", "--csv", *url)
    assert code == 0 and out.startswith("called_name")
    code, out = await _ucs("agent", "passwd", "999", "--password", "x", *url)
    assert code == 1 and "404" in out


def test_sso_token_is_accepted_by_the_core() -> None:
    result = CliRunner().invoke(app, ["sso-token", "agent1", "--secret", "s3cret"])
    assert result.exit_code == 0
    import time

    verify_token("s3cret", "agent1", result.output.strip(), time.time(), ReplayMemory())
