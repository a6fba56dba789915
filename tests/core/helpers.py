"""What several core tests share beyond ``VirtualCenter``'s own helpers (``ready``, ``user``,
``seen``, ``last_call``): centers of custom queues, and who a call rings or whether it waits."""

from __future__ import annotations

from typing import Any

from tests.conftest import MORNING, PRAGUE
from ucs.core.directory import (
    AgentConfig,
    Directory,
    LineConfig,
    Membership,
    QueueConfig,
    QueueType,
    Strategy,
)
from ucs.core.effects import Ring
from ucs.core.ids import AgentId, ClientId, LineId, QueueId, UniqueId
from ucs.core.model import CallState
from ucs.virtual import VirtualCenter

__all__ = ["answered", "custom", "member_of", "queue_config", "ringing", "rung", "waiting"]


def ringing(vc: VirtualCenter, client: ClientId, uid: str) -> bool:
    """The connection was last told that the call rings its agent."""
    seen = vc.seen(client, uid)
    return bool(seen) and seen[-1][0] != "hangup" and seen[-1][1]["state"] == CallState.RINGING


def rung(vc: VirtualCenter, clients: dict[int, ClientId], uid: str) -> list[int]:
    """The agents (by number) the call rings right now."""
    return sorted(n for n, c in clients.items() if ringing(vc, c, uid))


def waiting(vc: VirtualCenter, uid: UniqueId) -> bool:
    """The caller waits in its queue: state 1, no phone rings, not ended."""
    call = vc.center.calls.get(uid)
    return (
        call is not None
        and call.state is CallState.CONNECTING
        and not call.offers
        and not any(isinstance(e, Ring) and e.uniqueid == uid for e in vc.effects)
    )


def answered(vc: VirtualCenter, client: ClientId) -> UniqueId:
    """A Support caller rings the agent (the only one free), who answers: connected."""
    uid = vc.caller(1)
    vc.advance(2)
    vc.call(client, "answer")
    assert vc.last_call(client, uid)[1]["state"] == CallState.CONNECTED
    return uid


def custom(queues: list[QueueConfig], members: dict[int, tuple[Membership, ...]]) -> VirtualCenter:
    """A center of agents agent1…agentN (on phone1…phoneN) with the given queues."""
    lines = {
        LineId(i): LineConfig(LineId(i), f"phone{i}", f"100{i}", f"Phone {i}") for i in range(1, 6)
    }
    agents = {
        AgentId(n): AgentConfig(
            id=AgentId(n),
            username=f"agent{n}",
            firstname=f"Agent{n}",
            memberships=ms,
            lines=(LineId(n),),
        )
        for n, ms in members.items()
    }
    directory = Directory(agents=agents, lines=lines, queues={q.id: q for q in queues})
    return VirtualCenter(
        directory,
        start=MORNING,
        passwords={f"agent{n}": f"agent{n}-pass" for n in members},
        tz=PRAGUE,
    )


def queue_config(n: int, strategy: Strategy, *, weight: int = 0) -> QueueConfig:
    """Incoming queue ``Q{n}``: 15 s ring timeout, no wrap-up."""
    return QueueConfig(QueueId(n), f"Q{n}", QueueType.INCOMING, strategy, 15.0, 0.0, weight=weight)


def member_of(*queues: int, priority: int = 1) -> tuple[Membership, ...]:
    return tuple(Membership(QueueId(q), priority=priority) for q in queues)


def amended_team(view: dict[str, Any], pushes: list[dict[str, Any]]) -> dict[str, Any]:
    """The team view a component keeps: ``team()``'s, amended by each ``team.changed``."""
    queues = {q["queue_id"]: q for q in view["queues"]}
    agents = {a["id"]: a for a in view["agents"]}
    for push in pushes:
        queues.update({q["queue_id"]: q for q in push["queues"]})
        agents.update({a["id"]: a for a in push["agents"]})
    return {"queues": list(queues.values()), "agents": list(agents.values())}


def without_clock(view: dict[str, Any]) -> dict[str, Any]:
    """A team view but for the server's clock in each Call object (``now``)."""
    agents = [
        {**a, "call": {k: v for k, v in a["call"].items() if k != "now"} if a["call"] else None}
        for a in view["agents"]
    ]
    return {"queues": view["queues"], "agents": agents}
