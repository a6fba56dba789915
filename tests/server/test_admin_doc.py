"""docs/admin.md's examples run as written (issue 17, item 13): its step-by-step section is run
by bash, line by line as an administrator would paste it, against a fresh demo server, and
prints what the document says it prints (its ``# → …`` lines)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.server.conftest import Running
from ucs.cli import app as cli

pytestmark = pytest.mark.anyio

DOC = Path(__file__).resolve().parents[2] / "docs" / "admin.md"
_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def _steps() -> str:
    """The shell blocks of the section "Setting up a center, step by step"."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Setting up a center, step by step", 1)[1].split("\n## ", 1)[0]
    return "\n".join(_BLOCK.findall(section))


def test_the_document_has_the_steps_it_promises() -> None:
    steps = _steps()
    for command in ("ucs aux", "ucs queue add", "ucs agent add", "ucs cdr", "ucs phone remove"):
        assert command in steps
    assert steps.count("# → ") >= 10


async def test_the_step_by_step_examples_run_as_written(running: Running, tmp_path: Path) -> None:
    script = "set -euo pipefail\n" + _steps().replace("http://127.0.0.1:8080", running.url)
    bin_dir = str(Path(sys.executable).parent)  # where `ucs` is installed
    env = {k: v for k, v in os.environ.items() if not k.startswith("UCS_")}
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    env["COLUMNS"] = "60"  # a narrow terminal: tables must still show whole ids
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    at = 0
    for expected in re.findall(r"^# → (.*)$", script, re.M):
        found = out.find(expected, at)
        assert found >= 0, f"{expected!r} not printed (after {out[at : at + 200]!r})"
        at = found + len(expected)
    # What the commands did is what the API says now.
    today = await asyncio.to_thread((tmp_path / "today.csv").read_text, encoding="utf-8-sig")
    rows = list(csv.DictReader(today.splitlines()))
    assert rows and rows[-1]["caller_name"] == "Jana Dvořáková"
    assert rows[-1]["cause_name"] == "caller_hangup"
    queues = json.loads(out[out.index("[\n") : out.rindex("]") + 1])
    assert [q["name"] for q in queues] == ["Support", "Sales", "Campaign", "Billing"]
    server = running.server
    assert server.center.directory.aux_reasons == ("Lunch", "Break", "Meeting", "Missed call")
    assert 4 not in server.center.directory.queues and 5 not in server.center.directory.agents
    assert server.settings.sso_secret == "a-longer-sso-secret"
    uid_line = next(line for line in out.splitlines() if "hung up" in line)
    assert uid_line.split()[0] in {r["uniqueid"] for r in rows}
    # The table of `ucs cdr --queue 4` shows the uniqueid whole on a 60-column terminal.
    assert out.count(uid_line.split()[0]) >= 2


async def test_every_list_has_json_and_refusals_name_their_field(running: Running) -> None:
    url = ["--url", running.url, "--token", "demo-admin-token"]

    async def ucs(*args: str) -> Result:
        return await asyncio.to_thread(CliRunner().invoke, cli, [*args, *url])

    for command, key in (
        (("agent", "list"), "username"),
        (("phone", "list"), "identifier"),
        (("queue", "list"), "strategy"),
        (("queue", "members", "1"), "priority"),
        (("stats", "agents"), "status"),
        (("stats", "queues"), "waiting"),
        (("cdr",), None),
        (("audit",), "actor"),
    ):
        result = await ucs(*command, "--json")
        assert result.exit_code == 0, result.output
        rows = json.loads(result.output)
        assert isinstance(rows, list) and all(key in r for r in rows), command
    result = await ucs("aux", "list", "--json")
    assert json.loads(result.output) == ["Lunch", "Break", "Meeting", "Training"]
    result = await ucs("agent", "add", "frank", "--password", "short")
    assert result.exit_code == 1 and "ucs: 422: password: " in result.output
    result = await ucs("phone", "add", "desk9", "1002")
    assert (
        result.exit_code == 1 and "ucs: 409: extension: '1002' is taken by phone 2" in result.output
    )
    result = await ucs("queue", "add", "Billing", "--rona-reason", "Coffee")
    assert result.exit_code == 1 and "rona_reason: 'Coffee' is not an AUX reason" in result.output
    result = await ucs("aux", "remove", "Coffee")
    assert result.exit_code == 1 and "no AUX reason 'Coffee'" in result.output
    result = await ucs("settings", "set", "sso-secret", "{not json")
    assert result.exit_code != 0 and "not JSON" in result.output
