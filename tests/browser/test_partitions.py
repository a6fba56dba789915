"""Three nodes of a cluster and two partitions (CONTRACT §13): each partition is run by one
node, the third waits; an SDK client and the component in Chromium that connect to the wrong
node end up at the right one; a kill -9 of one partition's owner moves that partition to the
standby, its clients resume there, and the other partition is untouched. Real ``ucs serve
--cluster`` processes on PostgreSQL; skipped without it (``UCS_TEST_POSTGRES_URL``)."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import crm_page
from tests.cluster import ADMIN, PATIENCE, Node
from tests.helpers import POSTGRES, ready_agent, state_once_back
from ucs.client import Operator
from ucs.storage import schema
from ucs.storage.store import Store

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(POSTGRES is None, reason="UCS_TEST_POSTGRES_URL is not set"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


async def _north(url: str) -> int:
    """Partition ``north``: a queue, and agents nina and nora in it; the queue's id."""
    async with httpx.AsyncClient(base_url=url, headers=ADMIN) as http:
        q = await http.post(
            "/api/queues", json={"name": "North", "partition": "north", "ring_timeout": 60}
        )
        assert q.status_code == 201, q.text
        for name in ("nina", "nora"):
            a = await http.post(
                "/api/agents",
                json={
                    "username": name,
                    "password": f"{name}-pass",
                    "partition": "north",
                    "memberships": [{"queue": q.json()["id"]}],
                },
            )
            assert a.status_code == 201, a.text
        queue_id: int = q.json()["id"]
        return queue_id


def _records(db: str) -> list[dict[str, Any]]:
    store = Store(db)
    try:
        return store.rows(schema.cdr)
    finally:
        store.stop()
        store.engine.dispose()


async def test_each_partition_has_one_node_clients_are_handed_on_and_survive_a_kill_9(
    cluster_db: str,
    browser: Any,
    crm: tuple[Path, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    nodes = [Node(cluster_db, "a", tmp_path / "a.log")]
    try:
        a = nodes[0]
        assert (await a.wait_serving())["partition"] == "main"
        north = await _north(a.url)
        nodes.append(Node(cluster_db, "b", tmp_path / "b.log"))
        b = nodes[1]
        health = await b.wait_serving()
        assert (health["node"], health["partition"], health["epoch"]) == ("b", "north", 1)
        nodes.append(Node(cluster_db, "c", tmp_path / "c.log"))
        c = nodes[2]
        await c.wait_log("node c is a standby: partition 'main' is run by node a (epoch 1)")
        await c.wait_log("node c is a standby: partition 'north' is run by node b (epoch 1)")
        assert await c.health() is None  # a standby does not listen

        # An agent of main at a; an SDK client of north that connects to a ends up at b.
        agent1 = await ready_agent(a.url, 1)
        untouched = agent1.events()
        nina = Operator(a.url)
        await nina.connect()
        user = await nina.login("nina", "nina-pass")
        assert user["user"]["displayname"] == "nina"
        assert nina.server == f"{b.url}/"
        await nina.select_identifier("phone3")
        await nina.provision()
        await nina.change_status("READY")

        # The component, loaded from a on a CRM page of another origin, ends up at b too.
        folder, origin = crm
        (folder / "index.html").write_text(crm_page(a.url), encoding="utf-8")
        page = await browser.new_page()
        await page.goto(f"{origin}/index.html")
        await page.wait_for_function(
            "window.log.some(e => e[0] === 'onCredentials')", timeout=60_000
        )
        state = await page.evaluate("""(async () => {
            await window.ucsOperator.login('nora', 'nora-pass');
            await window.ucsOperator.selectIdentifier('phone4');
            await window.ucsOperator.provision();
            await window.ucsOperator.changeStatus('AUX', 'Lunch');
            return window.ucsOperator.state();
        })()""")
        assert (state["state"], state["user"]["status"]) == ("READY", "AUX")
        assert (await b.health() or {})["sessions"] == 2  # nina and nora, at b
        assert (await a.health() or {})["sessions"] == 1  # agent1 alone

        # A call of north, at b, answered by nina.
        events = nina.events()
        async with httpx.AsyncClient(base_url=b.url, headers=ADMIN) as http:
            call = await http.post("/api/sim/calls", json={"queue": north, "from": "+420601555031"})
            assert call.status_code == 201, call.text
        uid = call.json()["uniqueid"]
        assert uid.startswith("north-")  # never one of main's
        async with asyncio.timeout(30):
            async for e in events:
                if e.type == "call" and e.what == "ringing" and e.call["uniqueid"] == uid:
                    break
        await nina.answer()
        await asyncio.sleep(0.5)  # the writer commits within milliseconds

        # kill -9 of b: c takes north over; nina and nora resume there; a runs on as it was.
        b.proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        health = await c.wait_serving()
        request.node.user_properties.append(("take_over_seconds", time.monotonic() - killed))
        assert (health["node"], health["partition"], health["epoch"]) == ("c", "north", 2)
        state = await state_once_back(nina, PATIENCE)
        assert (state["state"], state["identifier"]) == ("READY", "phone3")
        assert state["user"]["status"] == "READY" and state["calls"] == []
        assert nina.server == f"{c.url}/"
        user = await page.evaluate("window.ucsOperator.changeStatus('READY')")
        assert user["status"] == "READY"  # carried out by c, the only node that runs nora
        state = await page.evaluate("window.ucsOperator.state()")
        assert (state["state"], state["identifier"]) == ("READY", "phone4")
        assert (await c.health() or {})["sessions"] == 2

        health = await a.health()
        assert health is not None and (health["partition"], health["epoch"]) == ("main", 1)
        assert (await agent1.state())["user"]["status"] == "READY"
        assert [e for e in untouched.drain() if e.type == "session"] == []  # never resumed
        await agent1.close()
        await nina.close()
    finally:
        for node in nodes:
            node.stop()
    records = [r for r in _records(cluster_db) if r["uniqueid"] == uid]
    assert len(records) == 1  # live on the node that died: recorded once, as ended
    assert (records[0]["partition"], records[0]["live"], records[0]["call"]["cause"]) == (
        "north",
        False,
        0,
    )
