"""Callback requests in the core (CONTRACT §12): a place among the waiting callers, offered as
OUTGOING with ``data.callback``, dialled on ``answer()``, back to the queue once when the
number does not answer, counted in the statistics."""

from __future__ import annotations

import pytest

from tests.core.helpers import ringing
from ucs.core.directory import QueueConfig, QueueType
from ucs.core.effects import Created, Originate, Ring
from ucs.core.errors import InvalidArgument, NotFound
from ucs.core.events import CallbackRequested, Reconfigure
from ucs.core.ids import QueueId, UniqueId
from ucs.core.model import CallState, Cause
from ucs.virtual import VirtualCenter


def _callback(vc: VirtualCenter, number: str = "+420602234567", queue: int = 1) -> UniqueId:
    effects = vc.feed(CallbackRequested(QueueId(queue), number, "Eva", {"topic": "invoice"}))
    return next(e.uniqueid for e in effects if isinstance(e, Created))


def test_a_callback_keeps_its_place_among_the_waiting_callers(vc: VirtualCenter) -> None:
    first = vc.caller(1)
    vc.advance(1)
    cb = _callback(vc)
    vc.advance(1)
    last = vc.caller(1, number="+420603345678")
    agent = vc.ready(1)
    assert ringing(vc, agent, first)
    vc.call(agent, "answer")
    vc.advance(2)
    vc.call(agent, "hangup")
    vc.advance(20)  # wrap-up
    seen = vc.last_call(agent, cb)[1]
    assert seen["state"] == CallState.RINGING and not vc.seen(agent, last)
    assert seen["direction"] == "OUTGOING" and seen["data"]["callback"] is True
    assert seen["number"] == "+420602234567" and seen["name"] == "Eva"
    assert not any(isinstance(e, Ring) and e.uniqueid == cb for e in vc.effects)  # no phone rings


def test_answer_dials_the_number_and_the_call_connects(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    cb = _callback(vc)
    answered_before = vc.user(agent)["in_calls_answered"]
    vc.call(agent, "answer")
    dialled = [e for e in vc.effects if isinstance(e, Originate) and e.uniqueid == cb]
    assert [(e.line, e.number) for e in dialled] == [(1, "+420602234567")]
    assert vc.center.calls[cb].state is CallState.RINGING  # the number rings
    vc.advance(1.5)  # an outside number answers after 1 s
    call = vc.last_call(agent, cb)[1]
    assert call["state"] == CallState.CONNECTED and call["direction"] == "OUTGOING"
    assert vc.user(agent)["in_calls_answered"] == answered_before + 1
    vc.call(agent, "hangup")
    assert vc.records[cb].call["data"] == {"topic": "invoice", "callback": True}


def test_a_number_that_does_not_answer_goes_back_once_then_ends_with_its_cause(
    vc: VirtualCenter,
) -> None:
    agent = vc.ready(1)
    cb = _callback(vc, "+420601000001")  # busy
    vc.call(agent, "answer")
    assert vc.center.calls[cb].waiting or vc.center.calls[cb].offers  # back in the queue
    vc.advance(30)  # the agent's wrap-up is over: offered again
    assert ringing(vc, agent, cb)
    vc.call(agent, "answer")
    assert vc.cause_of(cb) is Cause.BUSY


def test_a_queue_may_send_callbacks_back_more_often_or_never(vc: VirtualCenter) -> None:
    d = vc.center.directory
    q = d.queues[QueueId(1)]
    queues = {**d.queues, q.id: QueueConfig(**{**_fields(q), "callback_retries": 0})}
    vc.feed(Reconfigure(type(d)(d.agents, d.lines, queues, d.aux_reasons, d.region)))
    agent = vc.ready(1)
    cb = _callback(vc, "+420601000003")  # rejected
    vc.call(agent, "answer")
    assert vc.cause_of(cb) is Cause.REJECTED


def test_a_callback_is_dialled_under_the_queues_campaign(vc: VirtualCenter) -> None:
    d = vc.center.directory
    q = d.queues[QueueId(1)]
    assert d.queues[QueueId(3)].type is QueueType.OUTGOING
    queues = {**d.queues, q.id: QueueConfig(**{**_fields(q), "campaign": QueueId(3)})}
    vc.feed(Reconfigure(type(d)(d.agents, d.lines, queues, d.aux_reasons, d.region)))
    agent = vc.ready(1)
    cb = _callback(vc)
    vc.call(agent, "answer")
    vc.advance(2)
    vc.call(agent, "hangup")
    assert vc.records[cb].call["outbound_id"] == 3


def test_rejecting_the_offer_leaves_the_callback_waiting(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    cb = _callback(vc)
    vc.call(agent, "hangup")
    call = vc.center.calls[cb]
    assert not call.ended and call.connected_party is None and call.enqueued_at is not None


def test_bad_requests_change_nothing(vc: VirtualCenter) -> None:
    before = len(vc.center.calls)
    with pytest.raises(NotFound):
        vc.feed(CallbackRequested(QueueId(3), "+420602234567"))  # a campaign takes no callers
    with pytest.raises(InvalidArgument):
        vc.feed(CallbackRequested(QueueId(1), "no digits"))
    with pytest.raises(InvalidArgument):
        vc.feed(CallbackRequested(QueueId(1), "123"))
    assert len(vc.center.calls) == before


def _fields(q: QueueConfig) -> dict[str, object]:
    return {name: getattr(q, name) for name in QueueConfig.__dataclass_fields__}
