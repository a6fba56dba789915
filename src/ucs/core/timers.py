"""The core's timers as typed entries: what is due when, fired by the ``Center`` in one ``match``.

Each entry says what happens (an offer stops ringing, a direct ring gives up, wrap-up ends, the
day rolls over) and carries what it needs to check that it still stands when due: a timer is
never cancelled, it is found stale (the offer was answered, the agent left ACW) and skipped.
``Timers`` owns the heap; it knows nothing of calls or agents.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

from ucs.core.ids import AgentId, UniqueId

__all__ = [
    "AnnounceDue",
    "DayEnds",
    "DirectRingExpires",
    "KeepExpires",
    "LookupExpires",
    "OfferExpires",
    "SoftphoneDeserted",
    "TeamTick",
    "Timer",
    "Timers",
    "WrapUpEnds",
]


@dataclass(frozen=True, slots=True)
class OfferExpires:
    """A queue call has rung ``agent`` for the queue's ring timeout (cause 6, counted)."""

    uniqueid: UniqueId
    agent: AgentId
    expires: float


@dataclass(frozen=True, slots=True)
class DirectRingExpires:
    """One of our phones has rung with a direct call for ``DIRECT_RING_TIMEOUT``."""

    uniqueid: UniqueId
    expires: float


@dataclass(frozen=True, slots=True)
class WrapUpEnds:
    """The agent's automatic ACW ends: READY again."""

    agent: AgentId
    until: float


@dataclass(frozen=True, slots=True)
class AnnounceDue:
    """A waiting caller is told its place (the queue's ``announce_every``); stale once the call
    stopped waiting."""

    uniqueid: UniqueId
    at: float


@dataclass(frozen=True, slots=True)
class LookupExpires:
    """A call has waited for its caller lookup as long as it may: it goes on without it."""

    uniqueid: UniqueId
    expires: float


@dataclass(frozen=True, slots=True)
class KeepExpires:
    """A new call has waited for its record to be kept as long as it may (``keeping.py``):
    it rings all the same."""

    uniqueid: UniqueId
    expires: float


@dataclass(frozen=True, slots=True)
class TeamTick:
    """Time to tell the supervisors what changed in their teams since the last tick
    (``TeamWatch``: at most one push a supervisor every ``TEAM_TICK`` seconds)."""

    due: float


@dataclass(frozen=True, slots=True)
class SoftphoneDeserted:
    """No tab has been open on the agent's softphone session for ``presence.GRACE`` seconds:
    the agent goes OFFLINE (stale once a connection came back)."""

    agent: AgentId
    due: float


@dataclass(frozen=True, slots=True)
class DayEnds:
    """Local midnight: every agent's statistics start a new day (kept as ``Center.midnight``,
    not in the heap, so that it is handled before anything else due at the same time)."""

    midnight: float


Timer = (
    OfferExpires
    | DirectRingExpires
    | WrapUpEnds
    | AnnounceDue
    | LookupExpires
    | KeepExpires
    | TeamTick
    | SoftphoneDeserted
    | DayEnds
)


class Timers:
    """The armed timers, soonest first (ties in the order they were armed)."""

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = 0

    def arm(self, when: float, timer: Timer) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, timer))

    def next(self, valid: Callable[[Timer], bool]) -> float | None:
        """When the first timer that still stands is due (stale ones are dropped)."""
        heap = self._heap
        while heap and not valid(heap[0][2]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> Timer | None:
        """Take the first timer due at ``now`` (stale ones too: the caller checks), if any."""
        heap = self._heap
        return heapq.heappop(heap)[2] if heap and heap[0][0] <= now else None
