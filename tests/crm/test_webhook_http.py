"""Events to the CRM through real sockets (CONTRACT §12): signed POSTs, in order per call and
per agent, retried after a failure, and the setting checked."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.crm.helpers import ADMIN, SECRET, ready_agent, verify
from tests.crm.receiver import received, receiving
from tests.server.conftest import Running

pytestmark = pytest.mark.anyio


async def _until(path: Path, condition: Any) -> list[dict[str, Any]]:
    for _ in range(1000):
        events = [verify(x) for x in received(path)]
        if condition(events):
            return events
        await asyncio.sleep(0.02)
    raise AssertionError(f"never got there: {received(path)}")


async def _call_that_ends(running: Running, n: int) -> str:
    op = await ready_agent(running.url, n)
    async with op, httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        events = op.events()
        r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601123456"})
        uid: str = r.json()["uniqueid"]
        async with asyncio.timeout(10):
            async for e in events:
                if e.type == "call" and e.what == "ringing":
                    break
        await op.answer()
        await op.set_account_code(uid, "ORDER-1")
        await http.post(f"/api/sim/calls/{uid}/hangup")
    return uid


async def test_a_finished_call_and_status_changes_are_posted_signed(
    running: Running, tmp_path: Path
) -> None:
    with receiving(tmp_path) as (url, path):
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            r = await http.put("/api/settings/webhook", json={"url": url, "secret": SECRET})
            assert r.json() == {"url": url}
        uid = await _call_that_ends(running, 1)
        events = await _until(path, lambda ev: any(e["type"] == "call.ended" for e in ev))
    ended = next(e for e in events if e["type"] == "call.ended")
    assert ended["data"]["uniqueid"] == uid and ended["data"]["cause"] == 3
    assert ended["data"]["account_codes"] == [{"accountCode": "ORDER-1", "subAccountCode": None}]
    assert isinstance(ended["time"], float)
    statuses = [e["data"] for e in events if e["type"] == "agent.status"]
    assert {"user_id": 1, "username": "agent1", "status": "READY", "reason": None} in statuses
    assert len({e["id"] for e in events}) == len(events)


async def test_a_failing_crm_gets_the_event_again_until_it_takes_it(
    running: Running, tmp_path: Path
) -> None:
    with receiving(tmp_path, fail_first=2) as (url, path):
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            await http.put("/api/settings/webhook", json={"url": url, "secret": SECRET})
        op = await ready_agent(running.url, 2)
        async with op:
            await op.change_status("AUX", "Lunch")
            await op.change_status("READY")
        events = await _until(path, lambda ev: len(ev) >= 3)  # 1 s, then 2 s of pause
    statuses = [(e["data"]["status"], e["data"]["reason"]) for e in events]
    assert statuses[:3] == [("READY", None), ("AUX", "Lunch"), ("READY", None)]  # in order


async def test_the_webhook_setting_is_checked_and_turned_off(
    running: Running, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
        for bad in (
            {"url": "ftp://crm/hook", "secret": SECRET},
            {"url": "http://crm/hook", "secret": "short"},
            {"url": "http://crm/hook"},
            {"secret": SECRET},
        ):
            assert (await http.put("/api/settings/webhook", json=bad)).status_code == 422, bad
        with receiving(tmp_path) as (url, path):
            r = await http.put("/api/settings/webhook", json={"url": url, "secret": SECRET})
            assert r.status_code == 200
            r = await http.put("/api/settings/webhook", json=None)
            assert r.json() == {"url": None}
            op = await ready_agent(running.url, 3)
            await op.close()
            metrics = (await http.get("/metrics")).text
        assert received(path) == []
        assert "ucs_crm_webhook_pending 0.0" in metrics
        assert "ucs_crm_webhook_delivered_total" in metrics
