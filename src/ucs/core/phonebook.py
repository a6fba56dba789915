"""The transfer directory (``directory()``, issue 17): who an agent can transfer a caller to or
dial, with what each is doing now.

Every other agent with their status, AUX reason, the extension of the phone they have paired
(``None`` when none, or the browser softphone, which has no extension) and whether they are on
a call; and the incoming queues with their number and how many callers wait. Built from the
values the ``Center`` holds, at the moment it is asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ucs.core.directory import QueueType
from ucs.core.ids import AgentId, ClientId, QueueId
from ucs.core.model import Phase

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["directory"]


def directory(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    me = c.require(agent)
    agents = []
    for aid, other in sorted(c.agents.items()):
        if aid == me:
            continue
        session = c.sessions.get(aid)
        paired = session.line if session is not None and session.phase is Phase.READY else None
        line = c.directory.lines.get(paired) if paired is not None else None
        agents.append(
            {
                "id": aid,
                "username": other.config.username,
                "displayname": other.config.name,
                "status": other.status.value,
                "reason": other.reason,
                "extension": line.extension if line is not None else None,
                "busy": bool(c.agent_calls.get(aid)),
            }
        )
    waiting: dict[QueueId, int] = {}
    for call in c.calls.values():
        q = call.queue_id
        if q is not None and call.connected_party is None and not call.ended:
            waiting[q] = waiting.get(q, 0) + 1
    queues = [
        {"id": qid, "name": q.name, "number": q.number, "waiting": waiting.get(qid, 0)}
        for qid, q in sorted(c.directory.queues.items())
        if q.type is QueueType.INCOMING
    ]
    return {"agents": agents, "queues": queues}
