"""What the supervisors are told of their teams as it changes (CONTRACT §11, ``onTeamChange``).

``TeamWatch`` owns what was last told: each agent's and each queue's entry of the team view as
last pushed, what changed since (the agents and queues the steps touched), and the next tick.
Pushes are coalesced: whatever the rate of calls, a supervisor gets at most one
``team.changed`` every ``TEAM_TICK`` seconds, holding only the entries that differ from what
was last pushed (the component keeps the whole view: ``team()`` gives it, pushes amend it). An
entry is built once per tick, whatever the number of supervisors who see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ucs.core.ids import AgentId, QueueId

__all__ = ["TEAM_TICK", "TeamWatch"]

TEAM_TICK = 0.5
"""Seconds between two pushes of team changes to a supervisor, at most."""

Entry = dict[str, Any]


def _same(a: Entry | None, b: Entry) -> bool:
    """Equal but for the clock: a Call object carries the server's ``now``."""
    if a is None:
        return False
    if a.keys() != b.keys():
        return False
    for key, value in b.items():
        other = a[key]
        if key == "call" and isinstance(value, dict) and isinstance(other, dict):
            if {k: v for k, v in value.items() if k != "now"} != {
                k: v for k, v in other.items() if k != "now"
            }:
                return False
        elif other != value:
            return False
    return True


class TeamWatch:
    def __init__(self) -> None:
        self.agents: set[AgentId] = set()
        """Agents touched since the last tick."""
        self.queues: set[QueueId] = set()
        """Queues whose figures may have changed since the last tick."""
        self.due: float | None = None
        """When the armed tick is due; None: none is armed."""
        self._told_agents: dict[AgentId, Entry] = {}
        self._told_queues: dict[QueueId, Entry] = {}

    def note(self, agents: Iterable[AgentId], queues: Iterable[QueueId]) -> None:
        self.agents.update(agents)
        self.queues.update(queues)

    def asked(self) -> None:
        """A supervisor asked ``team()``: the entries noted since the last tick were seen as
        they are now, which no push may have told (a change and its undoing between two ticks
        look unchanged at the tick), so they are pushed at the next tick whatever was told."""
        for aid in self.agents:
            self._told_agents.pop(aid, None)
        for q in self.queues:
            self._told_queues.pop(q, None)

    @property
    def pending(self) -> bool:
        return bool(self.agents or self.queues)

    def arm(self, now: float) -> float | None:
        """When to tick, if a tick must be armed now (changes pending, none armed)."""
        if self.due is not None or not self.pending:
            return None
        self.due = now + TEAM_TICK
        return self.due

    def changes(
        self,
        agent_entry: Callable[[AgentId], Entry | None],
        queue_entry: Callable[[QueueId], Entry | None],
    ) -> tuple[dict[AgentId, Entry], dict[QueueId, Entry]]:
        """The tick: the entries that differ from what was last told (each built once), now
        counted as told; the notes start again."""
        self.due = None
        agents: dict[AgentId, Entry] = {}
        for aid in sorted(self.agents):
            entry = agent_entry(aid)
            if entry is not None and not _same(self._told_agents.get(aid), entry):
                self._told_agents[aid] = agents[aid] = entry
        queues: dict[QueueId, Entry] = {}
        for q in sorted(self.queues):
            entry = queue_entry(q)
            if entry is not None and not _same(self._told_queues.get(q), entry):
                self._told_queues[q] = queues[q] = entry
        self.agents.clear()
        self.queues.clear()
        return agents, queues
