"""The live figures a monitor asks for (``Center.figures()``): how many agents are logged in,
calls by state, callers waiting per queue, agents free, phones registered."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ucs.core.call import Call
from ucs.core.ids import AgentId, LineId, QueueId
from ucs.core.model import CallState

__all__ = ["Figures", "count"]


@dataclass(frozen=True, slots=True)
class Figures:
    sessions: int
    """Agents logged in."""
    calls: Mapping[CallState, int]
    """Live calls in each state (every state named, 0 included)."""
    waiting: Mapping[QueueId, int]
    """Queued callers no agent has answered yet, per queue (every queue named, 0 included)."""
    free: int
    """Agents free for a queue call (``Center.free``)."""
    registered: int | None
    """Phones registered, when the switch tells (SIP); None otherwise."""


def count(
    sessions: Iterable[AgentId],
    calls: Iterable[Call],
    queues: Iterable[QueueId],
    free: Callable[[AgentId], bool],
    registered: set[LineId] | None,
) -> Figures:
    by_state = dict.fromkeys(CallState, 0)
    waiting = dict.fromkeys(queues, 0)
    for call in calls:
        by_state[call.state] += 1
        if call.queue_id is not None and call.connected_party is None:
            waiting[call.queue_id] = waiting.get(call.queue_id, 0) + 1
    logged_in = list(sessions)
    return Figures(
        sessions=len(logged_in),
        calls=by_state,
        waiting=waiting,
        free=sum(1 for a in logged_in if free(a)),
        registered=len(registered) if registered is not None else None,
    )
