"""Supervisors (CONTRACT §11): who supervises whom, the team view, acting for an agent.

A supervisor is an agent with the supervisor flag in one or more queues, whose team is those
queues' other members, or a superuser, whose team is every other agent. ``team`` answers the
team view (the supervisor's queues with today's figures, and the team's agents live);
``setAgentStatus`` and ``logoutAgent`` act for an agent of the team, who is told who did it
(``supervisor.acted``; a logout's ``session.ended`` names the supervisor too), and the status
log records who (``StatusRecord.by``). Everyone else gets ``FORBIDDEN``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ucs.core.agent import check_status
from ucs.core.directory import AgentConfig, Directory, QueueType
from ucs.core.effects import Push
from ucs.core.errors import Forbidden, InvalidState, NotFound
from ucs.core.ids import AgentId, ClientId, QueueId
from ucs.core.model import Phase, Status
from ucs.core.session import Session
from ucs.core.timers import TeamTick

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = [
    "HANDLERS",
    "Teams",
    "require_supervisor",
    "supervised_queues",
    "team_member",
    "team_of",
    "tick",
    "view",
]


def supervised_queues(directory: Directory, agent: AgentConfig) -> frozenset[QueueId] | None:
    """The queues ``agent`` supervises (None: a superuser, every queue)."""
    if agent.superuser:
        return None
    return frozenset(
        m.queue for m in agent.memberships if m.supervisor and m.queue in directory.queues
    )


def team_of(directory: Directory, supervisor: AgentConfig) -> list[AgentId]:
    """The agents ``supervisor`` may watch and act for, by id; empty: not a supervisor."""
    queues = supervised_queues(directory, supervisor)
    return sorted(
        a.id
        for a in directory.agents.values()
        if a.id != supervisor.id
        and (queues is None or any(m.queue in queues for m in a.memberships))
    )


def require_supervisor(c: Center, agent: AgentId | None) -> AgentConfig:
    me = c.require(agent)
    config = c.agents[me].config
    if me not in c.teams.supervisors:
        raise Forbidden(f"{config.username} supervises no queue")
    return config


def team_member(c: Center, supervisor: AgentConfig, user_id: int) -> AgentId:
    target = AgentId(user_id)
    if target not in c.agents:
        raise NotFound(f"no agent {user_id}")
    if target not in c.teams.of(supervisor.id)[0]:
        name = c.agents[target].config.username
        raise Forbidden(f"{name} is not in {supervisor.username}'s team")
    return target


def _who(config: AgentConfig) -> dict[str, Any]:
    return {"id": config.id, "username": config.username, "displayname": config.name}


class Teams:
    """Each supervisor's team and queues for one directory (built when first asked), and
    who of the directory's agents are supervisors at all."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.supervisors = frozenset(
            a.id
            for a in directory.agents.values()
            if (queues := supervised_queues(directory, a)) is None or queues
        )
        """Agents who supervise a queue, or are superusers."""
        self._teams: dict[AgentId, tuple[frozenset[AgentId], tuple[QueueId, ...]]] = {}

    def of(self, supervisor: AgentId) -> tuple[frozenset[AgentId], tuple[QueueId, ...]]:
        """The supervisor's agents and queues (both empty: not a supervisor)."""
        known = self._teams.get(supervisor)
        if known is None:
            config = self.directory.agents[supervisor]
            queues = supervised_queues(self.directory, config)
            shown = tuple(sorted(self.directory.queues if queues is None else queues))
            known = self._teams[supervisor] = (
                frozenset(team_of(self.directory, config)),
                shown,
            )
        return known

    def watched(self, sessions: Mapping[AgentId, Session]) -> bool:
        """Whether a supervisor is logged in (their team's changes must be told)."""
        return any(s in sessions for s in self.supervisors)


class _Now:
    """What the team view counts from the live calls: when each queue's waiting callers
    began to wait, and each campaign's calls in progress."""

    __slots__ = ("dialling", "waiting")

    def __init__(self, c: Center) -> None:
        self.waiting: dict[QueueId, list[float]] = {}
        self.dialling: dict[QueueId, int] = {}
        for call in c.calls.values():
            if call.ended:
                continue
            q = call.queue_id
            if q is None:
                if call.outbound_id is not None:
                    self.dialling[call.outbound_id] = self.dialling.get(call.outbound_id, 0) + 1
            elif call.connected_party is None:
                since = call.enqueued_at if call.enqueued_at is not None else call.created
                self.waiting.setdefault(q, []).append(since)


