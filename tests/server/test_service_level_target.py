"""A queue's ``service_level_target`` (CONTRACT §11): set through REST and the CLI, refused
out of 1..3600 with the field named, and what today's service level counts against."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import MORNING, PRAGUE
from tests.server.conftest import Running
from ucs.cli import app
from ucs.core.ids import QueueId
from ucs.demo import DEMO_PASSWORDS, demo_directory
from ucs.virtual import VirtualCenter

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


@pytest.mark.parametrize("bad", [0, -5, 3601, 2.5, "twenty", None])
async def test_a_target_out_of_range_is_refused_and_nothing_changes(
    running: Running, bad: object
) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        answer = await http.patch("/api/queues/1", json={"service_level_target": bad})
        made = await http.post("/api/queues", json={"name": "X", "service_level_target": bad})
        queue = (await http.get("/api/queues/1")).json()
    assert answer.status_code == 422 and made.status_code == 422  # null too: it has a value
    assert "service_level_target" in str(answer.json()["detail"])
    assert queue["service_level_target"] == 20


async def test_the_cli_sets_it_and_the_core_counts_with_it(running: Running) -> None:
    url = ["--url", running.url]
    runner = CliRunner()
    added = await asyncio.to_thread(
        runner.invoke, app, ["queue", "add", "Care", "--service-level-target", "45", *url]
    )
    changed = await asyncio.to_thread(
        runner.invoke, app, ["queue", "set", "2", "--service-level-target", "30", *url]
    )
    listed = await asyncio.to_thread(runner.invoke, app, ["queue", "list", "--json", *url])
    assert added.exit_code == 0 and changed.exit_code == 0, added.output + changed.output
    assert '"service_level_target": 45' in listed.output
    queues = running.server.center.directory.queues
    assert queues[QueueId(2)].service_level_target == 30
    assert queues[QueueId(4)].service_level_target == 45


@pytest.mark.parametrize(("target", "level"), [(20, 0.0), (30, 100.0)])
def test_todays_service_level_counts_against_the_queues_target(target: int, level: float) -> None:
    demo = demo_directory()
    sales = dataclasses.replace(  # agent3 lets it ring out once and stays READY (no RONA)
        demo.queues[QueueId(2)], service_level_target=target, rona_reason=None
    )
    directory = dataclasses.replace(demo, queues={**demo.queues, QueueId(2): sales})
    vc = VirtualCenter(directory, start=MORNING, passwords=DEMO_PASSWORDS, tz=PRAGUE)
    agent = vc.ready(3)
    call = vc.caller(2)
    vc.advance(15)  # rings out once (15 s), then again
    vc.advance(10)
    vc.call(agent, "answer")  # after 25 s
    vc.caller_hangs_up(call)
    sales_today = next(q for q in vc.center.team_view()["queues"] if q["queue_id"] == 2)
    assert (sales_today["answered"], sales_today["service_level"]) == (1, level)
