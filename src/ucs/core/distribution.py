"""Offering waiting callers to free agents, by each queue's strategy (see ``acd``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ucs.core import acd
from ucs.core.call import Call, Offer
from ucs.core.directory import Strategy
from ucs.core.effects import Ring, StopRinging
from ucs.core.ids import AgentId, QueueId
from ucs.core.model import CallState, Cause

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["distribute", "end_offer", "offer", "reject_offer"]


def distribute(c: Center) -> None:
    """Offer every caller waiting for an agent to the free members of its queue.

    Runs after every event, so it is written to cost little in the two busy cases: callers
    are all being rung already (no waiting caller: nothing more is looked at), and callers wait
    because nobody is free (no free agent: the waiting callers are not even sorted).
    """
    if not c._queued or not any(_waits(c, c.calls[uid]) for uid in c._queued):
        return
    available = {a for a in c.sessions if c.free(a)}
    if not available:
        return
    waiting: list[acd.Waiting] = []
    for uid in c._queued:
        call = c.calls[uid]
        if not _waits(c, call):
            continue
        q = c.directory.queues[call.queue_id]  # type: ignore[index]
        tail = uid.rsplit(".", 1)[-1]
        seq = int(tail) if tail.isdigit() else 0
        waiting.append(acd.Waiting(uid, q.weight, call.enqueued_at or call.created, seq))
    for w in acd.order_waiting(waiting):
        if not available:
            return
        call = c.calls[w.uniqueid]
        queue_id: QueueId = call.queue_id  # type: ignore[assignment]
        q = c.directory.queues[queue_id]
        members = c.directory.member_set(queue_id)
        candidates = []
        for agent in available if len(available) < len(members) else members:
            a = c.agents.get(agent)
            if a is None or agent not in available or agent not in members:
                continue
            if queue_id in a.suspended:
                continue
            m = a.config.membership(queue_id)
            f = a.stats.queues.get(queue_id)
            candidates.append(
                acd.Candidate(
                    agent=agent,
                    available_since=a.available_since if a.free else c.now,
                    priority=m.priority if m else 1,
                    answered=f.answered if f else 0,
                )
            )
        if not candidates:
            continue
        fresh = [c for c in candidates if c.agent not in call.tried]
        if not fresh and not call.offers:
            call.tried.clear()
            fresh = candidates
        chosen = acd.pick(q.strategy, fresh, last=c.rr_last.get(queue_id))
        for agent in chosen:
            offer(c, call, agent, q.ring_timeout)
            available.discard(agent)


def _waits(c: Center, call: Call) -> bool:
    """The queued caller waits for an agent (ring-all callers always look for more)."""
    q = c.directory.queues.get(call.queue_id)  # type: ignore[arg-type]
    return q is not None and (not call.offers or q.strategy is Strategy.RING_ALL)


def offer(c: Center, call: Call, agent: AgentId, ring_timeout: float) -> None:
    line = c.sessions[agent].line
    assert line is not None
    expires = c.now + ring_timeout if ring_timeout > 0 else None
    party = c.agent_party(agent, line)
    call.offers[agent] = Offer(agent, line, party, c.now, expires)
    call.tried.add(agent)
    if call.state is not CallState.RINGING:
        call.move(CallState.RINGING)
    if expires is not None:
        c._arm(expires, "offer", (call.uniqueid, agent, expires))
    c._out.append(Ring(call.uniqueid, line, call.caller))
    c.touch(call)


def end_offer(c: Center, call: Call, offer: Offer, cause: Cause, *, counted: bool) -> None:
    """Stop ringing one agent; an offer that ends unanswered counts as unanswered."""
    call.offers.pop(offer.agent, None)
    c._out.append(StopRinging(call.uniqueid, offer.line, cause))
    c.leave(call, offer.agent, cause)
    a = c.agents.get(offer.agent)
    if counted and a is not None and call.queue_id is not None:
        a.stats.in_calls_unanswered += 1
        a.stats.queue(call.queue_id).unanswered += 1
    c._dirty.add(offer.agent)
    if not call.offers and not call.ended and call.connected_party is None:
        call.move(CallState.CONNECTING)
    c.touch(call)


def reject_offer(c: Center, call: Call, offer: Offer) -> None:
    end_offer(c, call, offer, Cause.REJECTED, counted=True)
