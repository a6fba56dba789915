"""Phones that cannot be rung (SIP: not registered) are not offered queue calls.

A switch that knows registrations says so (``Registrations``, then ``Registration`` as phones come
and go); the simulated switch never does, and every phone can be rung. A phone the switch could
not ring ends its own offer only (``SwitchFailed(line=…)``): the call's other offers go on.
"""

from __future__ import annotations

from tests.core.helpers import rung, waiting
from ucs.core.events import Operation, Registration, Registrations, SwitchFailed
from ucs.core.ids import AgentId, LineId
from ucs.core.model import Cause
from ucs.virtual import VirtualCenter


def test_without_word_from_the_switch_every_phone_is_rung(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    uid = vc.caller(1)
    assert rung(vc, {1: a1}, uid) == [1]


def test_only_registered_phones_are_offered_calls(vc: VirtualCenter) -> None:
    a1, a2 = vc.ready(1), vc.ready(2)
    vc.feed(Registrations(frozenset({LineId(2)})))
    uid = vc.caller(1)
    assert rung(vc, {1: a1, 2: a2}, uid) == [2]
    assert not vc.center.free(AgentId(1))


def test_a_caller_waits_until_a_phone_registers(vc: VirtualCenter) -> None:
    vc.feed(Registrations(frozenset()))
    a1 = vc.ready(1)
    uid = vc.caller(1)
    assert waiting(vc, uid)
    vc.advance(5)
    assert waiting(vc, uid)
    vc.feed(Registration(LineId(1), True))
    assert rung(vc, {1: a1}, uid) == [1]


def test_a_phone_that_goes_away_gets_no_more_calls(vc: VirtualCenter) -> None:
    vc.feed(Registrations(frozenset({LineId(1), LineId(2)})))
    a1, a2 = vc.ready(1), vc.ready(2)
    vc.feed(Registration(LineId(1), False))
    first = vc.caller(1)
    assert rung(vc, {1: a1, 2: a2}, first) == [2]
    second = vc.caller(1)
    assert waiting(vc, second)
    vc.feed(Registration(LineId(1), True))
    assert rung(vc, {1: a1, 2: a2}, second) == [1]


def test_registrations_of_phones_nobody_holds_change_nobody(vc: VirtualCenter) -> None:
    vc.feed(Registrations(frozenset({LineId(1)})))
    a1 = vc.ready(1)
    vc.feed(Registration(LineId(3), True))
    vc.feed(Registration(LineId(3), False))
    uid = vc.caller(1)
    assert rung(vc, {1: a1}, uid) == [1]


def test_a_phone_that_could_not_be_rung_ends_only_its_own_offer(vc: VirtualCenter) -> None:
    a1, a3 = vc.ready(1), vc.ready(3)
    uid = vc.caller(2)  # Sales rings all: agent1 and agent3
    assert rung(vc, {1: a1, 3: a3}, uid) == [1, 3]
    vc.feed(SwitchFailed(uid, Operation.RING, "phone phone3 is not registered", LineId(3)))
    assert rung(vc, {1: a1, 3: a3}, uid) == [1]
    errors = vc.messages(a3, "error")
    assert errors and "phone3 is not registered" in errors[-1]["message"]
    assert not vc.messages(a1, "error")
    # Not the agent's doing: not counted as unanswered.
    assert vc.user(a3)["in_calls_unanswered"] == 0
    vc.call(a1, "answer")
    assert vc.center.calls[uid].handled_by == AgentId(1)
    vc.caller_hangs_up(uid)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP


def _warnings(vc: VirtualCenter, client: object) -> list[str]:
    return [
        m["message"]
        for m in vc.messages(client, "error")  # type: ignore[arg-type]
        if m["code"] == "SWITCH_FAILURE" and "not registered" in m["message"]
    ]


def test_the_agent_is_told_when_its_phone_is_not_registered(vc: VirtualCenter) -> None:
    vc.feed(Registrations(frozenset({LineId(2)})))
    a1, a2 = vc.ready(1), vc.ready(2)
    assert _warnings(vc, a1) == [
        "phone phone1 is not registered: no queue calls reach it until it registers"
    ]
    assert _warnings(vc, a2) == []
    vc.feed(Registration(LineId(1), True))
    vc.feed(Registration(LineId(2), False))
    assert len(_warnings(vc, a1)) == 1
    assert _warnings(vc, a2) == [
        "phone phone2 is not registered: no queue calls reach it until it registers"
    ]


def test_a_restart_tells_agents_whose_phones_are_not_registered_yet(vc: VirtualCenter) -> None:
    a1, a2 = vc.ready(1), vc.ready(2)
    vc.feed(Registrations(frozenset({LineId(1)})))  # what a SIP switch says as it starts
    assert _warnings(vc, a1) == []
    assert len(_warnings(vc, a2)) == 1


def test_a_phone_that_could_not_be_rung_is_taken_for_unregistered(vc: VirtualCenter) -> None:
    """Else a caller whose only free agent's phone cannot be reached would be offered to it
    again at once, and fail again, as fast as the switch answers."""
    vc.feed(Registrations(frozenset({LineId(1)})))
    a1 = vc.ready(1)
    uid = vc.caller(1)
    assert rung(vc, {1: a1}, uid) == [1]
    vc.feed(SwitchFailed(uid, Operation.RING, "phone phone1 is not registered", LineId(1)))
    call = vc.center.calls[uid]
    assert call.waiting and not call.offers
    assert not vc.center.free(AgentId(1))
    vc.feed(Registration(LineId(1), True))
    assert rung(vc, {1: a1}, uid) == [1]


def test_a_late_ring_failure_leaves_a_waiting_or_answered_caller_alone(vc: VirtualCenter) -> None:
    """With a real switch the failure comes later: the offer may have rung out, or a colleague
    answered the ring-all call meanwhile. The call goes on."""
    a1 = vc.ready(1)
    vc.ready(3)
    uid = vc.caller(2)  # Sales rings agent1 and agent3
    vc.call(a1, "answer")
    vc.feed(SwitchFailed(uid, Operation.RING, "phone phone3 is not registered", LineId(3)))
    call = vc.center.calls[uid]
    assert call.connected_at is not None and call.handled_by == AgentId(1)
    queued = vc.caller(1)  # Support: agent1 talks and agent2 is away, so it waits
    vc.feed(SwitchFailed(queued, Operation.RING, "late", LineId(2)))
    assert vc.center.calls[queued].waiting
