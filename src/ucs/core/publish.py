"""The end of each step: statistics brought up to date, and every connection told what changed.

Each call message names its moment (``what``): ``ringing``, ``connect``, ``hangup`` or ``change``,
from what the agent's connections were told before (``Seen``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ucs.core.agent import Activity, Agent
from ucs.core.call import Call
from ucs.core.effects import AgentRecord, Push
from ucs.core.ids import AgentId, QueueId
from ucs.core.model import CallState, Cause, Status
from ucs.core.views import session_wire, user_wire

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["Seen", "activity", "publish", "push_call"]

_LIVE = (CallState.CONNECTED, CallState.SUSPENDED, CallState.HELD)


@dataclass(slots=True)
class Seen:
    """What an agent's connections were last told about one call."""

    state: int
    connected: bool


def activity(c: Center, agent: Agent) -> Activity:
    """What the agent is doing now, as far as its statistics are concerned."""
    aid = AgentId(agent.config.id)
    ringing_in: QueueId | None = None
    talking_in: list[QueueId] = []
    ringing_out: list[QueueId] = []
    talking_out: list[QueueId] = []
    calls = c.calls_of(aid)
    for call in calls:
        if aid in call.offers and call.queue_id is not None:
            ringing_in = call.queue_id
        elif call.handled_by == aid and call.queue_id is not None and call.state in _LIVE:
            talking_in.append(call.queue_id)
        elif call.outbound_id is not None and call.caller.user_id == aid:
            if call.state in _LIVE:
                talking_out.append(call.outbound_id)
            else:
                ringing_out.append(call.outbound_id)
    logged_in = agent.status is not Status.OFFLINE
    return Activity(
        status=agent.status,
        reason=agent.reason,
        idle=agent.status is Status.READY and not calls,
        ringing_in=ringing_in,
        talking_in=tuple(talking_in),
        ringing_out=tuple(ringing_out),
        talking_out=tuple(talking_out),
        suspended=tuple(sorted(agent.suspended)) if logged_in else (),
    )


def publish(c: Center) -> None:
    for (uid, agent), cause in c._left.items():
        call = c.calls.get(uid) or c.ended.get(uid)
        if call is not None:
            push_call(c, call, agent, cause)
    for uid in c._changed:
        call = c.calls.get(uid)
        if call is not None:
            for agent in sorted(call.agents()):
                push_call(c, call, agent, None)
            c._out.append(c.record(call, live=True))
        else:
            c._linked.pop(uid, None)
    c._changed.clear()
    c._left.clear()
    for aid in sorted(c._dirty):
        a = c.agents.get(aid)
        if a is None:
            continue
        a.accrue(c.now)
        a.activity = activity(c, a)
        free = c.free(aid)
        if free and not a.free:
            a.available_since = c.now
        a.free = free
        c._out.append(AgentRecord(aid, a.to_state(c.midnight)))
        if aid in c.sessions:
            body = {"user": user_wire(a, c.directory, c.sessions.get(aid), c.now)}
            c._out.append(Push(aid, "user.changed", body))
    c._dirty.clear()
    for aid in sorted(c._session_changed):
        if aid in c.sessions:
            body = session_wire(c.sessions[aid], c.agents[aid])
            c._out.append(Push(aid, "session.changed", body))
    c._session_changed.clear()


def push_call(c: Center, call: Call, agent: AgentId, left: Cause | None) -> None:
    """Tell the agent's connections about the call, naming the moment (``what``)."""
    key = (call.uniqueid, agent)
    seen = c._seen.get(key)
    if left is not None:
        if seen is None:
            return  # never told about it: nothing to take back
        del c._seen[key]
        view = call.view(agent, c.now, left=(left, call.disconnected or c.now))
        what = "hangup"
    else:
        view = call.view(agent, c.now)
        offered = call.side_of(agent) == "offered"
        state = CallState.RINGING if offered else call.state
        if seen is None:
            seen = c._seen[key] = Seen(state=-1, connected=False)
        if state == CallState.RINGING and seen.state != CallState.RINGING:
            what = "ringing"
        elif state == CallState.CONNECTED and not seen.connected:
            what = "connect"
            seen.connected = True
        else:
            what = "change"
        seen.state = int(state)
    if agent in c.sessions:
        c._out.append(Push(agent, "call.changed", {"what": what, "call": view}))
