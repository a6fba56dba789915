"""Dialling and transfers: the target of a number, click-to-dial, attended and blind transfer.

Attended transfer: ``transfer()`` puts the call in SUSPENDED (the caller waits) and, with a
number, dials the consultation at once; otherwise the next ``dial()`` is the consultation.
``finishTransfer()`` asks the switch to join the caller with the consultation's far party; the
switch confirms (``Transferred``) or fails (``SwitchFailed``), and only then does anything move.
If the consultation fails or is hung up, the agent goes back to the caller with ``unhold()``.
Blind transfer sends the far party to the number at once, with the same confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ucs.core import waiting
from ucs.core.call import Call
from ucs.core.directory import QueueConfig
from ucs.core.effects import Hold, Originate, Push, Redirect, Transfer
from ucs.core.errors import SWITCH_FAILURE, InvalidArgument, InvalidState
from ucs.core.events import Operation, SwitchFailed, Transferred
from ucs.core.ids import AgentId, ClientId, LineId, QueueId
from ucs.core.model import CallState, Cause, Direction, Party, PartyType, Side
from ucs.core.numbers import parse_dialable

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["Target", "blind", "confirmed", "failed", "finish", "originate", "plan_target", "start"]


@dataclass(frozen=True, slots=True)
class Target:
    """Where a number leads: one of our lines, one of our incoming queues, or the outside
    world."""

    number: str
    party: Party
    line: LineId | None
    queue: QueueId | None = None


def plan_target(c: Center, me: AgentId, number: Any) -> Target:
    """Check a number and find where it leads, changing nothing."""
    d = parse_dialable(number, c.directory.region)
    line = c.directory.line_by_extension(d.digits)
    if line is not None:
        if line.id == c.sessions[me].line:
            raise InvalidArgument(f"{d.raw} is your own phone")
        return Target(d.digits, c.book.line_party(line), line.id)
    party = Party(type=PartyType.TRUNK, number=d.digits, number_norm=d.e164)
    queue = c.directory.incoming_queue_by_number(d.digits)
    if queue is not None:  # the caller waits in it, as one who dialled it
        return Target(d.digits, replace(party, name=queue.name), None, queue.id)
    return Target(d.digits, party, None)


def originate(c: Center, me: AgentId, line: LineId, t: Target, *, data: dict[str, Any]) -> Call:
    call = c.book.new_call(
        origin=Direction.OUTGOING,
        caller=c.book.agent_party(me, line),
        called_number=t.number,
        uid=None,
    )
    call.called_number_norm = t.party.number_norm
    call.called_name = t.party.name
    call.data = data
    call.move(CallState.CONNECTING)
    queue = c.directory.queues.get(t.queue) if t.queue is not None else None
    if queue is not None:  # as a phone dialling the queue's number: it waits in it
        call.called_name = queue.name
        call.queue_id = queue.id
        call.enqueued_at = c.now
        waiting.enter(c, call, queue)
    else:
        call.target = t.party
    c.out.effects.append(Originate(call.uniqueid, line, t.number, t.line, t.queue))
    c.book.touch(call)
    return call


def suspended_without_consultation(c: Center, me: AgentId) -> Call | None:
    for call in c.book.calls_of(me):
        if call.state is CallState.SUSPENDED and call.consultation is None:
            return call
    return None


def _transferable(c: Center, me: AgentId) -> Call:
    call = c.book.focus(me)
    if call is None:
        raise InvalidState("you have no call to transfer")
    if call.side_of(me) not in (Side.CALLER, Side.CONNECTED) or call.state not in (
        CallState.CONNECTED,
        CallState.HELD,
        CallState.SUSPENDED,
    ):
        raise InvalidState(f"cannot transfer a call that is {call.state.name.lower()}")
    if call.pending is not None:
        raise InvalidState("the call is already being transferred")
    return call


def start(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    """``transfer([number])``: the caller waits (SUSPENDED); with a number, consult it."""
    me = c.require(agent)
    call = _transferable(c, me)
    if call.state is CallState.SUSPENDED:
        raise InvalidState("a transfer is already in progress")
    line = c.sessions[me].line
    assert line is not None
    target = plan_target(c, me, a["number"]) if a["number"] is not None else None
    if call.state is CallState.CONNECTED:
        c.out.effects.append(Hold(call.uniqueid, line))
    call.move(CallState.SUSPENDED)
    c.book.touch(call)
    if target is None:
        return c.book.view(call, me)
    consultation = originate(c, me, line, target, data={})
    consultation.consult_for = call.uniqueid
    call.consultation = consultation.uniqueid
    c.book.touch(call)
    return c.book.view(consultation, me)


def finish(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    """``finishTransfer()``: join the waiting caller with the consultation's far party."""
    me = c.require(agent)
    for call in c.book.calls_of(me):
        if call.state is CallState.SUSPENDED and call.consultation is not None:
            consultation = c.calls.get(call.consultation)
            break
    else:
        raise InvalidState("no transfer in progress: call transfer() and dial() first")
    if consultation is None or consultation.state not in (CallState.RINGING, CallState.CONNECTED):
        raise InvalidState("the consultation call is not ringing or connected yet")
    if call.pending is not None:
        raise InvalidState("the call is already being transferred")
    target = consultation.connected_party
    assert target is not None
    line = c.sessions[me].line
    assert line is not None
    call.pending, call.asked_by = target, me
    c.out.effects.append(Transfer(call.uniqueid, consultation.uniqueid, line))
    return None


