"""A new call rings nobody until its record is kept (``core/keeping.py``, CONTRACT §13), and
never waits longer than ``Keeping.wait``, on the virtual clock."""

from __future__ import annotations

from tests.core.helpers import ringing
from ucs.core.effects import CallRecord, Keep, Lookup, Ring
from ucs.core.events import CallbackRequested, Kept, LookedUp, LookupSettings, TrunkCall
from ucs.core.ids import QueueId, UniqueId
from ucs.core.model import CallState, Cause
from ucs.virtual import VirtualCenter

WAIT = 2.0


def _keeping(vc: VirtualCenter) -> VirtualCenter:
    vc.center.keeping.wait = WAIT
    return vc


def _rings(vc: VirtualCenter, uid: UniqueId) -> int:
    return sum(1 for e in vc.effects if isinstance(e, Ring) and e.uniqueid == uid)


def test_a_caller_is_offered_once_its_record_is_kept(vc: VirtualCenter) -> None:
    _keeping(vc)
    agent = vc.ready(1)
    before = len(vc.effects)
    uid = vc.caller(1)
    step = vc.effects[before:]
    # The store is asked in the very step that writes the call's first record.
    assert Keep(uid) in step
    assert any(isinstance(e, CallRecord) and e.call["uniqueid"] == uid for e in step)
    assert not vc.seen(agent, uid) and _rings(vc, uid) == 0
    # It waits in its queue meanwhile, with its place, as any caller.
    assert vc.center.calls[uid].enqueued_at is not None
    assert vc.center.distributor.place(vc.center.calls[uid]) == 1
    vc.advance(0.004)
    vc.feed(Kept((uid,)))
    assert ringing(vc, agent, uid)


def test_a_store_that_never_says_costs_exactly_the_wait(vc: VirtualCenter) -> None:
    _keeping(vc)
    agent = vc.ready(1)
    start = vc.now
    uid = vc.caller(1)
    vc.advance(WAIT - 1e-6)
    assert not vc.seen(agent, uid)
    vc.advance(start + WAIT - vc.now)
    assert ringing(vc, agent, uid)
    vc.feed(Kept((uid,)))  # too late: it rang already, and still rings once
    assert ringing(vc, agent, uid) and len(vc.center.keeping) == 0


def test_callers_keep_their_order_behind_one_not_yet_kept(vc: VirtualCenter) -> None:
    _keeping(vc)
    first = vc.caller(1)
    second = vc.caller(1)
    vc.feed(Kept((second,)))  # an answer for the later one alone: nobody overtakes
    agent = vc.ready(1)
    assert not vc.seen(agent, first) and not vc.seen(agent, second)
    vc.feed(Kept((first,)))
    assert ringing(vc, agent, first) and not vc.seen(agent, second)


def test_a_caller_who_hangs_up_before_being_kept_is_never_offered(vc: VirtualCenter) -> None:
    _keeping(vc)
    agent = vc.ready(1)
    uid = vc.caller(1)
    vc.caller_hangs_up(uid)
    vc.feed(Kept((uid,)))
    vc.advance(WAIT + 1)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP and not vc.seen(agent, uid)
    assert len(vc.center.keeping) == 0


def test_a_call_for_a_phone_rings_it_once_kept_and_looked_up(vc: VirtualCenter) -> None:
    _keeping(vc)
    vc.feed(LookupSettings(timeout=0.5))
    agent = vc.ready(2)
    effects = vc.feed(TrunkCall(number="+420603345678", extension="1002"))
    uid = next(e.uniqueid for e in effects if isinstance(e, Lookup))
    vc.feed(LookedUp(uid, "+420603345678", None))  # the CRM first: still not kept
    assert vc.center.calls[uid].state is CallState.CONNECTING and _rings(vc, uid) == 0
    vc.feed(Kept((uid,)))
    assert _rings(vc, uid) == 1 and ringing(vc, agent, uid)


def test_unknown_and_repeated_answers_change_nothing(vc: VirtualCenter) -> None:
    _keeping(vc)
    agent = vc.ready(1)
    uid = vc.caller(1)
    vc.feed(Kept((UniqueId("no-such-call"),)))
    assert not vc.seen(agent, uid)
    vc.feed(Kept((uid, uid)))
    vc.feed(Kept((uid,)))
    assert ringing(vc, agent, uid) and _rings(vc, uid) == 1


def test_keeping_off_rings_at_once_and_asks_nothing(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = vc.caller(1)
    assert ringing(vc, agent, uid)
    assert not any(isinstance(e, Keep) for e in vc.effects)


def test_a_callback_request_is_offered_once_kept(vc: VirtualCenter) -> None:
    _keeping(vc)
    agent = vc.ready(1)
    effects = vc.feed(CallbackRequested(queue=QueueId(1), number="+420605111222"))
    uid = next(e.uniqueid for e in effects if isinstance(e, Keep))
    assert not vc.seen(agent, uid)
    vc.feed(Kept((uid,)))
    assert ringing(vc, agent, uid)
