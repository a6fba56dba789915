"""A waiting caller presses 1 to leave a callback request (CONTRACT §12), on the virtual clock:
the request takes the caller's place, the caller hears it is taken and the server hangs up;
the greeting and the announcements offer it; other keys and other queues change nothing."""

from __future__ import annotations

import dataclasses

from tests.core.helpers import custom, member_of, queue_config, ringing
from ucs.core.call import Call
from ucs.core.callback import GOODBYE
from ucs.core.directory import Strategy
from ucs.core.effects import Announce, CallbackTaken, Greet, Hangup
from ucs.core.events import Dtmf, LookedUp, LookupSettings
from ucs.core.ids import UniqueId
from ucs.core.lookup import Answer
from ucs.core.model import Cause, Direction
from ucs.virtual import VirtualCenter


def _center(**fields: object) -> VirtualCenter:
    q = dataclasses.replace(queue_config(1, Strategy.LONGEST_IDLE), **fields)
    return custom([q], {1: member_of(1), 2: member_of(1)})


def _request(vc: VirtualCenter, number: str) -> Call:
    found = [
        c for c in vc.center.calls.values() if c.callback_to and c.callback_to.number == number
    ]
    assert len(found) == 1, found
    return found[0]


def test_the_caller_who_presses_1_keeps_their_place_hears_it_taken_and_is_hung_up() -> None:
    vc = _center(callback_offer=True, announce_every=20.0, language="cs")
    first = vc.caller(1, "+420601123456")
    vc.advance(1)
    second = vc.caller(1, "+420602234567", data={"ivr": "billing"})
    vc.advance(1)
    third = vc.caller(1, "+420603345678")
    greets = [e for e in vc.effects if isinstance(e, Greet)]
    assert [(g.uniqueid, g.callback) for g in greets] == [(u, True) for u in (first, second, third)]
    vc.feed(Dtmf(second, "1"))
    assert CallbackTaken(second, "cs") in vc.effects
    request = _request(vc, "+420602234567")
    assert request.enqueued_at == vc.center.calls[second].created  # the caller's place
    assert request.data == {"ivr": "billing", "callback": True}
    vc.advance(GOODBYE - 0.001)
    assert not vc.center.calls[second].ended  # still hearing the confirmation
    vc.advance(0.001)
    assert vc.cause_of(second) is Cause.TRANSFER and Hangup(second, Cause.TRANSFER) in vc.effects
    vc.advance(20)  # the announcements: none for the caller gone, whose request is still 2nd
    places = {e.uniqueid: e.place for e in vc.effects if isinstance(e, Announce)}
    assert places == {first: 1, third: 3}
    assert all(e.callback for e in vc.effects if isinstance(e, Announce))
    agent = vc.ready(1)
    assert ringing(vc, agent, first)
    vc.call(agent, "answer")
    vc.call(agent, "hangup")
    assert ringing(vc, agent, request.uniqueid) and not vc.seen(agent, third)
    offered = vc.last_call(agent, request.uniqueid)[1]
    assert offered["direction"] == Direction.OUTGOING and offered["number"] == "+420602234567"


def test_other_keys_and_queues_without_the_offer_change_nothing() -> None:
    vc = _center(announce_every=20.0)
    uid = vc.caller(1)
    assert [e.callback for e in vc.effects if isinstance(e, Greet)] == []  # nothing to hear
    vc.feed(Dtmf(uid, "1"))
    vc.advance(20)
    assert [e.callback for e in vc.effects if isinstance(e, Announce)] == [False]
    on = _center(callback_offer=True)
    caller = on.caller(1)
    calls = len(on.center.calls)
    for keys in ("2", "#", "*0", "9A"):
        on.feed(Dtmf(caller, keys))
    on.feed(Dtmf(UniqueId("no.such"), "1"))
    assert len(on.center.calls) == calls and not any(
        isinstance(e, CallbackTaken) for e in on.effects
    )
    assert len(vc.center.calls) == 1 and vc.center.calls[uid].callback_left is None


def test_pressing_1_while_an_agent_is_rung_ends_the_offer_uncounted() -> None:
    vc = _center(callback_offer=True)
    agent = vc.ready(1)
    uid = vc.caller(1)
    assert ringing(vc, agent, uid)
    vc.feed(Dtmf(uid, "31"))  # a 1 among other keys
    request = _request(vc, "+420601123456")
    assert not ringing(vc, agent, uid) and ringing(vc, agent, request.uniqueid)
    assert vc.user(agent)["in_calls_unanswered"] == 0
    vc.feed(Dtmf(uid, "1"))  # again: still one request
    assert len([c for c in vc.center.calls.values() if c.callback_to]) == 1


def test_a_caller_who_hangs_up_while_hearing_the_confirmation_leaves_the_request() -> None:
    vc = _center(callback_offer=True)
    uid = vc.caller(1)
    vc.feed(Dtmf(uid, "1"))
    vc.caller_hangs_up(uid)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    vc.advance(GOODBYE)
    assert not _request(vc, "+420601123456").ended


def test_a_callback_left_by_pressing_1_goes_back_to_the_callers_place() -> None:
    vc = _center(callback_offer=True, wrapup=5.0)
    busy = vc.caller(1, "+420601000001")  # the demo switch's busy number
    vc.feed(Dtmf(busy, "1"))
    request = _request(vc, "+420601000001")
    vc.advance(1)
    later = vc.caller(1, "+420603345678")
    agent = vc.ready(1)
    assert ringing(vc, agent, request.uniqueid)
    vc.call(agent, "answer")  # the number is busy: back to the queue (once)
    vc.advance(10)  # the wrap-up is over
    assert ringing(vc, agent, request.uniqueid) and not vc.seen(agent, later)


def test_the_request_carries_what_the_crm_said_of_the_caller() -> None:
    vc = _center(callback_offer=True)
    vc.feed(LookupSettings(0.8))
    uid = vc.caller(1, "+420602234567")
    vc.feed(Dtmf(uid, "1"))  # still being looked up: not in the queue yet, nothing to leave
    assert not any(c.callback_to for c in vc.center.calls.values())
    answer = Answer("Eva Dvořáková", "c-2", {"crmUrl": "https://crm/2"})
    vc.feed(LookedUp(uid, "+420602234567", answer))
    vc.feed(Dtmf(uid, "1"))
    request = _request(vc, "+420602234567")
    assert (request.name, request.external_id) == ("Eva Dvořáková", "c-2")
    assert request.data == {"crmUrl": "https://crm/2", "callback": True}
