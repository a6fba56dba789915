"""Supervisors (CONTRACT §11): who supervises whom, the team view, acting for an agent.

A supervisor is an agent with the supervisor flag in one or more queues, whose team is those
queues' other members, or a superuser, whose team is every other agent. ``team`` answers the
team view (the supervisor's queues with today's figures, and the team's agents live);
``setAgentStatus`` and ``logoutAgent`` act for an agent of the team, who is told who did it
(``supervisor.acted``; a logout's ``session.ended`` names the supervisor too), and the status
log records who (``StatusRecord.by``). Everyone else gets ``FORBIDDEN``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ucs.core.agent import check_status
from ucs.core.directory import AgentConfig, Directory
from ucs.core.effects import Push
from ucs.core.errors import Forbidden, InvalidState, NotFound
from ucs.core.ids import AgentId, ClientId, QueueId
from ucs.core.model import Status

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["HANDLERS", "supervised_queues", "team_of"]


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


def _supervisor(c: Center, agent: AgentId | None) -> AgentConfig:
    me = c.require(agent)
    config = c.agents[me].config
    queues = supervised_queues(c.directory, config)
    if queues is not None and not queues:
        raise Forbidden(f"{config.username} supervises no queue")
    return config


def _target(c: Center, supervisor: AgentConfig, user_id: int) -> AgentId:
    target = AgentId(user_id)
    if target not in c.agents:
        raise NotFound(f"no agent {user_id}")
    if target not in team_of(c.directory, supervisor):
        name = c.agents[target].config.username
        raise Forbidden(f"{name} is not in {supervisor.username}'s team")
    return target


def _who(config: AgentConfig) -> dict[str, Any]:
    return {"id": config.id, "username": config.username, "displayname": config.name}


def team(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    supervisor = _supervisor(c, agent)
    queues = supervised_queues(c.directory, supervisor)
    shown = sorted(c.directory.queues) if queues is None else sorted(queues)
    waiting: dict[QueueId, list[float]] = {q: [] for q in shown}
    for call in c.calls.values():
        q = call.queue_id
        if q in waiting and call.connected_party is None and not call.ended:
            waiting[q].append(call.enqueued_at if call.enqueued_at is not None else call.created)
    now = c.now
    result_queues = []
    for q in shown:
        day = c.queue_days.day(q)
        result_queues.append(
            {
                "queue_id": q,
                "name": c.directory.queues[q].name,
                "waiting": len(waiting[q]),
                "longest_wait": round(max((now - t for t in waiting[q]), default=0.0)),
                "answered": day.answered,
                "abandoned": day.abandoned,
                "service_level": day.service_level,
            }
        )
    agents = []
    for aid in team_of(c.directory, supervisor):
        member = c.agents[aid]
        session = c.sessions.get(aid)
        focus = c.book.focus(aid)
        agents.append(
            {
                "id": aid,
                "username": member.config.username,
                "displayname": member.config.name,
                "status": member.status.value,
                "reason": member.reason,
                "status_since": member.status_since,
                "identifier": session.identifier if session is not None else None,
                "call": focus.view(aid, now) if focus is not None else None,
            }
        )
    return {"queues": result_queues, "agents": agents}


def set_agent_status(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    supervisor = _supervisor(c, agent)
    target = _target(c, supervisor, a["userId"])
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
    supervisor = _supervisor(c, agent)
    target = _target(c, supervisor, a["userId"])
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
