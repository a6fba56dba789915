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

A waiting caller of a queue whose ``callback_offer`` is on may leave one by pressing 1 (a
``Dtmf`` event, ``on_dtmf``): the request takes the caller's place (it waits from when the
caller began to), the caller's call waits no more (offers withdrawn, no more announcements),
they hear that the callback is taken (``CallbackTaken``) and the server hangs up ``GOODBYE``
seconds later (cause 8: the caller was passed on to the callback). The request carries what
the call knew of the caller: their number, the CRM's name and data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ucs.core import keeping
from ucs.core.call import Call, Offer
from ucs.core.directory import QueueType
from ucs.core.effects import CallbackTaken, Created, Originate
from ucs.core.errors import InvalidArgument, NotFound
from ucs.core.events import CallbackRequested, Dtmf
from ucs.core.ids import UniqueId
from ucs.core.model import CallState, Cause, Direction, Party, PartyType
from ucs.core.numbers import parse_dialable
from ucs.core.timers import CallerLeaves

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from ucs.core.center import Center
    from ucs.core.directory import QueueConfig

__all__ = [
    "GOODBYE",
    "accept",
    "caller_leaves",
    "connected",
    "failed",
    "on_callback_requested",
    "on_dtmf",
]

GOODBYE = 8.0
"""Seconds a caller who pressed 1 has to hear the confirmation before the server hangs up."""


def on_callback_requested(c: Center, ev: CallbackRequested) -> None:
    """Put the request in its queue (refused, with nothing changed, for a queue that takes no
    callers or a number that cannot be dialled: the API checks both before)."""
    queue = c.directory.queues.get(ev.queue)
    if queue is None or queue.type is not QueueType.INCOMING:
        raise NotFound(f"no incoming queue {ev.queue}")
    to = _callable(c, ev.number)
    if to is None:
        raise InvalidArgument(f"{ev.number!r} is not a number that can be called back")
    _request(c, queue, to, ev.name, ev.data, ev.uniqueid, c.now)


def _callable(c: Center, number: str | None) -> Party | None:
    """The party to call back at ``number``, or None when it cannot be dialled."""
    if not number:
        return None
    try:
        dialled = parse_dialable(number, c.directory.region)
    except InvalidArgument:
        return None
    if dialled.e164 is None and c.directory.line_by_extension(dialled.digits) is None:
        return None
    return Party(type=PartyType.TRUNK, number=dialled.digits, number_norm=dialled.e164)


def _request(
    c: Center,
    queue: QueueConfig,
    to: Party,
    name: str | None,
    data: Mapping[str, Any],
    uid: UniqueId | None,
    since: float,
) -> Call:
    """A callback request waiting in ``queue`` from ``since``."""
    to = Party(type=to.type, number=to.number, number_norm=to.number_norm, name=name)
    call = c.book.new_call(
        origin=Direction.INCOMING,
        caller=to,
        called_number=queue.number or str(queue.id),
        uid=uid,
    )
    call.callback_to = to
    call.name = name
    call.data = {**data, "callback": True}
    call.queue_id = queue.id
    call.called_name = queue.name
    call.state = CallState.CONNECTING
    call.enqueued_at = call.callback_since = since
    c.out.effects.append(Created(call.uniqueid, None))
    keeping.keep(c, call)
    c.book.touch(call)
    return call


def on_dtmf(c: Center, ev: Dtmf) -> None:
    """Keys pressed by a call's outside party: 1, from a caller waiting in a queue whose
    ``callback_offer`` is on, leaves a callback request in the caller's place. Any other key,
    or a caller who cannot leave one (not waiting, a number that cannot be called back), is
    ignored: nothing changes."""
    call = c.calls.get(ev.uniqueid)
    if call is None or "1" not in ev.digits or call.enqueued_at is None:
        return
    if call.callback_to is not None or call.callback_left is not None:
        return
    if call.connected_party is not None or call.ended or call.queue_id is None:
        return
    queue = c.directory.queues.get(call.queue_id)
    to = _callable(c, call.caller.number_norm or call.caller.number)
    if queue is None or not queue.callback_offer or to is None:
        return
    data = {k: v for k, v in call.data.items() if k != "callback"}
    request = _request(c, queue, to, call.name, data, None, call.enqueued_at)
    request.external_id = call.external_id
    for offer in list(call.offers.values()):
        c.book.end_offer(call, offer, Cause.CALLER_HANGUP, counted=False)
    call.callback_left = request.uniqueid
    call.enqueued_at = None
    c.out.effects.append(CallbackTaken(call.uniqueid, queue.language))
    at = c.now + GOODBYE
    c.timers.arm(at, CallerLeaves(call.uniqueid, at))
    c.book.touch(call)


def caller_leaves(c: Center, call: Call) -> None:
    """The caller who left a callback request heard the confirmation: the server hangs up."""
    c.book.end_call(call, Cause.TRANSFER)


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
    call.enqueued_at = call.callback_since or call.created  # its place among the waiting callers
    c.book.touch(call)
    c.wrap_up(agent, call)
