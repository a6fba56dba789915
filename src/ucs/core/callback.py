"""Callback requests (CONTRACT §12): the ``Center``'s operations on them.

A callback request (``CallbackRequested``: the REST API's ``POST /api/queues/{id}/callbacks``)
becomes a call of the queue whose caller is the number to call back. It waits among the
queue's callers, in the order of arrival, and the ``Distributor`` offers it like any of them,
but no phone rings: the agent's component shows it ringing, ``OUTGOING``, with
``data.callback`` true. The agent's ``answer()`` accepts it (``accept``): the agent is on the
call and the server dials the number (``Originate``, under the queue's ``campaign`` when it has
one); once the number answers (``connected``) the agent is counted as having answered one of
the queue's calls. The number ringing, answering
or failing comes back as for ``dial``; when it fails (``failed``) the callback goes back to its
queue, at its place, up to the queue's ``callback_retries`` times, then ends with its cause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ucs.core import keeping
from ucs.core.call import Call, Offer
from ucs.core.directory import QueueType
from ucs.core.effects import Created, Originate
from ucs.core.errors import InvalidArgument, NotFound
from ucs.core.events import CallbackRequested
from ucs.core.model import CallState, Cause, Direction, Party, PartyType
from ucs.core.numbers import parse_dialable

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["accept", "connected", "failed", "on_callback_requested"]


def on_callback_requested(c: Center, ev: CallbackRequested) -> None:
    """Put the request in its queue (refused, with nothing changed, for a queue that takes no
    callers or a number that cannot be dialled: the API checks both before)."""
    queue = c.directory.queues.get(ev.queue)
    if queue is None or queue.type is not QueueType.INCOMING:
        raise NotFound(f"no incoming queue {ev.queue}")
    dialled = parse_dialable(ev.number, c.directory.region)
    if dialled.e164 is None and c.directory.line_by_extension(dialled.digits) is None:
        raise InvalidArgument(f"{ev.number!r} is not a number that can be called back")
    to = Party(type=PartyType.TRUNK, number=dialled.digits, number_norm=dialled.e164, name=ev.name)
    call = c.book.new_call(
        origin=Direction.INCOMING,
        caller=to,
        called_number=queue.number or str(queue.id),
        uid=ev.uniqueid,
    )
    call.callback_to = to
    call.name = ev.name
    call.data = {**ev.data, "callback": True}
    call.queue_id = queue.id
    call.called_name = queue.name
    call.state = CallState.CONNECTING
    call.enqueued_at = c.now
    c.out.effects.append(Created(call.uniqueid, None))
    keeping.keep(c, call)
    c.book.touch(call)


def accept(c: Center, call: Call, offer: Offer) -> None:
    """The agent answered the offered callback: the server dials the number from the agent's
    phone, under the queue's campaign when it has one."""
    assert call.callback_to is not None
    c.book.take_offer(call, offer)
    call.enqueued_at = None
    call.move(CallState.CONNECTING)
    queue = c.directory.queues.get(call.queue_id) if call.queue_id is not None else None
    campaign = c.directory.queues.get(queue.campaign) if queue and queue.campaign else None
    if campaign is not None and campaign.type is QueueType.OUTGOING:
        call.outbound_id = campaign.id
    target = c.directory.line_by_extension(call.callback_to.number)
    c.out.effects.append(
        Originate(
            call.uniqueid,
            offer.line,
            call.callback_to.number,
            target.id if target is not None else None,
        )
    )
    c.distributor.answered(call.queue_id, offer.agent)  # type: ignore[arg-type]
    c.book.touch(call)


def connected(c: Center, call: Call) -> None:
    """The number called back answered: the agent answered one of the queue's calls (its
    statistics count it then, as the call records do)."""
    a = c.agents.get(call.handled_by) if call.handled_by is not None else None
    if a is not None and call.queue_id is not None:
        a.stats.in_calls_answered += 1
        a.stats.queue(call.queue_id).answered += 1
        c.out.agents_touched.add(a.config.id)


def failed(c: Center, call: Call, cause: Cause) -> None:
    """The number did not answer (busy, no answer, rejected, invalid): back to the queue at
    its place while the queue's ``callback_retries`` allow, else the callback ends."""
    queue = c.directory.queues.get(call.queue_id) if call.queue_id is not None else None
    agent = call.handled_by
    if queue is None or call.callback_returns >= queue.callback_retries or agent is None:
        c.book.end_call(call, cause)
        return
    call.callback_returns += 1
    c.book.leave(call, agent, cause)
    call.connected_party = None
    call.handled_by = None
    call.outbound_id = None
    call.connected_at = None
    call.state = CallState.CONNECTING
    call.enqueued_at = call.created  # its place among the waiting callers
    c.book.touch(call)
    c.wrap_up(agent, call)
