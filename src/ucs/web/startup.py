"""The seconds each step of a server's start took, said in one log line.

A node of a cluster that takes a partition over (CONTRACT §13: a standby, or the owner started
again) must be serving again within seconds; where that time goes (the lease, the directory,
the sessions and tokens, the core's restore, the listening socket) is what an operator needs
to see when it does not. ``Steps`` is started when the partition is taken (at once, for a
server on its own) and marked after each step; ``line`` says them all, with the total.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Steps"]


class Steps:
    """Marks of a start's steps, each the seconds since the previous mark."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.begun = self.last = clock()
        self.steps: list[tuple[str, float]] = []

    def mark(self, name: str) -> None:
        """The step ``name`` ended now."""
        now = self.clock()
        self.steps.append((name, now - self.last))
        self.last = now

    def total(self) -> float:
        """Seconds from the start to the last mark."""
        return self.last - self.begun

    def line(self) -> str:
        """``name 0.12 s, name 1.50 s, … (total 1.62 s)``."""
        parts = [f"{name} {seconds:.2f} s" for name, seconds in self.steps]
        return f"{', '.join(parts)} (total {self.total():.2f} s)"
