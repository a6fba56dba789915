"""Caller lookup in the core (CONTRACT §12): a call waits for the CRM's answer, never longer
than the lookup's timeout, on the virtual clock."""

from __future__ import annotations

from tests.core.helpers import ringing
from ucs.core.effects import Lookup, Ring
from ucs.core.events import LookedUp, LookupSettings, TrunkCall
from ucs.core.ids import UniqueId
from ucs.core.lookup import Answer
from ucs.core.model import CallState, Cause, Direction
from ucs.virtual import VirtualCenter

ANSWER = Answer(name="Jan Novák", external_id="c-42", data={"crmUrl": "https://crm/42"})


def _lookups(vc: VirtualCenter) -> list[Lookup]:
    return [e for e in vc.effects if isinstance(e, Lookup)]


def _rings(vc: VirtualCenter, uid: UniqueId) -> int:
    return sum(1 for e in vc.effects if isinstance(e, Ring) and e.uniqueid == uid)


def test_a_caller_waits_for_the_lookup_and_is_offered_with_its_answer(vc: VirtualCenter) -> None:
    vc.feed(LookupSettings(timeout=0.8))
    agent = vc.ready(1)
    uid = vc.caller(1, number="+420601123456", data={"from": "ivr"})
    assert _lookups(vc) == [Lookup(uid, "+420601123456", Direction.INCOMING, 1)]
    assert _rings(vc, uid) == 0 and not vc.seen(agent, uid)  # pending: nobody rings
    vc.advance(0.3)
    vc.feed(LookedUp(uid, "+420601123456", ANSWER))
    assert ringing(vc, agent, uid)
    call = vc.last_call(agent, uid)[1]
    assert (call["name"], call["external_id"]) == ("Jan Novák", "c-42")
    assert call["data"] == {"from": "ivr", "crmUrl": "https://crm/42"}


def test_a_lookup_that_never_answers_costs_exactly_its_timeout(vc: VirtualCenter) -> None:
    vc.feed(LookupSettings(timeout=0.8))
    agent = vc.ready(1)
    start = vc.now
    uid = vc.caller(1)
    vc.advance(0.8 - 1e-6)
    assert _rings(vc, uid) == 0
    vc.advance(start + 0.8 - vc.now)
    assert vc.now == start + 0.8 and _rings(vc, uid) == 1 and ringing(vc, agent, uid)
    call = vc.last_call(agent, uid)[1]
    assert call["name"] is None and call["external_id"] is None
    vc.feed(LookedUp(uid, "+420601123456", ANSWER))  # too late: the call went on without it
    assert vc.last_call(agent, uid)[1]["name"] is None and _rings(vc, uid) == 1


def test_answers_are_kept_a_minute_per_number(vc: VirtualCenter) -> None:
    vc.feed(LookupSettings(timeout=0.8))
    first = vc.caller(1, number="+420601123456")
    vc.feed(LookedUp(first, "+420601123456", ANSWER))
    vc.advance(59)
    again = vc.caller(1, number="+420601123456")  # from the last minute's answers, at once
    assert len(_lookups(vc)) == 1 and vc.center.calls[again].name == "Jan Novák"
    assert vc.center.calls[again].enqueued_at is not None
    vc.advance(1.5)
    later = vc.caller(1, number="+420601123456")
    assert len(_lookups(vc)) == 2 and vc.center.calls[later].enqueued_at is None


def test_a_failed_lookup_is_not_kept_and_the_call_goes_on(vc: VirtualCenter) -> None:
    vc.feed(LookupSettings(timeout=0.8))
    agent = vc.ready(1)
    uid = vc.caller(1)
    vc.feed(LookedUp(uid, "+420601123456", None))
    assert ringing(vc, agent, uid) and vc.center.calls[uid].name is None
    vc.caller_hangs_up(uid)
    vc.caller(1)
    assert len(_lookups(vc)) == 2


def test_callers_keep_their_arrival_order_whatever_their_lookup_took(vc: VirtualCenter) -> None:
    vc.feed(LookupSettings(timeout=0.8))
    slow = vc.caller(1, number="+420601123456")
    vc.advance(0.1)
    fast = vc.caller(1, number="+420602234567")
    vc.feed(LookedUp(fast, "+420602234567", None))
    vc.advance(1)  # the first one's lookup gave up
    agent = vc.ready(1)
    assert ringing(vc, agent, slow) and not vc.seen(agent, fast)


def test_a_caller_who_hangs_up_during_the_lookup_ends_and_is_never_offered(
    vc: VirtualCenter,
) -> None:
    vc.feed(LookupSettings(timeout=0.8))
    agent = vc.ready(1)
    uid = vc.caller(1)
    vc.caller_hangs_up(uid)
    vc.advance(1)
    vc.feed(LookedUp(uid, "+420601123456", ANSWER))
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    assert _rings(vc, uid) == 0 and not vc.seen(agent, uid)
    assert len(vc.center.lookups) == 0


def test_a_call_to_an_extension_rings_once_looked_up(vc: VirtualCenter) -> None:
    vc.feed(LookupSettings(timeout=0.5))
    agent = vc.ready(2)
    effects = vc.feed(TrunkCall(number="+420603345678", extension="1002"))
    uid = next(e.uniqueid for e in effects if isinstance(e, Lookup))
    assert vc.center.calls[uid].state is CallState.CONNECTING and not vc.seen(agent, uid)
    vc.feed(LookedUp(uid, "+420603345678", Answer(name="Petr Svoboda")))
    assert ringing(vc, agent, uid)
    assert vc.last_call(agent, uid)[1]["name"] == "Petr Svoboda"


def test_a_dialled_outside_number_is_looked_up_without_waiting(vc: VirtualCenter) -> None:
    vc.feed(LookupSettings(timeout=0.8))
    agent = vc.ready(1)
    call = vc.call(agent, "dial", "+420602234567")
    uid = UniqueId(call["uniqueid"])
    # under agent1's campaign (queue 3)
    assert _lookups(vc) == [Lookup(uid, "+420602234567", Direction.OUTGOING, 3)]
    vc.feed(LookedUp(uid, "+420602234567", Answer(name="Eva Dvořáková")))
    assert vc.last_call(agent, uid)[1]["name"] == "Eva Dvořáková"
    vc.call(agent, "hangup")
    vc.call(agent, "dial", "1002")  # an extension: no lookup
    assert len(_lookups(vc)) == 1


def test_lookups_off_by_default_and_when_turned_off(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = vc.caller(1)
    assert ringing(vc, agent, uid) and _lookups(vc) == []
    vc.feed(LookupSettings(timeout=0.8))
    vc.feed(LookupSettings(timeout=None))
    vc.caller(2)
    assert _lookups(vc) == []


def test_a_number_dialled_on_the_handset_is_looked_up_too(vc: VirtualCenter) -> None:
    vc.feed(LookupSettings(timeout=0.8))
    agent = vc.ready(1)
    uid = vc.phone_dials(1, "+420603345678")
    assert [(e.uniqueid, e.direction) for e in _lookups(vc)] == [(uid, Direction.OUTGOING)]
    vc.feed(LookedUp(uid, "+420603345678", Answer(name="Petr Svoboda")))
    assert vc.last_call(agent, uid)[1]["name"] == "Petr Svoboda"
    vc.phone_dials(2, "1003")  # an extension: nobody to look up
    assert len(_lookups(vc)) == 1
