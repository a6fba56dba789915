"""What the switch tells the core: callers arriving, phones answering, parties hanging up."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ucs.core import callback, keeping, recording, transfer, waiting
from ucs.core.call import Call, Offer
from ucs.core.directory import QueueType
from ucs.core.effects import Created, Lookup, Originate, Ring
from ucs.core.errors import InvalidArgument
from ucs.core.events import (
    Answered,
    HungUp,
    Kept,
    LookedUp,
    PhoneCall,
    RemoteAnswered,
    RemoteFailed,
    RemoteRinging,
    TrunkCall,
)
from ucs.core.ids import UniqueId
from ucs.core.lookup import Held
from ucs.core.model import CallState, Cause, Direction, Party, PartyType
from ucs.core.numbers import parse_dialable
from ucs.core.timers import LookupExpires

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = [
    "ask",
    "ask_outgoing",
    "connect",
    "keep_expired",
    "lookup_expired",
    "on_answered",
    "on_hung_up",
    "on_kept",
    "on_looked_up",
    "on_phone_call",
    "on_remote_answered",
    "on_remote_failed",
    "on_remote_ringing",
    "on_trunk_call",
    "queue_answer",
]


def on_trunk_call(c: Center, ev: TrunkCall) -> None:
    """A caller from outside: into a queue, or ringing one of our phones. With caller lookup
    on, the call first waits for the CRM's answer (``ask``), ``timeout`` at most."""
    caller = c.book.trunk_party(ev.number, ev.name, ev.channel)
    queue = c.directory.queues.get(ev.queue) if ev.queue is not None else None
    line = c.directory.line_by_extension(ev.extension) if ev.extension else None
    called = (queue.number or str(queue.id)) if queue else (ev.extension or "")
    call = c.book.new_call(
        origin=Direction.INCOMING, caller=caller, called_number=called, uid=ev.uniqueid
    )
    call.data = dict(ev.data)
    call.state = CallState.CONNECTING
    c.out.effects.append(Created(call.uniqueid, ev.channel))
    keeping.keep(c, call)
    if queue is not None and queue.type is QueueType.INCOMING:
        call.queue_id = queue.id
        call.called_name = queue.name
        ask(c, call, Held(c.now, queue=queue.id))
        waiting.enter(c, call, queue)  # heard at once, while the CRM is asked too
    elif line is not None:
        call.called_name = c.book.line_party(line).name
        ask(c, call, Held(c.now, line=line.id))
    else:
        c.book.end_call(call, Cause.INVALID_NUMBER)
    c.book.touch(call)


def on_kept(c: Center, ev: Kept) -> None:
    """The records of these calls are kept: they may ring (a waiting caller is offered at the
    step's end, by its place; a call for one of our phones rings it now)."""
    for uid in ev.uniqueids:
        keep_expired(c, uid)


def keep_expired(c: Center, uid: UniqueId) -> None:
    """The call's record is kept, or the call waited for it long enough: it goes on."""
    _resume(c, uid, c.keeping.release(uid))


def ask(c: Center, call: Call, held: Held) -> None:
    """Look the caller up before the call goes where ``held`` says: from the answers of the
    last minute at once, else by asking the CRM while the call waits (``Lookup``, answered by
    ``LookedUp`` or given up at ``LookupExpires``). Lookups off: the call goes on at once."""
    timeout = c.lookups.timeout
    number = call.caller.number_norm or call.caller.number
    if timeout is None or not number:
        _go_on(c, call, held)
        return
    answer = c.lookups.cached(number, c.now)
    if answer is not None:
        answer.fill(call)
        _go_on(c, call, held)
        return
    expires = c.now + timeout
    c.lookups.hold(call.uniqueid, replace(held, expires=expires))
    c.timers.arm(expires, LookupExpires(call.uniqueid, expires))
    c.out.effects.append(Lookup(call.uniqueid, number, Direction.INCOMING, held.queue))


def ask_outgoing(c: Center, call: Call) -> None:
    """An agent dialled an outside number: the CRM's answer fills the call when it comes (the
    call does not wait for it)."""
    number = call.called_number_norm or call.called_number
    if c.lookups.timeout is None or not number:
        return
    answer = c.lookups.cached(number, c.now)
    if answer is not None:
        answer.fill(call)
        return
    c.out.effects.append(Lookup(call.uniqueid, number, Direction.OUTGOING, call.outbound_id))


def on_looked_up(c: Center, ev: LookedUp) -> None:
    """The CRM answered: the answer fills the call (and is kept a minute for the number); a
    call waiting for it goes on. An answer after the call went on without it is kept only."""
    if ev.answer is not None and c.lookups.timeout is not None:
        c.lookups.remember(ev.number, ev.answer, c.now)
    call = c.calls.get(ev.uniqueid)
    held = c.lookups.release(ev.uniqueid)
    if call is None or call.ended:
        return
    if held is not None:
        if ev.answer is not None:
            ev.answer.fill(call)
        _go_on(c, call, held)
    elif ev.answer is not None and call.origin is Direction.OUTGOING:
        ev.answer.fill(call)
    c.book.touch(call)


def lookup_expired(c: Center, uid: UniqueId) -> None:
    """The CRM did not answer in time: the call goes on without it."""
    _resume(c, uid, c.lookups.release(uid))


def _resume(c: Center, uid: UniqueId, held: Held | None) -> None:
    """A call that was held (``held``: where it was going) goes on, if it still lives."""
    call = c.calls.get(uid)
    if held is None or call is None or call.ended:
        return
    _go_on(c, call, held)
    c.book.touch(call)