def _queue_entry(c: Center, q: QueueId, live: _Now, now: float) -> dict[str, Any] | None:
    config = c.directory.queues.get(q)
    if config is None:
        return None
    day = c.queue_days.day(q)
    if config.type is QueueType.OUTGOING:
        # A campaign: nobody waits in it; what it has are calls dialled under it.
        return {
            "queue_id": q,
            "name": config.name,
            "type": int(config.type),
            "waiting": 0,
            "longest_wait": 0,
            "answered": day.answered,
            "abandoned": 0,
            "service_level": None,
            "active": live.dialling.get(q, 0),
            "dialled": day.offered,
            "unanswered": day.unanswered,
        }
    waiting = live.waiting.get(q, ())
    return {
        "queue_id": q,
        "name": config.name,
        "type": int(config.type),
        "waiting": len(waiting),
        "longest_wait": round(max((now - t for t in waiting), default=0.0)),
        "answered": day.answered,
        "abandoned": day.abandoned,
        "service_level": day.service_level,
    }


def _agent_entry(c: Center, aid: AgentId, now: float) -> dict[str, Any] | None:
    member = c.agents.get(aid)
    if member is None:
        return None
    session = c.sessions.get(aid)
    focus = c.book.focus(aid)
    return {
        "id": aid,
        "username": member.config.username,
        "displayname": member.config.name,
        "status": member.status.value,
        "reason": member.reason,
        "status_since": member.status_since,
        "identifier": session.identifier if session is not None else None,
        "call": focus.view(aid, now) if focus is not None else None,
        "queues": sorted({m.queue for m in member.config.memberships}),
    }


def team(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    supervisor = require_supervisor(c, agent)
    members, shown = c.teams.of(supervisor.id)
    c.team_watch.asked()
    return view(c, members, shown, c.now)


def view(
    c: Center, members: Iterable[AgentId], shown: Iterable[QueueId], now: float
) -> dict[str, Any]:
    """The team view of ``members`` and the ``shown`` queues at ``now``, as ``team()`` has it."""
    live = _Now(c)
    queues = [_queue_entry(c, q, live, now) for q in shown]
    agents = [_agent_entry(c, aid, now) for aid in sorted(members)]
    return {"queues": [q for q in queues if q], "agents": [x for x in agents if x]}


def tick(c: Center) -> None:
    """Tell each supervisor logged in what changed in their team since the last tick
    (``team.changed``: the changed queue and agent entries); queues with callers waiting are
    looked at again at the next tick (their longest wait grows)."""
    live = _Now(c)
    agents, queues = c.team_watch.changes(
        lambda aid: _agent_entry(c, aid, c.now),
        lambda q: _queue_entry(c, q, live, c.now),
    )
    if agents or queues:
        # Supervisors told the same changes get the same body (one object: encoded once).
        bodies: dict[tuple[tuple[AgentId, ...], tuple[QueueId, ...]], dict[str, Any]] = {}
        for sup in sorted(c.teams.supervisors):
            session = c.sessions.get(sup)
            if session is None or session.phase is not Phase.READY:
                continue
            members, shown = c.teams.of(sup)
            key = (
                tuple(aid for aid in agents if aid in members),
                tuple(q for q in shown if q in queues),
            )
            if not key[0] and not key[1]:
                continue
            body = bodies.get(key)
            if body is None:
                body = bodies[key] = {
                    "queues": [queues[q] for q in key[1]],
                    "agents": [agents[aid] for aid in key[0]],
                }
            c.out.effects.append(Push(sup, "team.changed", body))
    if c.teams.watched(c.sessions):
        c.team_watch.note((), live.waiting)
        if (due := c.team_watch.arm(c.now)) is not None:
            c.timers.arm(due, TeamTick(due))


def set_agent_status(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    supervisor = require_supervisor(c, agent)
    target = team_member(c, supervisor, a["userId"])
    status: Status = a["status"]
    reason: str | None = a["reason"]
    check_status(status, reason, c.directory.aux_reasons)
    if target not in c.sessions:
        raise InvalidState(f"{c.agents[target].config.username} is not logged in")
    c.set_status(target, status, reason, by=supervisor.id)
    body = {"action": "status", "status": status.value, "reason": reason, "by": _who(supervisor)}
    c.out.effects.append(Push(target, "supervisor.acted", body))
    return None


def logout_agent(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    supervisor = require_supervisor(c, agent)
    target = team_member(c, supervisor, a["userId"])
    if target not in c.sessions:
        raise InvalidState(f"{c.agents[target].config.username} is not logged in")
    if c.agent_calls.get(target):
        name = c.agents[target].config.username
        raise InvalidState(f"{name} has calls: they must be hung up or transferred first")
    c.end_session(target, by=_who(supervisor))
    return None


HANDLERS = {
    "team": team,
    "setAgentStatus": set_agent_status,
    "logoutAgent": logout_agent,
}
"""The supervisors' methods (CONTRACT §11), beside ``methods.HANDLERS``."""
