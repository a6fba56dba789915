"""The live figures a monitor asks for (``Center.figures()``): how many agents are logged in,
agents by status, calls by state, callers waiting per queue and the longest wait, agents free,
phones registered."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ucs.core.call import Call
from ucs.core.ids import AgentId, LineId, QueueId
from ucs.core.model import CallState, Status

__all__ = ["Figures", "count"]


@dataclass(frozen=True, slots=True)
class Figures:
    sessions: int
    """Agents logged in."""
    calls: Mapping[CallState, int]
    """Live calls in each state (every state named, 0 included)."""
    waiting: Mapping[QueueId, int]
    """Queued callers no agent has answered yet, per queue (every queue named, 0 included)."""
    longest_wait: Mapping[QueueId, float]
    """Seconds the longest of them has waited, per queue (0: nobody waits)."""
    statuses: Mapping[Status, int]
    """Agents in each status (every status named, 0 included; OFFLINE: not logged in too)."""
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
    statuses: Iterable[Status] = (),
    now: float = 0.0,
) -> Figures:
    by_state = dict.fromkeys(CallState, 0)
    waiting = dict.fromkeys(queues, 0)
    longest = dict.fromkeys(waiting, 0.0)
    for call in calls:
        by_state[call.state] += 1
        if call.queue_id is not None and call.connected_party is None:
            waiting[call.queue_id] = waiting.get(call.queue_id, 0) + 1
            since = call.enqueued_at if call.enqueued_at is not None else call.created
            longest[call.queue_id] = max(longest.get(call.queue_id, 0.0), now - since)
    by_status = dict.fromkeys(Status, 0)
    for status in statuses:
        by_status[status] += 1
    logged_in = list(sessions)
    return Figures(
        sessions=len(logged_in),
        calls=by_state,
        waiting=waiting,
        longest_wait=longest,
        statuses=by_status,
        free=sum(1 for a in logged_in if free(a)),
        registered=len(registered) if registered is not None else None,
    )
