"""Automatic call distribution: which waiting caller goes to which agent.

Pure functions over plain values. ``serving_order`` orders the callers of all queues (heavier queue
first, then longest waiting); ``pick`` chooses among a queue's available members by its strategy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ucs.core.directory import Strategy
from ucs.core.ids import AgentId, UniqueId

__all__ = ["Candidate", "Waiting", "pick", "serving_order"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """An agent free to take a call of one queue."""

    agent: AgentId
    available_since: float
    priority: int
    answered: int
    """Calls of this queue the agent answered today."""


@dataclass(frozen=True, slots=True)
class Waiting:
    uniqueid: UniqueId
    weight: int
    enqueued_at: float
    seq: int
    """Arrival order, the last tie-breaker."""


def serving_order(w: Waiting) -> tuple[int, float, int]:
    """The sort key of a waiting caller: heavier queue first, then longest waiting."""
    return (-w.weight, w.enqueued_at, w.seq)


def pick(
    strategy: Strategy,
    candidates: Sequence[Candidate],
    *,
    last: AgentId | None = None,
) -> list[AgentId]:
    """The agents to ring for one caller: all of them for ring-all, else one (or none).

    ``last`` is the agent the queue's previous call went to (round-robin).
    """
    if not candidates:
        return []
    if strategy is Strategy.RING_ALL:
        return sorted(c.agent for c in candidates)
    if strategy is Strategy.ROUND_ROBIN:
        ordered = sorted(candidates, key=lambda c: c.agent)
        after = [c for c in ordered if last is not None and c.agent > last]
        return [(after or ordered)[0].agent]
    if strategy is Strategy.FEWEST_CALLS:
        best = min(candidates, key=lambda c: (c.answered, c.available_since, c.agent))
    elif strategy is Strategy.PRIORITY:
        best = min(candidates, key=lambda c: (c.priority, c.available_since, c.agent))
    else:
        best = min(candidates, key=lambda c: (c.available_since, c.agent))
    return [best.agent]
