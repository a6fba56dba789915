"""Answers kept for a short while (the time passed in): what a node of a cluster looked up
lately in the database (``web/handoff.py``), so that a storm of reconnecting clients costs no
round trip per attempt.

Each answer is kept until its own deadline (at most ``ttl`` seconds after it was put, less
when the caller knows it goes stale sooner), and at most ``size`` of them: past that, those
whose time is up go first, then the oldest.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["Recent"]

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """Answers by key, each until its deadline."""

    def __init__(self, ttl: float, size: int = 100_000) -> None:
        if ttl < 0 or size < 1:
            raise ValueError("a time to live of 0 or more, and a size of 1 or more")
        self.ttl = ttl
        self.size = size
        self._kept: dict[K, tuple[float, V]] = {}

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: K, now: float) -> tuple[V] | None:
        """``(answer,)`` while the answer for ``key`` is kept (its deadline not reached),
        else None (forgotten, or never put)."""
        kept = self._kept.get(key)
        if kept is None:
            return None
        if now >= kept[0]:
            del self._kept[key]
            return None
        return (kept[1],)

    def put(self, key: K, value: V, now: float, ttl: float | None = None) -> None:
        """Keep ``value`` for ``key`` from ``now`` for ``ttl`` seconds (at most the cache's
        own ``ttl``; 0 or less keeps nothing)."""
        life = self.ttl if ttl is None else min(ttl, self.ttl)
        self._kept.pop(key, None)
        if life <= 0:
            return
        self._kept[key] = (now + life, value)
        if len(self._kept) > self.size:
            self._make_room(now)

    def forget(self, key: K | None = None) -> None:
        """Forget the answer for ``key``; every answer when None."""
        if key is None:
            self._kept.clear()
        else:
            self._kept.pop(key, None)

    def _make_room(self, now: float) -> None:
        for key in [k for k, (deadline, _) in self._kept.items() if now >= deadline]:
            del self._kept[key]
        while len(self._kept) > self.size:
            del self._kept[next(iter(self._kept))]
