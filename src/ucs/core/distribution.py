"""Offering waiting callers to free agents, by each queue's strategy (see ``acd``).

The ``Distributor`` owns the two indexes this needs, kept up to date step by step: each
queue's free members (longest idle first) and each queue's waiting callers (in arrival order),
with the last agent each round-robin queue rang (``rr_last``) and the flag that asks for a full
rebuild after a reconfiguration. It reads the agents and calls it is given at construction
and asks the ``Center`` two things through callbacks: whether an agent is free (``is_free``),
and to ring an agent with a call (``offer``).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass

from sortedcontainers import SortedList

from ucs.core import acd
from ucs.core.agent import Agent
from ucs.core.call import Call
from ucs.core.directory import Directory, Strategy
from ucs.core.ids import AgentId, QueueId, UniqueId, arrival_seq

__all__ = ["Distributor", "Indexes", "WaitEntry"]

WaitEntry = tuple[float, int, UniqueId]
"""A waiting caller in its queue's index: enqueued at, arrival sequence, uniqueid."""


@dataclass(frozen=True, slots=True)
class Indexes:
    """A copy of the ``Distributor``'s indexes, for a test to compare with a full recount."""

    free: dict[AgentId, float]
    """Each free agent and the time it is kept under (the time it became free)."""
    waiting: dict[QueueId, list[WaitEntry]]
    """Each queue's waiting callers, first to be served first."""


