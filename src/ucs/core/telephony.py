"""What the switch tells the core: callers arriving, phones answering, parties hanging up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ucs.core import distribution
from ucs.core.call import Call, Offer
from ucs.core.directory import QueueType
from ucs.core.effects import Created, Ring
from ucs.core.events import (
    Answered,
    HungUp,
    RemoteAnswered,
    RemoteFailed,
    RemoteRinging,
    TrunkCall,
)
from ucs.core.ids import AgentId, QueueId
from ucs.core.model import CallState, Cause, Direction, PartyType

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = [
    "connect",
    "count_out",
    "on_answered",
    "on_hung_up",
    "on_remote_answered",
    "on_remote_failed",
    "on_remote_ringing",
    "on_trunk_call",
    "queue_answer",
]


def on_trunk_call(c: Center, ev: TrunkCall) -> None:
    caller = c.trunk_party(ev.number, ev.name, ev.channel)
    queue = c.directory.queues.get(ev.queue) if ev.queue is not None else None
    line = c.directory.line_by_extension(ev.extension) if ev.extension else None
    called = (queue.number or str(queue.id)) if queue else (ev.extension or "")
    call = c.new_call(
        origin=Direction.INCOMING, caller=caller, called_number=called, uid=ev.uniqueid
    )
    call.data = dict(ev.data)
    call.state = CallState.CONNECTING
    if queue is not None and queue.type is QueueType.INCOMING:
        call.queue_id = queue.id
        call.called_name = queue.name
        call.enqueued_at = c.now
    elif line is not None:
        call.connected_party = c.line_party(line)
        call.called_name = call.connected_party.name
        call.move(CallState.RINGING)
        c._out.append(Ring(call.uniqueid, line.id, caller))
    else:
        c.end_call(call, Cause.INVALID_NUMBER)
    c.touch(call)
    c._out.append(Created(call.uniqueid, ev.channel))


def on_answered(c: Center, ev: Answered) -> None:
    call = c.calls.get(ev.uniqueid)
    if call is None:
        return
    offer = next((o for o in call.offers.values() if o.line == ev.line), None)
    if offer is not None:
        queue_answer(c, call, offer)
    elif (
        call.connected_party is not None
        and call.connected_party.line_id == ev.line
        and call.state in (CallState.RINGING, CallState.CONNECTING)
    ):
        connect(c, call)


def queue_answer(c: Center, call: Call, offer: Offer) -> None:
    for other in list(call.offers.values()):
        if other.agent != offer.agent:
            distribution.end_offer(c, call, other, Cause.PICKUP, counted=False)
    call.offers.clear()
    call.connected_party = offer.party
    call.handled_by = offer.agent
    call.enqueued_at = None
    connect(c, call)
    c.rr_last[call.queue_id] = offer.agent  # type: ignore[index]
    a = c.agents[offer.agent]
    a.stats.in_calls_answered += 1
    a.stats.queue(call.queue_id).answered += 1  # type: ignore[arg-type]


def connect(c: Center, call: Call) -> None:
    call.move(CallState.CONNECTED)
    if call.connected_at is None:
        call.connected_at = c.now
    c.touch(call)


def on_remote_ringing(c: Center, ev: RemoteRinging) -> None:
    call = c.calls.get(ev.uniqueid)
    if call is None or call.state not in (CallState.NEW, CallState.CONNECTING):
        return
    if call.target is not None:
        call.connected_party, call.target = call.target, None
    call.move(CallState.RINGING)
    c.touch(call)


def on_remote_answered(c: Center, ev: RemoteAnswered) -> None:
    call = c.calls.get(ev.uniqueid)
    if call is None or call.state not in (
        CallState.NEW,
        CallState.CONNECTING,
        CallState.RINGING,
    ):
        return
    if call.target is not None:
        call.connected_party, call.target = call.target, None
    first = call.connected_at is None
    connect(c, call)
    caller = call.caller.user_id
    if first and call.outbound_id is not None and caller is not None:
        count_out(c, caller, call.outbound_id, answered=True)


def count_out(c: Center, agent: AgentId, queue: QueueId, *, answered: bool) -> None:
    a = c.agents.get(agent)
    if a is None:
        return
    if answered:
        a.stats.out_calls_answered += 1
        a.stats.queue(queue).answered += 1
    else:
        a.stats.out_calls_unanswered += 1
        a.stats.queue(queue).unanswered += 1
    c._dirty.add(agent)


def on_remote_failed(c: Center, ev: RemoteFailed) -> None:
    call = c.calls.get(ev.uniqueid)
    if call is None:
        return
    cause = ev.cause if ev.cause not in (Cause.NOT_SET,) else Cause.UNKNOWN
    c.end_call(call, cause)


def on_hung_up(c: Center, ev: HungUp) -> None:
    call = c.calls.get(ev.uniqueid)
    if call is None:
        return
    if ev.line is not None:
        offer = next((o for o in call.offers.values() if o.line == ev.line), None)
        if offer is not None:  # the agent rejected a queue offer on the handset
            distribution.reject_offer(c, call, offer)
            return
    if ev.line is None:
        outside_is_caller = call.caller.type is PartyType.TRUNK
    else:
        outside_is_caller = call.caller.line_id == ev.line
    c.end_call(call, Cause.CALLER_HANGUP if outside_is_caller else Cause.CALLED_HANGUP)