def blind(c: Center, client: ClientId, agent: AgentId | None, a: dict[str, Any]) -> Any:
    """``blindTransfer(number)``: send the far party to the number, without consultation."""
    me = c.require(agent)
    call = _transferable(c, me)
    if call.consultation is not None:
        raise InvalidState("hang up the consultation call first")
    target = plan_target(c, me, a["number"])
    line = c.sessions[me].line
    assert line is not None
    call.pending, call.pending_queue, call.asked_by = target.party, target.queue, me
    c.out.effects.append(Redirect(call.uniqueid, line, target.number, target.line, target.queue))
    return None


def confirmed(c: Center, ev: Transferred) -> None:
    """The switch carried out a transfer: the agent leaves, the target takes their place."""
    call = c.calls.get(ev.uniqueid)
    if call is None or call.pending is None or call.asked_by is None:
        return
    me, target, queue_id = call.asked_by, call.pending, call.pending_queue
    call.pending = call.asked_by = call.pending_queue = None
    queue = c.directory.queues.get(queue_id) if queue_id is not None else None
    state = CallState.CONNECTED
    if ev.consultation is not None:
        consultation = c.calls.get(ev.consultation)
        if consultation is not None:
            target = consultation.connected_party or target
            state = consultation.state
            # The consultation's record names the call its party was given to, as a call
            # continued at another partition's node names the call it came from.
            consultation.data = {**consultation.data, "transferred_from": call.uniqueid}
            c.book.end_call(consultation, Cause.TRANSFER, hangup=False)
    else:
        state = CallState.RINGING if target.type is PartyType.LINE else CallState.CONNECTING
    leaving = call.caller if call.caller.user_id == me else call.connected_party
    call.former_agents.append((me, leaving.username if leaving and leaving.username else ""))
    joined: Party | None = None if queue is not None else target  # a queue: nobody yet
    if call.caller.user_id == me:
        assert call.connected_party is not None
        call.caller, call.connected_party = call.connected_party, joined
    else:
        call.connected_party = joined
    call.move(CallState.CONNECTING if queue is not None else state)
    c.book.leave(call, me, Cause.TRANSFER)
    if call.queue_id is not None and call.handled_by == me:
        stats = c.agents[me].stats
        figures = stats.queue(call.queue_id)
        if target.user_id is not None or queue is not None:
            stats.transferred += 1
            figures.transferred += 1
        else:
            stats.transferred_external += 1
            figures.transferred_external += 1
        c.wrap_up(me, call)
        call.handled_by = None
    if queue is not None:
        _requeue(c, call, queue)
    c.book.touch(call)


def _requeue(c: Center, call: Call, queue: QueueConfig) -> None:
    """The blind transfer's caller waits in ``queue``, offered to its agents as a new
    caller (the queue's figures count it as offered there)."""
    call.queue_id, call.called_name = queue.id, queue.name
    call.handled_by = None
    call.tried.clear()
    call.enqueued_at = call.requeued_at = c.now
    waiting.enter(c, call, queue)


_ASKED = frozenset(
    {
        Operation.ANSWER,
        Operation.HOLD,
        Operation.UNHOLD,
        Operation.MUTE,
        Operation.TRANSFER,
        Operation.BLIND_TRANSFER,
    }
)
"""Operations an agent asked for: a failure is told to that agent only."""


def failed(c: Center, ev: SwitchFailed) -> None:
    """The switch could not do what the core asked: undo what moved, tell the agents."""
    call = c.calls.get(ev.uniqueid)
    if call is None:
        return
    op = Operation(ev.operation)  # a switch written before Operation may still say a str
    # The agent who asked is told; for what no one asked (ringing, dialling) everyone on it.
    asked = op in _ASKED
    told = {call.asked_by} if asked and call.asked_by is not None else call.agents()
    if op is Operation.RING and ev.line is not None:  # one phone of the offers: its agent
        told = {a for a in (c.line_owner.get(ev.line),) if a is not None}
    if op in (Operation.TRANSFER, Operation.BLIND_TRANSFER):
        call.pending = None
    elif op is Operation.HOLD and call.state is CallState.HELD:
        call.move(CallState.CONNECTED)
    elif op is Operation.UNHOLD and call.state is CallState.CONNECTED:
        call.move(CallState.HELD)
    elif op is Operation.RING:
        if ev.line is not None and c.registered is not None:
            # The switch could not reach the phone: it gets no more calls until it registers
            # again (else the caller would be offered to it again at once, and fail again).
            c.registered.discard(ev.line)
            owner = c.line_owner.get(ev.line)
            if owner is not None:
                c.out.agents_touched.add(owner)
        if call.offers or call.enqueued_at is not None:
            # A queue call: the phone's offer ends (all of them when the switch names none),
            # and the caller stays queued; a failure that comes late changes nothing.
            for offer in list(call.offers.values()):
                if ev.line is None or offer.line == ev.line:
                    c.book.end_offer(call, offer, Cause.UNAVAILABLE, counted=False)
        elif call.connected_at is None:  # a phone rung directly: the call fails
            c.book.end_call(call, Cause.UNAVAILABLE)
    elif op is Operation.ORIGINATE:
        c.book.end_call(call, Cause.UNAVAILABLE)
    c.book.touch(call)
    message = f"the switch could not {op.replace('_', ' ')} call {call.uniqueid}"
    if ev.reason:
        message += f": {ev.reason}"
    for agent in sorted(told):
        if agent in c.sessions:
            c.out.effects.append(Push(agent, "error", {"code": SWITCH_FAILURE, "message": message}))