def _go_on(c: Center, call: Call, held: Held) -> None:
    """The call goes where it was going: it waits in its queue (in the order callers
    arrived) or rings one of our phones."""
    if held.queue is not None:
        call.enqueued_at = call.created
        return
    if c.keeping.defer(call.uniqueid, held):
        return  # it rings once its record is kept
    line = c.directory.lines.get(held.line) if held.line is not None else None
    if line is None:  # removed from the directory while the CRM was asked
        c.book.end_call(call, Cause.INVALID_NUMBER)
        return
    call.connected_party = c.book.line_party(line)
    call.move(CallState.RINGING)
    c.out.effects.append(Ring(call.uniqueid, line.id, call.caller))


def on_phone_call(c: Center, ev: PhoneCall) -> None:
    """A phone dialled a number itself: the line's own OUTGOING call, as ``dial`` from that line
    (caller: the line and the agent holding it, if any) without click-to-dial's first step, since
    the phone is off-hook already. A queue's number enters the queue; an extension or an outside
    number is asked of the switch with ``Originate`` (answered by ``RemoteRinging``,
    ``Answered``/``RemoteAnswered`` or ``RemoteFailed``, as for ``dial``). A number with no
    digits, or that is no extension, no queue's and not valid outside, ends with cause 2 (the
    last one when the switch says so); the phone's own extension is busy (cause 1)."""
    line = c.directory.lines.get(ev.line)
    if line is not None:
        caller = c.book.line_party(line)
    else:  # removed from the directory while its INVITE was on the way
        caller = Party(type=PartyType.LINE, number="", line_id=ev.line)
    if ev.channel is not None:
        caller = replace(caller, channel=ev.channel)
    try:
        dialled = parse_dialable(ev.number, c.directory.region)
    except InvalidArgument:
        dialled = None
    number = dialled.digits if dialled is not None else ev.number.strip()
    call = c.book.new_call(
        origin=Direction.OUTGOING, caller=caller, called_number=number, uid=ev.uniqueid
    )
    c.out.effects.append(Created(call.uniqueid, ev.channel))
    if dialled is None:
        c.book.end_call(call, Cause.INVALID_NUMBER)
        return
    me = caller.user_id
    consult_for = transfer.suspended_without_consultation(c, me) if me is not None else None
    if consult_for is not None:  # the handset's call while the agent's caller waits: consult
        consult_for.consultation = call.uniqueid
        call.consult_for = consult_for.uniqueid
        c.book.touch(consult_for)
    queue = c.directory.incoming_queue_by_number(number)
    target = c.directory.line_by_extension(number)
    call.move(CallState.CONNECTING)
    if queue is not None:
        call.queue_id = queue.id
        call.called_name = queue.name
        call.enqueued_at = c.now
        waiting.enter(c, call, queue)
    elif target is not None and target.id == ev.line:
        c.book.end_call(call, Cause.BUSY)
        return
    else:
        party = (
            c.book.line_party(target)
            if target is not None
            else Party(type=PartyType.TRUNK, number=number, number_norm=dialled.e164)
        )
        call.called_number_norm = party.number_norm
        call.called_name = party.name
        call.target = party
        c.out.effects.append(
            Originate(call.uniqueid, ev.line, number, target.id if target is not None else None)
        )
        if target is None:  # an outside number: the CRM is asked who it is
            ask_outgoing(c, call)
    c.book.touch(call)


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
    c.book.take_offer(call, offer)
    if call.enqueued_at is not None and call.queue_id is not None:
        c.queue_waits.answered(call.queue_id, c.now - call.enqueued_at)
    call.enqueued_at = None
    connect(c, call)
    c.distributor.answered(call.queue_id, offer.agent)  # type: ignore[arg-type]
    a = c.agents[offer.agent]
    a.stats.in_calls_answered += 1
    a.stats.queue(call.queue_id).answered += 1  # type: ignore[arg-type]


def connect(c: Center, call: Call) -> None:
    call.move(CallState.CONNECTED)
    if call.connected_at is None:
        call.connected_at = c.now
        recording.connected(c, call)
    c.book.touch(call)


def on_remote_ringing(c: Center, ev: RemoteRinging) -> None:
    call = c.calls.get(ev.uniqueid)
    if call is None or call.state not in (CallState.NEW, CallState.CONNECTING):
        return
    if call.target is not None:
        call.connected_party, call.target = call.target, None
    call.move(CallState.RINGING)
    c.book.touch(call)


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
    if first and call.callback_to is not None:
        callback.connected(c, call)
    caller = call.caller.user_id
    if first and call.outbound_id is not None and caller is not None:
        c.book.count_out(caller, call.outbound_id, answered=True)


def on_remote_failed(c: Center, ev: RemoteFailed) -> None:
    call = c.calls.get(ev.uniqueid)
    if call is None:
        return
    cause = ev.cause if ev.cause not in (Cause.NOT_SET,) else Cause.UNKNOWN
    if call.callback_to is not None and call.handled_by is not None:
        callback.failed(c, call, cause)  # the number called back did not answer
        return
    c.book.end_call(call, cause)


def on_hung_up(c: Center, ev: HungUp) -> None:
    call = c.calls.get(ev.uniqueid)
    if call is None:
        return
    if ev.line is not None:
        offer = next((o for o in call.offers.values() if o.line == ev.line), None)
        if offer is not None:  # the agent rejected a queue offer on the handset
            c.book.reject_offer(call, offer)
            return
    if ev.line is None:
        outside_is_caller = call.caller.type is PartyType.TRUNK
    else:
        outside_is_caller = call.caller.line_id == ev.line
    c.book.end_call(call, Cause.CALLER_HANGUP if outside_is_caller else Cause.CALLED_HANGUP)
