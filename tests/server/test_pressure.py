"""Admission control: while the event loop is behind, REST requests that would add work are
refused at once (503, Retry-After); hang-ups, reads and the operator protocol go through."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import serving
from ucs.client import Operator

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer demo-admin-token"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_new_work_is_refused_while_the_loop_lags_and_taken_again_after(
    tmp_path: Path,
) -> None:
    async with (
        serving(tmp_path, shed_lag=0.25) as running,
        httpx.AsyncClient(base_url=running.url, headers=ADMIN) as http,
        Operator(running.url) as op,
    ):
        call = {"queue": 1, "from": "+420601123456"}
        deadline = time.monotonic() + 30  # on a busy machine the loop lags at its start too
        while (first := await http.post("/api/sim/calls", json=call)).status_code == 503:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        assert first.status_code == 201
        uid = first.json()["uniqueid"]
        shed = _shed((await http.get("/metrics")).text)

        time.sleep(0.5)  # noqa: ASYNC251 (the server's loop, this one, is held: it is behind)
        refused = await http.post("/api/sim/calls", json=call)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["code"] == "OVERLOADED"
        assert (await http.post(f"/api/sim/calls/{uid}/hangup")).status_code == 204
        assert (await http.get("/api/stats/queues")).status_code == 200
        assert (await op.login("agent1", "agent1-pass"))["token"]  # agents are not refused
        assert _shed((await http.get("/metrics")).text) == shed + 1

        deadline = time.monotonic() + 5  # the lag leaves the one-second window
        while (again := await http.post("/api/sim/calls", json=call)).status_code == 503:
            assert time.monotonic() < deadline
        assert again.status_code == 201


def _shed(metrics: str) -> float:
    """The REST requests refused so far, from ``/metrics``."""
    found = re.search(r"^ucs_rest_shed_total (\S+)$", metrics, re.MULTILINE)
    assert found is not None, "ucs_rest_shed_total is missing"
    return float(found.group(1))
