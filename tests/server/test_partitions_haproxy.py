"""Partitions behind one address (CONTRACT §13, docs/deploy.md): deploy/haproxy.cfg as shipped
in front of three nodes that advertise ``/node/NAME/`` on it. SDK clients of one partition land
on any node and are handed on through HAProxy to the one that runs it; after a kill -9 of that
node they resume, through the same address, on the standby that took it over. Skipped without
PostgreSQL (``UCS_TEST_POSTGRES_URL``) or HAProxy."""

from __future__ import annotations

import asyncio
import itertools
import signal
from pathlib import Path

import httpx
import pytest

from tests.cluster import ADMIN, PATIENCE, Node, haproxy
from tests.helpers import POSTGRES, free_port, state_once_back
from ucs.client import Operator

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(POSTGRES is None, reason="UCS_TEST_POSTGRES_URL is not set"),
]


async def test_clients_are_handed_on_through_haproxy_and_resume_after_a_kill_9(
    cluster_db: str, tmp_path: Path
) -> None:
    port = free_port()
    front = f"http://127.0.0.1:{port}"

    def node(name: str) -> Node:
        advertise = f"{front}/node/{name}/"
        return Node(cluster_db, name, tmp_path / f"{name}.log", "--advertise", advertise)

    nodes = [node("a")]
    try:
        assert (await nodes[0].wait_serving())["partition"] == "main"
        async with httpx.AsyncClient(base_url=nodes[0].url, headers=ADMIN) as http:
            q = await http.post("/api/queues", json={"name": "North", "partition": "north"})
            body = {"username": "nina", "password": "nina-pass", "partition": "north"}
            a = await http.post("/api/agents", json=body | {"memberships": [{"queue": 4}]})
            assert (q.status_code, a.status_code) == (201, 201), (q.text, a.text)
        nodes.append(node("b"))
        assert (await nodes[1].wait_serving())["partition"] == "north"
        nodes.append(node("c"))
        await nodes[2].wait_log("partition 'north' is run by node b (epoch 1)")
        with haproxy(nodes, tmp_path, port):
            async with httpx.AsyncClient(base_url=front) as http:
                for _ in range(300):  # HAProxy's first checks
                    if (await http.get("/healthz")).status_code == 200:
                        break
                    await asyncio.sleep(0.1)
            clients = [Operator(front) for _ in range(4)]
            for op in clients:  # round robin: some land on a, and are handed on to b
                await op.connect()
                await op.login("nina", "nina-pass")
            assert {op.server for op in clients} == {front, f"{front}/node/b/"}
            await clients[0].select_identifier("phone4")
            await clients[0].provision()
            await clients[0].change_status("READY")
            for op in clients:
                state = await op.state()
                assert (state["state"], state["user"]["status"]) == ("READY", "READY")

            # An agent of north added at a reaches b by itself (within its next lease renewal).
            async with httpx.AsyncClient(base_url=nodes[0].url, headers=ADMIN) as http:
                body = {"username": "nora", "password": "nora-pass", "partition": "north"}
                a = await http.post("/api/agents", json=body | {"memberships": [{"queue": 4}]})
                assert a.status_code == 201, a.text
            at_b = f"{nodes[1].url}/api/agents/{a.json()['id']}"  # memberships: as b runs them
            async with asyncio.timeout(PATIENCE), httpx.AsyncClient(headers=ADMIN) as http:
                for _ in itertools.count():
                    if (await http.get(at_b)).json()["memberships"]:
                        break
                    await asyncio.sleep(0.2)
            async with Operator(front) as nora:
                user = await nora.login("nora", "nora-pass")
                assert user["user"]["displayname"] == "nora"

            nodes[1].proc.send_signal(signal.SIGKILL)
            health = await nodes[2].wait_serving()
            assert (health["partition"], health["epoch"]) == ("north", 2)
            for op in clients:
                state = await state_once_back(op, PATIENCE)
                assert (state["state"], state["identifier"]) == ("READY", "phone4")
            for op in clients:
                await op.close()
    finally:
        for n in nodes:
            n.stop()
