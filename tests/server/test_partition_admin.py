"""Partitions in the administration (CONTRACT §13): queues and agents carry a ``partition``
(default ``main``), and the admin API refuses an agent whose queues are not all in its
partition, a queue moved away from its agents, and bad names; what it refuses changes nothing.
A server on its own runs every partition."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.server.conftest import Running
from ucs.client import Operator

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


def _refused_on(answer: httpx.Response, field: str) -> str:
    assert answer.status_code == 422, answer.text
    (problem,) = [p for p in answer.json()["detail"] if p["loc"][-1] == field]
    message: str = problem["msg"]
    return message


async def _snapshot(http: httpx.AsyncClient) -> tuple[Any, Any]:
    return (await http.get("/api/agents")).json(), (await http.get("/api/queues")).json()


async def test_the_partition_field_defaults_to_main_and_is_validated(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        queues = (await http.get("/api/queues")).json()
        agents = (await http.get("/api/agents")).json()
        assert {q["partition"] for q in queues} == {"main"}
        assert {a["partition"] for a in agents} == {"main"}
        before = await _snapshot(http)
        for bad in ("", "North", "-x", "a" * 33, "no space", 7, None):
            q = await http.post("/api/queues", json={"name": "X", "partition": bad})
            assert "partition" in str(q.json()["detail"]), (bad, q.text)
            assert q.status_code == 422, (bad, q.text)
            a = await http.patch("/api/agents/1", json={"partition": bad})
            assert a.status_code == 422, (bad, a.text)
        assert await _snapshot(http) == before
        q = await http.post("/api/queues", json={"name": "North", "partition": "north-1"})
        assert q.status_code == 201 and q.json()["partition"] == "north-1", q.text


async def test_an_agents_queues_are_all_in_its_partition(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        north = (await http.post("/api/queues", json={"name": "N", "partition": "north"})).json()
        before = await _snapshot(http)
        # a new agent of main in a queue of north
        a = await http.post(
            "/api/agents",
            json={"username": "nina", "password": "nina-pass", "memberships": [{"queue": 1}]}
            | {"partition": "north"},
        )
        assert "queue 1 (Support) is in partition 'main'" in _refused_on(a, "memberships")
        # agent1 (queues 1, 2, 3 of main) moved to north alone
        a = await http.patch("/api/agents/1", json={"partition": "north"})
        message = _refused_on(a, "partition")
        assert "is in partition 'main', the agent in 'north'" in message
        assert "an agent's queues are all in its partition" in message
        # agent3 given north's queue
        a = await http.patch("/api/agents/3", json={"memberships": [{"queue": north["id"]}]})
        assert "in partition 'north', the agent in 'main'" in _refused_on(a, "memberships")
        m = await http.put(f"/api/queues/{north['id']}/members/3", json={"priority": 1})
        assert m.status_code == 409 and m.json()["detail"].startswith("partition: "), m.text
        # the Sales queue (agent1's, agent3's, the supervisor's) moved to north without them
        q = await http.patch("/api/queues/2", json={"partition": "north"})
        assert "agent1, agent3, supervisor are members of queue 2" in _refused_on(q, "partition")
        # a queue whose callbacks are dialled under a campaign of another partition
        q = await http.patch(f"/api/queues/{north['id']}", json={"campaign": 3})
        assert "partition 'main'" in _refused_on(q, "campaign")
        assert await _snapshot(http) == before  # nothing refused was stored
        # done in the order the rule allows: out of the queue, the queue, then the agent
        assert (await http.delete("/api/queues/2/members/3")).status_code == 204
        assert (await http.delete("/api/queues/2/members/1")).status_code == 204
        assert (await http.delete("/api/queues/2/members/4")).status_code == 204
        assert (await http.patch("/api/queues/2", json={"partition": "north"})).status_code == 200
        a = await http.patch(
            "/api/agents/3", json={"partition": "north", "memberships": [{"queue": 2}]}
        )
        assert a.status_code == 200, a.text
        assert (a.json()["partition"], a.json()["memberships"][0]["queue"]) == ("north", 2)


async def test_a_server_on_its_own_runs_every_partition(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        q = (await http.post("/api/queues", json={"name": "N", "partition": "north"})).json()
        a = await http.post(
            "/api/agents",
            json={
                "username": "nina",
                "password": "nina-pass",
                "partition": "north",
                "memberships": [{"queue": q["id"]}],
            },
        )
        assert a.status_code == 201, a.text
        async with Operator(running.url) as op:
            await op.login("nina", "nina-pass")
            await op.select_identifier("phone4")
            await op.provision()
            await op.change_status("READY")
            events = op.events()
            call = await http.post(
                "/api/sim/calls", json={"queue": q["id"], "from": "+420601555777"}
            )
            assert call.status_code == 201, call.text
            async for e in events:
                if e.type == "call" and e.what == "ringing":
                    assert e.call["uniqueid"] == call.json()["uniqueid"]
                    break


async def test_the_cli_sets_and_lists_partitions_and_says_why_it_is_refused(
    running: Running,
) -> None:
    from typer.testing import CliRunner

    from ucs.cli import app

    async def ucs(*args: str) -> tuple[int, str]:
        result = await asyncio.to_thread(CliRunner().invoke, app, [*args, "--url", running.url])
        return result.exit_code, result.output

    code, out = await ucs("queue", "add", "North", "--partition", "north")
    assert code == 0 and "queue North added with id 4" in out, out
    code, out = await ucs("agent", "add", "nina", "--password", "nina-pass", "--queue", "1")
    assert code == 0, out  # main, like queue 1
    code, out = await ucs("agent", "set", "5", "--partition", "north")
    assert code == 1 and "queue 1 (Support) is in partition 'main'" in out, out
    code, out = await ucs(
        "agent", "add", "nora", "--password", "nora-pass", "--queue", "4", "--partition", "north"
    )
    assert code == 0, out
    code, out = await ucs("agent", "list", "--json")
    assert code == 0
    assert {a["username"]: a["partition"] for a in json.loads(out)}["nora"] == "north"
    code, out = await ucs("queue", "list", "--json")
    assert code == 0 and [q["partition"] for q in json.loads(out)][-1] == "north"
    code, out = await ucs("queue", "set", "4", "--partition", "Bad Name")
    assert code == 1 and "partition" in out, out


def test_a_node_alone_takes_partition_and_advertise_options_and_checks_them() -> None:
    from typer.testing import CliRunner

    from ucs.cli import app

    def serve(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["serve", "--db", "sqlite:///:memory:", *args])
        return result.exit_code, result.output

    code, out = serve("--partition", "north")
    assert code == 2 and "add --cluster" in out
    code, out = serve("--advertise", "http://10.0.0.2:8080/")
    assert code == 2 and "add --cluster" in out
    pg = "postgresql://ucs@127.0.0.1/ucs"
    code, out = serve("--cluster", "--node", "a", "--db", pg, "--partition", "North Side")
    assert code == 2 and "lower-case letters" in out
    code, out = serve("--cluster", "--node", "a", "--db", pg, "--advertise", "10.0.0.2:8080")
    assert code == 2 and "http://" in out
