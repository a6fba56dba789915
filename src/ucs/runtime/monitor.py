"""What makes the server late: the event loop's lag and the garbage collector's pauses.

``LoopLag`` wakes every ``interval`` seconds and measures how late it woke: whatever held the
loop (a long engine step, a burst of pushes, a collection, the writer thread holding the GIL)
shows as lag, which every waiting command, push and HTTP request suffers too. ``GcPauses``
times each collection through ``gc.callbacks``. Both hand each measurement to the observers
they are given (``/metrics`` histograms), and keep the figures ``/metrics`` and admission
control read at once: the lag now (the worst of the last ``window`` seconds).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["GcPauses", "LoopLag"]


class LoopLag:
    """Measures the event loop's lag; ``start`` once the loop runs, ``stop`` at the end."""

    def __init__(
        self,
        observe: Callable[[float], None] = lambda lag: None,
        *,
        interval: float = 0.05,
        window: float = 1.0,
    ) -> None:
        self.observe = observe
        self.interval = interval
        self.window = window
        self._recent: deque[tuple[float, float]] = deque()
        self._task: asyncio.Task[None] | None = None

    @property
    def lag(self) -> float:
        """The worst lag of the last ``window`` seconds (0 when the loop keeps time), and the
        time since the last wake-up when that is longer (a loop stuck right now)."""
        now = time.monotonic()
        while self._recent and self._recent[0][0] < now - self.window:
            self._recent.popleft()
        worst = max((lag for _, lag in self._recent), default=0.0)
        if self._recent:
            worst = max(worst, now - self._recent[-1][0] - self.interval)
        return max(0.0, worst)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        expected = time.monotonic() + self.interval
        while True:
            await asyncio.sleep(max(0.0, expected - time.monotonic()))
            now = time.monotonic()
            lag = max(0.0, now - expected)
            self._recent.append((now, lag))
            self.observe(lag)
            expected = now + self.interval


class GcPauses:
    """Times every garbage collection (all generations) while installed."""

    def __init__(self, observe: Callable[[int, float], None]) -> None:
        self.observe = observe
        """Called with the generation and the seconds of each collection."""
        self._started = 0.0

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        # A collection may start at the bottom of a deep recursion (a parser near the limit, in
        # any thread), with no stack left for this work: that collection goes unmeasured,
        # rather than raise where nothing can catch it (an "unraisable" error on stderr).
        try:
            if phase == "start":
                self._started = time.perf_counter()
            elif self._started:
                self.observe(int(info.get("generation", 0)), time.perf_counter() - self._started)
                self._started = 0.0
        except RecursionError:
            self._started = 0.0