class Distributor:
    """Who is free, who waits, and which free agent each waiting caller is offered to."""

    __slots__ = (
        "_agents",
        "_calls",
        "_free",
        "_free_in",
        "_is_free",
        "_offer",
        "_rebuild",
        "_sessions",
        "_unkept",
        "_wait_key",
        "_waiting",
        "rr_last",
    )

    def __init__(
        self,
        *,
        agents: Mapping[AgentId, Agent],
        sessions: Iterable[AgentId],
        calls: Mapping[UniqueId, Call],
        is_free: Callable[[AgentId], bool],
        offer: Callable[[Call, AgentId, float], None],
        unkept: Container[UniqueId] = (),
    ) -> None:
        """``agents``, ``sessions`` (the agents logged in) and ``calls`` are the ``Center``'s
        own, read as they change; ``offer(call, agent, ring_timeout)`` rings an agent;
        ``unkept`` holds the calls whose record is not kept yet (``keeping.py``): a queue whose
        first caller is one of them offers nobody until it is kept, so callers keep their
        order."""
        self._agents = agents
        self._sessions = sessions
        self._calls = calls
        self._is_free = is_free
        self._offer = offer
        self._unkept = unkept
        self._free: dict[AgentId, tuple[float, tuple[QueueId, ...]]] = {}
        """Free agents, each with the time it became free and the queues it is indexed under
        in ``_free_in``."""
        self._free_in: dict[QueueId, SortedList[tuple[float, AgentId]]] = {}
        """Each queue's free members, longest idle first: a caller is matched with an agent by
        looking at its queue's free members alone, however many agents other queues have."""
        self._waiting: dict[QueueId, SortedList[WaitEntry]] = {}
        self._wait_key: dict[UniqueId, tuple[QueueId, WaitEntry]] = {}
        self._rebuild = False
        self.rr_last: dict[QueueId, AgentId] = {}
        """The agent each queue's call was last answered by (round-robin goes on from it)."""

    # ------------------------------------------------------------------ what others tell it

    def rebuild(self) -> None:
        """Strategies, weights, members or agents changed: rebuild both indexes next time."""
        self._rebuild = True

    def answered(self, queue: QueueId, agent: AgentId) -> None:
        """The agent answered a call of the queue (round-robin goes on after it)."""
        self.rr_last[queue] = agent

    # ------------------------------------------------------------------ what a test asks

    def indexes(self) -> Indexes:
        return Indexes(
            free={agent: since for agent, (since, _) in self._free.items()},
            waiting={q: list(entries) for q, entries in self._waiting.items()},
        )

    def check(self) -> None:
        """Raise ``AssertionError`` if the indexes disagree with each other: each queue's free
        members with the free agents and their memberships, the waiting callers with the key
        each is indexed under."""
        recount: dict[QueueId, list[tuple[float, AgentId]]] = {}
        for agent, (since, queues) in self._free.items():
            assert queues == _queues_of(self._agents[agent]), agent
            for queue_id in queues:
                recount.setdefault(queue_id, []).append((since, agent))
        assert {q: list(v) for q, v in self._free_in.items()} == {
            q: sorted(v) for q, v in recount.items()
        }
        indexed = [(q, e) for q, entries in self._waiting.items() for e in entries]
        assert sorted(indexed) == sorted(self._wait_key[e[2]] for _, e in indexed)
        assert len(indexed) == len(self._wait_key)
        for queue_id, entries in self._waiting.items():
            assert entries, f"queue {queue_id} is indexed with nobody waiting"

    # ------------------------------------------------------------------ the step's end

    def distribute(
        self,
        directory: Directory,
        now: float,
        agents_touched: Iterable[Iterable[AgentId]],
        calls_touched: Iterable[UniqueId],
    ) -> None:
        """Offer the callers waiting for an agent to the free members of their queues.

        Runs at the end of every step, so it works from the indexes brought up to date with
        what the step changed (``reconcile``). A step that frees nobody and queues nobody costs
        next to nothing however many callers wait, and a freed agent is matched with the first
        caller it can take without sorting the rest. Queues sharing agents are served in the
        order ``acd.serving_order`` defines: heavier queue first, then longest waiting.
        """
        self.reconcile(directory, now, agents_touched, calls_touched)
        free, waiting_by_queue = self._free, self._waiting
        if not free or not waiting_by_queue:
            return
        cursors = {q: 0 for q in waiting_by_queue}
        while cursors and free:
            queue_id = min(
                cursors,
                key=lambda q: _order(directory, q, waiting_by_queue[q][cursors[q]]),
            )
            waiting = waiting_by_queue[queue_id]
            entry = waiting[cursors[queue_id]]
            q = directory.queues[queue_id]
            call = self._calls[entry[2]]
            if entry[2] in self._unkept:
                del cursors[queue_id]  # its record is on its way: it and those after it wait
                continue
            chosen = self._choose(directory, queue_id, q.strategy, call)
            if chosen is None:
                del cursors[queue_id]  # nobody free takes this queue's calls: the rest wait too
                continue
            for agent in chosen:
                self._offer(call, agent, q.ring_timeout)
                self._set_free(agent, False, now)
            if _waits(directory, call):
                cursors[queue_id] += 1  # ring-all: it goes on looking; the next caller is served
            else:
                self._unindex(call.uniqueid)
            if cursors.get(queue_id, 0) >= len(waiting):
                cursors.pop(queue_id, None)

    def reconcile(
        self,
        directory: Directory,
        now: float,
        agents_touched: Iterable[Iterable[AgentId]],
        calls_touched: Iterable[UniqueId],
    ) -> None:
        """Bring the free agents and the waiting callers up to date with what the step changed.

        Agents whose freedom may have changed are the step's touched ones; callers who may have
        started or stopped waiting are its touched calls. After ``rebuild()`` both indexes are
        rebuilt (strategies, weights and agents may have changed).
        """
        is_free = self._is_free
        changed: Iterable[UniqueId]
        if self._rebuild:
            self._rebuild = False
            self._free.clear()
            self._free_in.clear()
            for agent in self._sessions:
                self._set_free(agent, is_free(agent), now)
            self._waiting.clear()
            self._wait_key.clear()
            changed = list(self._calls)
        else:
            for agents in agents_touched:
                for agent in agents:
                    self._set_free(agent, is_free(agent), now)
            changed = calls_touched
        wait_key = self._wait_key
        for uid in changed:
            call = self._calls.get(uid)
            key = _key(call) if call is not None and _waits(directory, call) else None
            if wait_key.get(uid) != key:
                self._unindex(uid)
                if key is not None:
                    wait_key[uid] = key
                    self._waiting.setdefault(key[0], SortedList()).add(key[1])

    def place(self, call: Call) -> int | None:
        """The waiting caller's place in its queue (1: served next), None if it does not wait.
        Callers of every queue are served by weight first; the place counts its queue only."""
        key = self._wait_key.get(call.uniqueid)
        if key is None:
            return None
        return int(self._waiting[key[0]].index(key[1])) + 1

    # ------------------------------------------------------------------ the indexes

    def _unindex(self, uid: UniqueId) -> None:
        old = self._wait_key.pop(uid, None)
        if old is not None:
            waiting = self._waiting[old[0]]
            waiting.remove(old[1])
            if not waiting:
                del self._waiting[old[0]]

    def _set_free(self, agent: AgentId, free: bool, now: float) -> None:
        """Index the agent as free or not. A free agent is kept under the time it became free:
        ``available_since``, or now for one freed in this step (``publish`` sets it to now)."""
        indexed = self._free.get(agent)
        if free and indexed is None:
            a = self._agents[agent]
            key = a.available_since if a.free else now
            queues = _queues_of(a)
            self._free[agent] = (key, queues)
            for queue_id in queues:
                entries = self._free_in.get(queue_id)
                if entries is None:
                    entries = self._free_in[queue_id] = SortedList()
                entries.add((key, agent))
        elif not free and indexed is not None:
            key, queues = self._free.pop(agent)
            for queue_id in queues:
                entries = self._free_in[queue_id]
                entries.remove((key, agent))
                if not entries:
                    del self._free_in[queue_id]

    def _choose(
        self, directory: Directory, queue_id: QueueId, strategy: Strategy, call: Call
    ) -> list[AgentId] | None:
        """The agents to ring for ``call`` now (an empty list: none for this caller), or None
        when no free agent takes the queue's calls at all.

        Agents who were offered the call before are tried again only once every other free
        member has been (and never while the call still rings somebody).
        """
        members = directory.member_set(queue_id)
        agents = self._agents
        if strategy is Strategy.LONGEST_IDLE:
            # The queue's free members are indexed longest idle first: the first one who takes
            # its calls is the one ``acd.pick`` would choose, found without looking at the
            # others.
            first = None
            for _, agent in self._free_in.get(queue_id, ()):
                if agent not in members or queue_id in agents[agent].suspended:
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
        candidates = self._candidates(queue_id, members)
        if not candidates:
            return None
        fresh = [m for m in candidates if m.agent not in call.tried]
        if not fresh and not call.offers:
            call.tried.clear()
            fresh = candidates
        return acd.pick(strategy, fresh, last=self.rr_last.get(queue_id))

    def _candidates(self, queue_id: QueueId, members: frozenset[AgentId]) -> list[acd.Candidate]:
        """The free agents who take calls of the queue now (members, not suspended from it)."""
        found = []
        for since, agent in self._free_in.get(queue_id, ()):
            if agent not in members:
                continue
            a = self._agents.get(agent)
            if a is None or queue_id in a.suspended:
                continue
            m = a.config.membership(queue_id)
            f = a.stats.queues.get(queue_id)
            found.append(
                acd.Candidate(
                    agent=agent,
                    available_since=since,
                    priority=m.priority if m else 1,
                    answered=f.answered if f else 0,
                )
            )
        return found


def _queues_of(agent: Agent) -> tuple[QueueId, ...]:
    """The queues whose calls the agent takes, as its configuration says (not supervising)."""
    return tuple(m.queue for m in agent.config.memberships if not m.supervisor)


def _key(call: Call) -> tuple[QueueId, WaitEntry]:
    entry = (call.enqueued_at or call.created, arrival_seq(call.uniqueid), call.uniqueid)
    return call.queue_id, entry  # type: ignore[return-value]


def _order(directory: Directory, queue_id: QueueId, entry: WaitEntry) -> tuple[int, float, int]:
    w = acd.Waiting(entry[2], directory.queues[queue_id].weight, entry[0], entry[1])
    return acd.serving_order(w)


def _waits(directory: Directory, call: Call) -> bool:
    """The queued caller waits for an agent (ring-all callers always look for more)."""
    if call.enqueued_at is None or call.ended or call.connected_party is not None:
        return False
    q = directory.queues.get(call.queue_id)  # type: ignore[arg-type]
    return q is not None and (not call.offers or q.strategy is Strategy.RING_ALL)
