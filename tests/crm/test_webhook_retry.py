"""Events to the CRM that the CRM keeps refusing (CONTRACT §12): tried again after pauses that
grow, for 24 hours, then given up and counted in ``ucs_crm_webhook_failed_total``; the events
after it in the same stream then go out."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.crm.helpers import ADMIN, SECRET, ready_agent, verify
from tests.crm.receiver import received, receiving
from tests.server.conftest import Running
from ucs.crm.webhook import GIVE_UP, pause

pytestmark = pytest.mark.anyio


async def _until(condition: Any, what: str) -> None:
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never: {what}")


def _outbox(db: Path) -> list[tuple[int, str, float, int, int, float, str | None, str]]:
    """The outbox's rows: seq, stream, time, state, attempts, next_try, last_error, event_id."""
    with sqlite3.connect(db, timeout=30) as conn:
        return list(
            conn.execute(
                "SELECT seq, stream, time, state, attempts, next_try, last_error"
                ", event_id FROM crm_outbox ORDER BY seq"
            )
        )


def test_the_pauses_grow_and_stop_at_ten_minutes() -> None:
    assert [pause(n) for n in range(1, 13)] == [
        1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600,
    ]  # fmt: skip
    # 24 hours of tries: a few dozen POSTs, not thousands
    tries, waited = 0, 0.0
    while waited < GIVE_UP:
        tries += 1
        waited += pause(tries)
    assert 140 < tries < 160


async def test_a_refused_event_is_retried_with_growing_pauses_then_given_up_after_24_hours(
    running: Running, tmp_path: Path
) -> None:
    tries: list[float] = []
    db = tmp_path / "ucs.db"
    with receiving(tmp_path, fail_first=4, tries=tries) as (url, path):
        async with httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http:
            r = await http.put("/api/settings/webhook", json={"url": url, "secret": SECRET})
            assert r.status_code == 200
            op = await ready_agent(running.url, 2)
            async with op:
                await _until(lambda: len(tries) >= 3, "three tries")
                # The pauses between the tries of the first event grow (1 s, then 2 s): at
                # least that long, however slow the machine.
                assert tries[1] - tries[0] >= pause(1) and tries[2] - tries[1] >= pause(2)
                first = _outbox(db)[0]
                assert first[3] == 0 and first[4] >= 2 and first[6] == "HTTP 500"
                assert received(path) == []  # nothing after it in its stream went out
                # The first event has been refused for 24 hours: its next try is its last.
                with sqlite3.connect(db, timeout=30) as conn:
                    conn.execute(
                        "UPDATE crm_outbox SET time = time - ?, next_try = 0 WHERE seq = ?",
                        (GIVE_UP, first[0]),
                    )
                await _until(lambda: _outbox(db)[0][3] == 2, "the event given up")
                await op.change_status("AUX", "Lunch")
                await _until(
                    lambda: any(verify(x)["data"]["reason"] == "Lunch" for x in received(path)),
                    "the next events delivered",
                )
            metrics = (await http.get("/metrics")).text
    given_up = _outbox(db)[0]
    assert given_up[3] == 2 and given_up[4] == 4 and given_up[6] == "HTTP 500"
    assert "ucs_crm_webhook_failed_total 1.0" in metrics
    delivered = [verify(x) for x in received(path)]
    assert first[7] not in {e["id"] for e in delivered}  # the given-up event never went out
    assert len(tries) == 4 + len(delivered)
    assert all(e["data"]["user_id"] == 2 for e in delivered)
