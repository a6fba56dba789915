"""What makes the server late, in /metrics: engine steps by kind, the event loop's lag, GC
pauses (issue 14: a tail is explained by the same run that shows it)."""

from __future__ import annotations

import asyncio
import gc
import re
import time
from typing import Any

import httpx
import pytest
from bench import tails

from tests.server.conftest import Running
from ucs.client import Operator
from ucs.runtime.monitor import GcPauses, LoopLag

pytestmark = pytest.mark.anyio


def _value(metrics: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", metrics, re.MULTILINE)
    assert match, f"{name} is not in /metrics"
    return float(match.group(1))


async def test_metrics_tell_steps_by_kind_the_loops_lag_and_gc_pauses(running: Running) -> None:
    async with Operator(running.url) as op, httpx.AsyncClient(base_url=running.url) as http:
        await op.login("agent1", "agent1-pass")
        await op.select_identifier("phone1")
        gc.collect()
        time.sleep(0.3)  # noqa: ASYNC251 (the point: something holds the loop for 0.3 s)
        await asyncio.sleep(0.1)
        metrics = (await http.get("/metrics")).text
    assert _value(metrics, 'ucs_engine_step_seconds_count{kind="command"}') >= 2
    assert _value(metrics, 'ucs_engine_step_seconds_count{kind="connection"}') >= 1
    assert _value(metrics, 'ucs_gc_pause_seconds_count{generation="2"}') >= 1
    assert _value(metrics, "ucs_loop_lag_seconds_count") >= 1
    assert _value(metrics, "ucs_engine_lag_seconds") >= 0.2  # the stall of 0.3 s is seen
    assert _value(metrics, 'ucs_loop_lag_seconds_bucket{le="0.1"}') < _value(
        metrics, "ucs_loop_lag_seconds_count"
    )
    # What make bench reads of it (bench/tails.py): the stall is in the lag's tail.
    seen = tails.summary(tails.delta({}, tails.parse(metrics)))
    assert seen["engine_step{kind=command}"]["count"] >= 2
    assert seen["loop_lag"]["over_100ms"] >= 1 and seen["gc_pause{generation=2}"]["count"] >= 1


async def test_loop_lag_is_the_worst_of_the_last_window_and_a_stuck_loop_shows_at_once() -> None:
    seen: list[float] = []
    lag = LoopLag(seen.append, interval=0.02, window=0.5)
    lag.start()
    await asyncio.sleep(0.1)
    assert lag.lag < 0.2
    time.sleep(0.25)  # noqa: ASYNC251 (a stuck loop)
    assert lag.lag >= 0.2  # before the monitor even wakes
    await asyncio.sleep(0.05)
    assert max(seen) >= 0.2
    await asyncio.sleep(0.7)
    assert lag.lag < 0.2  # out of the window
    lag.stop()


def test_gc_pauses_are_timed_per_generation_while_installed() -> None:
    pauses: list[tuple[int, float]] = []
    watch = GcPauses(lambda gen, seconds: pauses.append((gen, seconds)))
    watch.install()
    gc.collect(1)
    watch.uninstall()
    gc.collect()
    assert [gen for gen, _ in pauses] == [1] and pauses[0][1] >= 0


def test_a_collection_at_the_recursion_limit_is_timed_or_skipped_never_an_error() -> None:
    """A collection may start anywhere, at the bottom of a deep recursion too (a parser near
    the limit, in any thread): the callback then has no stack for its work. It must not raise
    there, where nothing can catch it (an unraisable RecursionError, seen in CI)."""
    import sys
    import traceback

    pauses: list[tuple[int, float]] = []
    watch = GcPauses(lambda gen, seconds: pauses.append((gen, seconds)))
    unraised: list[Any] = []
    hook = sys.unraisablehook
    limit = sys.getrecursionlimit()

    def dive() -> None:
        gc.collect(0)  # a collection at each depth, down to the limit
        dive()

    sys.unraisablehook = unraised.append
    sys.setrecursionlimit(len(traceback.extract_stack()) + 120)
    watch.install()
    try:
        with pytest.raises(RecursionError):
            dive()
    finally:
        watch.uninstall()
        sys.setrecursionlimit(limit)
        sys.unraisablehook = hook
    assert [u.exc_type for u in unraised] == []
    assert pauses and {gen for gen, _ in pauses} == {0}
