"""Offering waiting callers to free agents, by each queue's strategy (see ``acd``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sortedcontainers import SortedList

from ucs.core import acd
from ucs.core.call import Call, Offer
from ucs.core.directory import Strategy
from ucs.core.effects import Ring, StopRinging
from ucs.core.ids import AgentId, QueueId, UniqueId, arrival_seq
from ucs.core.model import CallState, Cause

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["WaitEntry", "distribute", "end_offer", "offer", "reconcile", "reject_offer"]

WaitEntry = tuple[float, int, UniqueId]
"""A waiting caller in its queue's index: enqueued at, arrival sequence, uniqueid."""


def distribute(c: Center) -> None:
    """Offer the callers waiting for an agent to the free members of their queues.

    Runs at the end of every step, so it works from two indexes kept up to date with what the
    step changed (``reconcile``): the free agents, and each queue's waiting callers in arrival
    order. A step that frees nobody and queues nobody costs next to nothing however many callers
    wait, and a freed agent is matched with the first caller it can take without sorting the rest.
    Queues sharing agents are served in the order ``acd.serving_order`` defines: heavier queue
    first, then longest waiting.
    """
    reconcile(c)
    if not c._free or not c._waiting:
        return
    cursors = {q: 0 for q in c._waiting}
    while cursors and c._free:
        queue_id = min(cursors, key=lambda q: _order(c, q, c._waiting[q][cursors[q]]))
        waiting = c._waiting[queue_id]
        entry = waiting[cursors[queue_id]]
        q = c.directory.queues[queue_id]
        call = c.calls[entry[2]]
        chosen = _choose(c, queue_id, q.strategy, call)
        if chosen is None:
            del cursors[queue_id]  # nobody free takes this queue's calls: the rest wait too
            continue
        for agent in chosen:
            offer(c, call, agent, q.ring_timeout)
            _set_free(c, agent, False)
        if _waits(c, call):
            cursors[queue_id] += 1  # ring-all: it goes on looking; the next caller is served
        else:
            _unindex(c, call.uniqueid)
        if cursors.get(queue_id, 0) >= len(waiting):
            cursors.pop(queue_id, None)


def reconcile(c: Center) -> None:
    """Bring the free agents and the waiting callers up to date with what the step changed.

    Agents whose freedom may have changed are the step's touched ones (``_dirty``,
    ``_session_changed``); callers who may have started or stopped waiting are its changed calls.
    A reconfiguration rebuilds both indexes (strategies, weights and agents may have changed).
    """
    if c._reindex:
        c._reindex = False
        c._free.clear()
        c._free_order.clear()
        for agent in c.sessions:
            _set_free(c, agent, c.free(agent))
        c._waiting.clear()
        c._wait_key.clear()
        changed: Iterable[UniqueId] = list(c.calls)
    else:
        for agents in (c._dirty, c._session_changed):
            for agent in agents:
                _set_free(c, agent, c.free(agent))
        changed = c._changed
    for uid in changed:
        call = c.calls.get(uid)
        key = _key(c, call) if call is not None and _waits(c, call) else None
        if c._wait_key.get(uid) != key:
            _unindex(c, uid)
            if key is not None:
                c._wait_key[uid] = key
                c._waiting.setdefault(key[0], SortedList()).add(key[1])


def _key(c: Center, call: Call) -> tuple[QueueId, WaitEntry]:
    entry = (call.enqueued_at or call.created, arrival_seq(call.uniqueid), call.uniqueid)
    return call.queue_id, entry  # type: ignore[return-value]


def _unindex(c: Center, uid: UniqueId) -> None:
    old = c._wait_key.pop(uid, None)
    if old is not None:
        waiting = c._waiting[old[0]]
        waiting.remove(old[1])
        if not waiting:
            del c._waiting[old[0]]


def _order(c: Center, queue_id: QueueId, entry: WaitEntry) -> tuple[int, float, int]:
    w = acd.Waiting(entry[2], c.directory.queues[queue_id].weight, entry[0], entry[1])
    return acd.serving_order(w)


def _set_free(c: Center, agent: AgentId, free: bool) -> None:
    """Index the agent as free or not. A free agent is kept under the time it became free:
    ``available_since``, or now for one freed in this step (``publish`` sets it to now)."""
    key = c._free.get(agent)
    if free and key is None:
        a = c.agents[agent]
        key = c._free[agent] = a.available_since if a.free else c.now
        c._free_order.add((key, agent))
    elif not free and key is not None:
        del c._free[agent]
        c._free_order.remove((key, agent))


def _choose(c: Center, queue_id: QueueId, strategy: Strategy, call: Call) -> list[AgentId] | None:
    """The agents to ring for ``call`` now (an empty list: none for this caller), or None
    when no free agent takes the queue's calls at all.

    Agents who were offered the call before are tried again only once every other free member
    has been (and never while the call still rings somebody).
    """
    members = c.directory.member_set(queue_id)
    if strategy is Strategy.LONGEST_IDLE and len(c._free) <= len(members):
        # The free agents are indexed longest idle first: the first one who takes the queue's
        # calls is the one ``acd.pick`` would choose, found without looking at the others.
        first = None
        for _, agent in c._free_order:
            if agent not in members or queue_id in c.agents[agent].suspended:
                continue
            if agent not in call.tried:
                return [agent]
            first = first or agent
        if first is None:
            return None
        if call.offers:
            return []
        call.tried.clear()
        return [first]
    candidates = _candidates(c, queue_id, members)
    if not candidates:
        return None
    fresh = [m for m in candidates if m.agent not in call.tried]
    if not fresh and not call.offers:
        call.tried.clear()
        fresh = candidates
    return acd.pick(strategy, fresh, last=c.rr_last.get(queue_id))


def _candidates(c: Center, queue_id: QueueId, members: frozenset[AgentId]) -> list[acd.Candidate]:
    """The free agents who take calls of the queue now (members, not suspended from it)."""
    found = []
    for agent in c._free if len(c._free) < len(members) else members:
        if agent not in c._free or agent not in members:
            continue
        a = c.agents.get(agent)
        if a is None or queue_id in a.suspended:
            continue
        m = a.config.membership(queue_id)
        f = a.stats.queues.get(queue_id)
        found.append(
            acd.Candidate(
                agent=agent,
                available_since=c._free[agent],
                priority=m.priority if m else 1,
                answered=f.answered if f else 0,
            )
        )
    return found


def _waits(c: Center, call: Call) -> bool:
    """The queued caller waits for an agent (ring-all callers always look for more)."""
    if call.enqueued_at is None or call.ended or call.connected_party is not None:
        return False
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
