"""Calls as an agent handles them: answer, hang up, hold, mute, dial, transfer, account codes.

Every test drives the demo center (CONTRACT §2) through ``VirtualCenter`` the way the component
does, and checks what the agents' connections were told, what the switch was asked and what was
recorded.
"""

from __future__ import annotations

from typing import Any

import pytest

from ucs.core.call import AccountCode
from ucs.core.effects import CallRecord, Hold, Mute, Refuse, Unhold
from ucs.core.errors import InvalidArgument, InvalidState, NotFound
from ucs.core.events import HungUp
from ucs.core.ids import ClientId, LineId, UniqueId
from ucs.core.model import CallState, Cause
from ucs.virtual import VirtualCenter

OUTSIDE = "+420601123456"
"""A valid Czech mobile number: the simulated switch answers it after 1 s."""
BUSY = "+420601120001"
NO_ANSWER = "+420601120002"
REJECTING = "+420601120003"


# --- helpers ---------------------------------------------------------------------------------


def _logged_in(vc: VirtualCenter, n: int) -> ClientId:
    """agentN logged in on phoneN with the phone confirmed, but still OFFLINE (takes no queue
    calls; can still be called directly on its extension)."""
    client = vc.connect()
    vc.call(client, "login", f"agent{n}", f"agent{n}-pass")
    vc.call(client, "selectIdentifier", f"phone{n}")
    vc.call(client, "provision")
    return client


def _live_uids(vc: VirtualCenter, client: ClientId) -> list[str]:
    return [c["uniqueid"] for c in vc.call(client, "state")["calls"]]


def _answered_queue_call(vc: VirtualCenter, client: ClientId, **kw: Any) -> UniqueId:
    """A Support caller rings the (only free) agent, who answers."""
    uid = vc.caller(1, **kw)
    assert vc.last_call(client, uid)[0] == "ringing"
    vc.advance(2)
    vc.call(client, "answer")
    assert vc.last_call(client, uid)[1]["state"] == CallState.CONNECTED
    return uid


def _dialled(vc: VirtualCenter, client: ClientId, number: str, *args: Any) -> UniqueId:
    view = vc.call(client, "dial", number, *args)
    return UniqueId(str(view["uniqueid"]))


def _records_of(vc: VirtualCenter, uid: str) -> list[CallRecord]:
    """The records of the finished call (live progress records left out)."""
    return [
        e
        for e in vc.effects
        if isinstance(e, CallRecord) and not e.live and e.call["uniqueid"] == uid
    ]


# --- answer and hang up ----------------------------------------------------------------------


def test_answer_connects_the_ringing_queue_call(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = vc.caller(1, name="Jan Novák", data={"ticket": 7})
    what, ringing = vc.last_call(agent, uid)
    assert (what, ringing["state"], ringing["direction"]) == ("ringing", 2, "INCOMING")
    assert ringing["number"] == OUTSIDE
    vc.advance(4)
    vc.call(agent, "answer")
    what, call = vc.last_call(agent, uid)
    assert what == "connect"
    assert call["state"] == CallState.CONNECTED
    assert call["connected"] == vc.now
    assert call["connected_user_id"] == 1
    assert call["caller_number"] == OUTSIDE
    assert call["data"] == {"ticket": 7}
    assert vc.call(agent, "state")["call"]["uniqueid"] == uid


def test_answer_with_nothing_ringing_is_refused(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    with pytest.raises(InvalidState):
        vc.call(agent, "answer")


def test_agent_hanging_up_a_queue_call_is_the_called_party_hanging_up(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _answered_queue_call(vc, agent)
    vc.advance(30)
    vc.call(agent, "hangup")
    assert vc.cause_of(uid) is Cause.CALLED_HANGUP
    what, call = vc.last_call(agent, uid)
    assert (what, call["cause"], call["disconnected"]) == ("hangup", 4, vc.now)
    assert _live_uids(vc, agent) == []


def test_caller_hanging_up_a_queue_call_is_cause_3(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _answered_queue_call(vc, agent)
    vc.advance(30)
    vc.caller_hangs_up(uid)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    assert vc.last_call(agent, uid)[0] == "hangup"
    assert vc.last_call(agent, uid)[1]["cause"] == Cause.CALLER_HANGUP


def test_agent_hanging_up_its_own_outgoing_call_is_the_caller_hanging_up(
    vc: VirtualCenter,
) -> None:
    agent = vc.ready(1)
    uid = _dialled(vc, agent, OUTSIDE)
    vc.advance(1)
    assert vc.last_call(agent, uid)[1]["state"] == CallState.CONNECTED
    vc.advance(20)
    vc.call(agent, "hangup")
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    assert vc.last_call(agent, uid)[1]["cause"] == Cause.CALLER_HANGUP


def test_far_end_hanging_up_an_outgoing_call_is_the_called_party_hanging_up(
    vc: VirtualCenter,
) -> None:
    agent = vc.ready(1)
    uid = _dialled(vc, agent, OUTSIDE)
    vc.advance(5)
    vc.feed(HungUp(uid, None))
    assert vc.cause_of(uid) is Cause.CALLED_HANGUP
    what, call = vc.last_call(agent, uid)
    assert (what, call["cause"]) == ("hangup", Cause.CALLED_HANGUP)


def test_hangup_with_no_call_is_refused(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    with pytest.raises(InvalidState):
        vc.call(agent, "hangup")


def test_rejecting_a_queue_offer_keeps_the_caller_waiting_and_rings_the_next_agent(
    vc: VirtualCenter,
) -> None:
    first = vc.ready(1)
    vc.advance(5)
    second = vc.ready(2)
    vc.advance(5)
    uid = vc.caller(1)
    assert vc.last_call(first, uid)[0] == "ringing"
    assert vc.seen(second, uid) == []
    vc.advance(3)
    vc.call(first, "hangup")
    what, view = vc.last_call(first, uid)
    assert (what, view["cause"]) == ("hangup", Cause.REJECTED)
    assert uid not in vc.records  # the caller goes on waiting
    assert vc.last_call(second, uid)[0] == "ringing"
    assert vc.last_call(second, uid)[1]["state"] == CallState.RINGING
    assert _live_uids(vc, first) == []
    assert vc.user(first)["in_calls_unanswered"] == 1
    vc.call(second, "answer")
    assert vc.last_call(second, uid)[1]["state"] == CallState.CONNECTED


# --- hold and mute ---------------------------------------------------------------------------


def test_hold_and_unhold_move_the_call_between_connected_and_held(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _answered_queue_call(vc, agent)
    view = vc.call(agent, "hold")
    assert view["state"] == CallState.HELD
    assert vc.last_call(agent, uid)[1]["state"] == CallState.HELD
    assert Hold(uid, LineId(1)) in vc.effects
    view = vc.call(agent, "unhold")
    assert view["state"] == CallState.CONNECTED
    assert vc.last_call(agent, uid)[1]["state"] == CallState.CONNECTED
    assert Unhold(uid, LineId(1)) in vc.effects


def test_tribute_is_hold(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _answered_queue_call(vc, agent)
    assert vc.call(agent, "tribute")["state"] == CallState.HELD
    assert vc.last_call(agent, uid)[1]["state"] == CallState.HELD


def test_holding_a_held_call_is_refused_and_changes_nothing(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _answered_queue_call(vc, agent)
    vc.call(agent, "hold")
    holds = sum(isinstance(e, Hold) for e in vc.effects)
    with pytest.raises(InvalidState):
        vc.call(agent, "hold")
    with pytest.raises(InvalidState):
        vc.call(agent, "tribute")
    assert sum(isinstance(e, Hold) for e in vc.effects) == holds
    assert vc.last_call(agent, uid)[1]["state"] == CallState.HELD


def test_unhold_with_nothing_held_is_refused(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    with pytest.raises(InvalidState):
        vc.call(agent, "unhold")
    uid = _answered_queue_call(vc, agent)
    with pytest.raises(InvalidState):
        vc.call(agent, "unhold")
    assert vc.last_call(agent, uid)[1]["state"] == CallState.CONNECTED
    assert not any(isinstance(e, Unhold) for e in vc.effects)


def test_mute_toggles_the_agents_own_side_of_an_incoming_call(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _answered_queue_call(vc, agent)
    view = vc.call(agent, "mute")
    assert (view["connected_muted"], view["caller_muted"]) == (True, False)
    assert vc.last_call(agent, uid)[1]["connected_muted"] is True
    view = vc.call(agent, "mute")
    assert (view["connected_muted"], view["caller_muted"]) == (False, False)
    assert vc.last_call(agent, uid)[1]["connected_muted"] is False
    assert [e for e in vc.effects if isinstance(e, Mute)] == [
        Mute(uid, LineId(1), True),
        Mute(uid, LineId(1), False),
    ]


def test_mute_toggles_the_agents_own_side_of_an_outgoing_call(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _dialled(vc, agent, OUTSIDE)
    vc.advance(1)
    view = vc.call(agent, "mute")
    assert (view["caller_muted"], view["connected_muted"]) == (True, False)
    assert vc.last_call(agent, uid)[1]["caller_muted"] is True
    assert [e for e in vc.effects if isinstance(e, Mute)] == [Mute(uid, LineId(1), True)]
    assert vc.call(agent, "mute")["caller_muted"] is False


def test_mute_with_no_call_is_refused(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    with pytest.raises(InvalidState):
        vc.call(agent, "mute")


# --- click-to-dial ---------------------------------------------------------------------------


def test_dialled_outside_number_rings_then_answers_after_one_second(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    view = vc.call(agent, "dial", OUTSIDE, "directCall", None, {"crm": "A-1"})
    uid = view["uniqueid"]
    assert view["state"] in (CallState.CONNECTING, CallState.RINGING)
    assert (view["direction"], view["number"], view["called_number"]) == (
        "OUTGOING",
        OUTSIDE,
        OUTSIDE,
    )
    assert view["caller_user_id"] == 1
    states = [c["state"] for _, c in vc.seen(agent, uid)]
    assert states[-1] in (CallState.CONNECTING, CallState.RINGING)
    assert CallState.CONNECTED not in states
    vc.advance(0.9)
    assert vc.last_call(agent, uid)[1]["state"] in (CallState.CONNECTING, CallState.RINGING)
    vc.advance(0.1)
    what, call = vc.last_call(agent, uid)
    assert (what, call["state"]) == ("connect", CallState.CONNECTED)
    assert call["data"] == {"crm": "A-1"}
    assert call["connected_type"] == "trunk"
    assert call["connected_number_norm"] == OUTSIDE


@pytest.mark.parametrize(
    ("number", "cause"),
    [(BUSY, Cause.BUSY), (REJECTING, Cause.REJECTED), ("12345", Cause.INVALID_NUMBER)],
)
def test_dialled_number_that_fails_ends_with_its_cause(
    vc: VirtualCenter, number: str, cause: Cause
) -> None:
    agent = vc.ready(1)
    uid = _dialled(vc, agent, number)
    assert vc.cause_of(uid) is cause
    what, call = vc.last_call(agent, uid)
    assert (what, call["cause"]) == ("hangup", cause)
    assert _live_uids(vc, agent) == []


def test_dialled_number_that_never_answers_rings_30_s_then_cause_6(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _dialled(vc, agent, NO_ANSWER)
    vc.advance(29.9)
    assert vc.last_call(agent, uid)[1]["state"] == CallState.RINGING
    assert uid not in vc.records
    vc.advance(0.1)
    assert vc.cause_of(uid) is Cause.UNAVAILABLE
    assert vc.last_call(agent, uid)[0] == "hangup"


def test_dialling_something_with_no_digits_is_refused(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    before = len(vc.effects)
    with pytest.raises(InvalidArgument):
        vc.call(agent, "dial", "abc")
    assert vc.calls_seen(agent) == []
    assert [type(e) for e in vc.effects[before:]] == [Refuse]


def test_dialling_an_extension_rings_that_agent_who_can_answer(vc: VirtualCenter) -> None:
    caller = vc.ready(1)
    called = _logged_in(vc, 2)
    uid = _dialled(vc, caller, "1002")
    what, theirs = vc.last_call(called, uid)
    assert (what, theirs["state"], theirs["direction"]) == ("ringing", 2, "INCOMING")
    assert theirs["number"] == "1001"
    assert theirs["caller_user_id"] == 1
    assert theirs["connected_user_id"] == 2
    mine = vc.last_call(caller, uid)[1]
    assert (mine["direction"], mine["number"], mine["state"]) == ("OUTGOING", "1002", 2)
    vc.advance(3)
    vc.call(called, "answer")
    assert vc.last_call(called, uid)[1]["state"] == CallState.CONNECTED
    assert vc.last_call(caller, uid)[1]["state"] == CallState.CONNECTED
    vc.advance(10)
    vc.call(called, "hangup")
    assert vc.cause_of(uid) is Cause.CALLED_HANGUP
    assert vc.last_call(caller, uid)[1]["cause"] == Cause.CALLED_HANGUP


@pytest.mark.parametrize("n", [1, 2])
def test_undefined_queue_dials_under_the_agents_only_campaign(vc: VirtualCenter, n: int) -> None:
    agent = vc.ready(n)
    assert vc.call(agent, "dial", OUTSIDE)["outbound_id"] == 3
    vc.advance(1)
    vc.call(agent, "hangup")
    assert vc.call(agent, "dial", OUTSIDE, "undefined")["outbound_id"] == 3


def test_direct_call_and_explicit_campaign(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    direct = _dialled(vc, agent, OUTSIDE, "directCall")
    assert vc.last_call(agent, direct)[1]["outbound_id"] is None
    vc.advance(1)
    vc.call(agent, "hangup")
    assert vc.records[direct].call["outbound_id"] is None
    campaign = _dialled(vc, agent, OUTSIDE, 3)
    assert vc.last_call(agent, campaign)[1]["outbound_id"] == 3
    vc.advance(1)
    vc.call(agent, "hangup")
    assert vc.records[campaign].call["outbound_id"] == 3


def test_dialling_under_a_queue_that_is_not_mine_is_not_found(vc: VirtualCenter) -> None:
    agent = vc.ready(3)  # agent3 is only in Sales
    with pytest.raises(NotFound):
        vc.call(agent, "dial", OUTSIDE, 3)
    assert vc.calls_seen(agent) == []


def test_dialling_while_on_a_connected_call_is_refused(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _answered_queue_call(vc, agent)
    with pytest.raises(InvalidState):
        vc.call(agent, "dial", OUTSIDE)
    assert _live_uids(vc, agent) == [uid]
    assert vc.last_call(agent, uid)[1]["state"] == CallState.CONNECTED


# --- attended transfer -----------------------------------------------------------------------


def test_attended_transfer_to_another_agent(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    a2 = _logged_in(vc, 2)
    uid = _answered_queue_call(vc, a1, data={"crm": "42"})
    vc.advance(30)
    view = vc.call(a1, "transfer")
    assert view["uniqueid"] == uid
    assert view["state"] == CallState.SUSPENDED
    assert vc.last_call(a1, uid)[1]["state"] == CallState.SUSPENDED

    consultation = _dialled(vc, a1, "1002")
    assert consultation != uid
    assert vc.last_call(a2, consultation)[0] == "ringing"
    assert vc.seen(a2, uid) == []
    vc.advance(2)
    vc.call(a2, "answer")
    assert vc.last_call(a1, consultation)[1]["state"] == CallState.CONNECTED
    vc.advance(15)
    vc.call(a1, "finishTransfer")

    # the caller now talks to agent2, on the same call
    what, theirs = vc.last_call(a2, uid)
    assert what == "connect"
    assert theirs["state"] == CallState.CONNECTED
    assert theirs["uniqueid"] == uid
    assert theirs["data"] == {"crm": "42"}
    assert theirs["caller_number"] == OUTSIDE
    assert theirs["connected_user_id"] == 2
    assert theirs["direction"] == "INCOMING"
    assert _live_uids(vc, a2) == [uid]
    # agent1 left both calls by transferring
    assert vc.last_call(a1, uid)[0] == "hangup"
    assert vc.last_call(a1, uid)[1]["cause"] == Cause.TRANSFER
    assert vc.last_call(a1, consultation)[0] == "hangup"
    assert vc.last_call(a1, consultation)[1]["cause"] == Cause.TRANSFER
    assert _live_uids(vc, a1) == []
    assert vc.cause_of(consultation) is Cause.TRANSFER
    assert uid not in vc.records  # the caller's call goes on
    assert vc.last_call(a2, consultation)[1]["cause"] == Cause.TRANSFER
    user = vc.user(a1)
    assert (user["transferred"], user["transferred_external"]) == (1, 0)
    assert (user["queues"][1]["transferred"], user["queues"][1]["transferred_external"]) == (1, 0)
    # talk time runs from the answer to the transfer, consultation included; then wrap-up
    assert user["in_talktime"] == 30 + 2 + 15
    assert user["status"] == "ACW"

    vc.advance(20)
    assert vc.user(a1)["in_talktime"] == 47
    vc.caller_hangs_up(uid)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    assert vc.records[uid].call["connected_user_id"] == 2
    assert vc.records[uid].call["data"] == {"crm": "42"}


def test_attended_transfer_to_an_outside_number_counts_as_external(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    uid = _answered_queue_call(vc, a1)
    vc.call(a1, "transfer")
    consultation = _dialled(vc, a1, "+420602765432")
    vc.advance(1)
    assert vc.last_call(a1, consultation)[1]["state"] == CallState.CONNECTED
    vc.call(a1, "finishTransfer")
    assert vc.last_call(a1, uid)[1]["cause"] == Cause.TRANSFER
    assert vc.cause_of(consultation) is Cause.TRANSFER
    user = vc.user(a1)
    assert (user["transferred"], user["transferred_external"]) == (0, 1)
    assert user["queues"][1]["transferred_external"] == 1
    assert _live_uids(vc, a1) == []


def test_transfer_with_a_number_dials_the_consultation_at_once(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    a2 = _logged_in(vc, 2)
    uid = _answered_queue_call(vc, a1)
    view = vc.call(a1, "transfer", "1002")
    consultation = view["uniqueid"]
    assert consultation != uid
    assert view["direction"] == "OUTGOING"
    assert vc.last_call(a1, uid)[1]["state"] == CallState.SUSPENDED
    assert vc.last_call(a2, consultation)[0] == "ringing"
    vc.call(a2, "answer")
    vc.call(a1, "finishTransfer")
    assert vc.last_call(a2, uid)[1]["state"] == CallState.CONNECTED
    assert vc.last_call(a1, uid)[1]["cause"] == Cause.TRANSFER


def test_failed_consultation_leaves_the_caller_suspended_and_unhold_returns(
    vc: VirtualCenter,
) -> None:
    a1 = vc.ready(1)
    uid = _answered_queue_call(vc, a1)
    consultation = vc.call(a1, "transfer", BUSY)["uniqueid"]
    assert vc.cause_of(consultation) is Cause.BUSY
    assert vc.last_call(a1, uid)[1]["state"] == CallState.SUSPENDED
    with pytest.raises(InvalidState):
        vc.call(a1, "finishTransfer")
    view = vc.call(a1, "unhold")
    assert (view["uniqueid"], view["state"]) == (uid, CallState.CONNECTED)
    assert vc.last_call(a1, uid)[1]["state"] == CallState.CONNECTED


def test_hanging_up_the_consultation_lets_unhold_return_to_the_caller(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    uid = _answered_queue_call(vc, a1)
    vc.call(a1, "transfer")
    consultation = _dialled(vc, a1, "+420602765432")
    vc.advance(1)
    vc.call(a1, "hangup")  # the consultation is in focus
    assert vc.cause_of(consultation) is Cause.CALLER_HANGUP
    assert uid not in vc.records
    assert vc.last_call(a1, uid)[1]["state"] == CallState.SUSPENDED
    assert vc.call(a1, "unhold")["state"] == CallState.CONNECTED
    assert vc.last_call(a1, uid)[1]["state"] == CallState.CONNECTED
    assert _live_uids(vc, a1) == [uid]


def test_finish_transfer_without_a_consultation_is_refused(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    with pytest.raises(InvalidState):
        vc.call(a1, "finishTransfer")
    uid = _answered_queue_call(vc, a1)
    with pytest.raises(InvalidState):
        vc.call(a1, "finishTransfer")
    vc.call(a1, "transfer")
    with pytest.raises(InvalidState):
        vc.call(a1, "finishTransfer")
    assert vc.last_call(a1, uid)[1]["state"] == CallState.SUSPENDED
    assert _live_uids(vc, a1) == [uid]


def test_switch_failing_a_transfer_moves_nothing_and_the_agent_can_retry(
    vc: VirtualCenter,
) -> None:
    a1 = vc.ready(1)
    a2 = _logged_in(vc, 2)
    uid = _answered_queue_call(vc, a1)
    consultation = vc.call(a1, "transfer", "1002")["uniqueid"]
    vc.call(a2, "answer")
    vc.switch.fail("transfer")
    vc.call(a1, "finishTransfer")
    errors = vc.messages(a1, "error")
    assert [e["code"] for e in errors] == ["SWITCH_FAILURE"]
    assert errors[0]["message"]
    assert vc.last_call(a1, uid)[1]["state"] == CallState.SUSPENDED
    assert vc.last_call(a1, consultation)[1]["state"] == CallState.CONNECTED
    assert vc.last_call(a2, consultation)[1]["state"] == CallState.CONNECTED
    assert vc.seen(a2, uid) == []
    assert sorted(_live_uids(vc, a1)) == sorted([uid, consultation])
    assert consultation not in vc.records
    assert vc.user(a1)["transferred"] == 0
    assert vc.user(a1)["status"] == "READY"

    vc.call(a1, "finishTransfer")
    assert vc.last_call(a2, uid)[1]["state"] == CallState.CONNECTED
    assert vc.last_call(a1, uid)[1]["cause"] == Cause.TRANSFER
    assert vc.cause_of(consultation) is Cause.TRANSFER
    assert vc.user(a1)["transferred"] == 1
    assert len(vc.messages(a1, "error")) == 1


# --- blind transfer --------------------------------------------------------------------------


def test_blind_transfer_to_an_extension(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    a2 = _logged_in(vc, 2)
    uid = _answered_queue_call(vc, a1, data={"crm": "7"})
    vc.call(a1, "blindTransfer", "1002")
    what, mine = vc.last_call(a1, uid)
    assert (what, mine["cause"]) == ("hangup", Cause.TRANSFER)
    assert _live_uids(vc, a1) == []
    what, theirs = vc.last_call(a2, uid)
    assert (what, theirs["state"]) == ("ringing", CallState.RINGING)
    assert theirs["caller_number"] == OUTSIDE
    assert theirs["data"] == {"crm": "7"}
    vc.call(a2, "answer")
    assert vc.last_call(a2, uid)[1]["state"] == CallState.CONNECTED
    user = vc.user(a1)
    assert (user["transferred"], user["transferred_external"]) == (1, 0)
    assert user["status"] == "ACW"  # Support's wrap-up follows a transfer too


def test_blind_transfer_to_an_outside_number(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    uid = _answered_queue_call(vc, a1)
    vc.call(a1, "blindTransfer", "+420602765432")
    assert vc.last_call(a1, uid)[1]["cause"] == Cause.TRANSFER
    assert _live_uids(vc, a1) == []
    user = vc.user(a1)
    assert (user["transferred"], user["transferred_external"]) == (0, 1)
    vc.advance(1)
    assert vc.center.calls[uid].state is CallState.CONNECTED
    vc.advance(60)
    vc.caller_hangs_up(uid)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    assert vc.records[uid].call["connected_number"] == "+420602765432"


def test_blind_transfer_with_no_digits_is_refused(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    uid = _answered_queue_call(vc, a1)
    with pytest.raises(InvalidArgument):
        vc.call(a1, "blindTransfer", "abc")
    assert vc.last_call(a1, uid)[1]["state"] == CallState.CONNECTED


# --- the switch refusing an answer -----------------------------------------------------------


def test_switch_failing_an_answer_leaves_the_call_ringing_and_answer_again_works(
    vc: VirtualCenter,
) -> None:
    agent = vc.ready(1)
    uid = vc.caller(1)
    vc.switch.fail("answer")
    vc.call(agent, "answer")
    assert [e["code"] for e in vc.messages(agent, "error")] == ["SWITCH_FAILURE"]
    what, call = vc.last_call(agent, uid)
    assert call["state"] == CallState.RINGING
    assert what in ("ringing", "change")
    assert uid not in vc.records
    vc.call(agent, "answer")
    assert vc.last_call(agent, uid)[0] == "connect"
    assert vc.last_call(agent, uid)[1]["state"] == CallState.CONNECTED


def test_a_failed_answer_is_reported_only_to_the_agent_who_answered(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    a3 = vc.ready(3)
    uid = vc.caller(2)  # Sales rings both
    vc.switch.fail("answer")
    vc.call(a1, "answer")
    assert [e["code"] for e in vc.messages(a1, "error")] == ["SWITCH_FAILURE"]
    assert vc.messages(a3, "error") == []  # agent3 did nothing that failed
    assert vc.last_call(a3, uid)[1]["state"] == CallState.RINGING


# --- account codes ---------------------------------------------------------------------------


def test_account_codes_append_by_default_and_override_replaces(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _answered_queue_call(vc, agent)
    assert vc.call(agent, "setAccountCode", uid, "SALES") == [
        {"accountCode": "SALES", "subAccountCode": None}
    ]
    assert vc.call(agent, "setAccountCode", uid, "SUPPORT", "billing", False) == [
        {"accountCode": "SALES", "subAccountCode": None},
        {"accountCode": "SUPPORT", "subAccountCode": "billing"},
    ]
    assert vc.call(agent, "setAccountCode", uid, "COMPLAINT", "late", True) == [
        {"accountCode": "COMPLAINT", "subAccountCode": "late"}
    ]
    vc.call(agent, "hangup")
    assert vc.records[uid].account_codes == (AccountCode("COMPLAINT", "late"),)


def test_account_code_after_the_call_ended_re_emits_the_record(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _answered_queue_call(vc, agent)
    vc.call(agent, "setAccountCode", uid, "SALES")
    vc.advance(10)
    vc.call(agent, "hangup")
    assert len(_records_of(vc, uid)) == 1
    assert vc.records[uid].account_codes == (AccountCode("SALES"),)
    vc.advance(3)
    assert vc.user(agent)["status"] == "ACW"
    vc.call(agent, "setAccountCode", uid, "UPSELL", "gold")
    records = _records_of(vc, uid)
    assert len(records) == 2
    assert records[-1].account_codes == (AccountCode("SALES"), AccountCode("UPSELL", "gold"))
    assert records[-1].call["cause"] == Cause.CALLED_HANGUP
    assert records[-1].queue_id == 1
    vc.call(agent, "setAccountCode", uid, "RETENTION", None, True)
    assert vc.records[uid].account_codes == (AccountCode("RETENTION"),)


def test_account_code_on_an_outgoing_call(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = _dialled(vc, agent, OUTSIDE)
    vc.advance(1)
    vc.call(agent, "setAccountCode", uid, "CAMPAIGN", "wave-1")
    vc.call(agent, "hangup")
    assert vc.records[uid].account_codes == (AccountCode("CAMPAIGN", "wave-1"),)


def test_another_agent_can_neither_code_nor_see_my_call(vc: VirtualCenter) -> None:
    mine = vc.ready(1)
    other = _logged_in(vc, 2)
    uid = _answered_queue_call(vc, mine)
    with pytest.raises(NotFound):
        vc.call(other, "setAccountCode", uid, "HIJACK")
    assert vc.seen(other, uid) == []
    assert vc.call(other, "state")["calls"] == []
    assert vc.call(other, "state")["call"] is None
    vc.call(mine, "hangup")
    with pytest.raises(NotFound):
        vc.call(other, "setAccountCode", uid, "HIJACK")
    assert vc.records[uid].account_codes == ()
    with pytest.raises(NotFound):
        vc.call(mine, "setAccountCode", "no-such-call", "X")


# --- direct calls between our phones ---------------------------------------------------------


def test_hanging_up_a_ringing_direct_call_rejects_it(vc: VirtualCenter) -> None:
    caller = vc.ready(1)
    called = _logged_in(vc, 2)
    uid = _dialled(vc, caller, "1002")
    vc.advance(3)
    vc.call(called, "hangup")
    assert vc.cause_of(uid) is Cause.REJECTED
    assert vc.last_call(caller, uid)[1]["cause"] == Cause.REJECTED
    assert vc.last_call(called, uid)[0] == "hangup"


def test_a_direct_call_nobody_answers_rings_30_s_then_cause_6(vc: VirtualCenter) -> None:
    caller = vc.ready(1)
    called = _logged_in(vc, 2)
    uid = _dialled(vc, caller, "1002")
    vc.advance(29.9)
    assert vc.last_call(called, uid)[1]["state"] == CallState.RINGING
    vc.advance(0.1)
    assert vc.cause_of(uid) is Cause.UNAVAILABLE
    assert vc.last_call(called, uid)[1]["cause"] == Cause.UNAVAILABLE
    assert vc.last_call(caller, uid)[1]["cause"] == Cause.UNAVAILABLE


def test_answering_a_second_call_holds_the_one_in_progress(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    a2 = _logged_in(vc, 2)
    first = _dialled(vc, a1, OUTSIDE, "directCall")
    vc.advance(1)
    second = _dialled(vc, a2, "1001")
    assert vc.last_call(a1, second)[0] == "ringing"
    assert vc.last_call(a1, first)[1]["state"] == CallState.CONNECTED
    vc.call(a1, "answer")
    assert vc.last_call(a1, first)[1]["state"] == CallState.HELD
    assert Hold(first, LineId(1)) in vc.effects
    assert vc.last_call(a1, second)[1]["state"] == CallState.CONNECTED
    assert vc.call(a1, "state")["call"]["uniqueid"] == second
    vc.call(a1, "hangup")  # the call in focus: the one it talks on
    assert vc.cause_of(second) is Cause.CALLED_HANGUP
    assert vc.call(a1, "unhold")["uniqueid"] == first
    assert vc.last_call(a1, first)[1]["state"] == CallState.CONNECTED


# --- more of transfers -----------------------------------------------------------------------


def test_finish_transfer_while_the_consultation_still_rings(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    a2 = _logged_in(vc, 2)
    uid = _answered_queue_call(vc, a1)
    consultation = vc.call(a1, "transfer", "1002")["uniqueid"]
    vc.advance(3)
    assert vc.last_call(a2, consultation)[1]["state"] == CallState.RINGING
    vc.call(a1, "finishTransfer")
    assert vc.last_call(a1, uid)[1]["cause"] == Cause.TRANSFER
    assert vc.cause_of(consultation) is Cause.TRANSFER
    what, theirs = vc.last_call(a2, uid)
    assert (what, theirs["state"]) == ("ringing", CallState.RINGING)
    assert theirs["caller_number"] == OUTSIDE
    vc.call(a2, "answer")
    assert vc.last_call(a2, uid)[1]["state"] == CallState.CONNECTED
    assert vc.user(a1)["transferred"] == 1


def test_caller_hanging_up_during_the_consultation(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    a2 = _logged_in(vc, 2)
    uid = _answered_queue_call(vc, a1)
    consultation = vc.call(a1, "transfer", "1002")["uniqueid"]
    vc.call(a2, "answer")
    vc.advance(5)
    vc.caller_hangs_up(uid)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    assert vc.last_call(a1, uid)[1]["cause"] == Cause.CALLER_HANGUP
    assert _live_uids(vc, a1) == [consultation]
    with pytest.raises(InvalidState):
        vc.call(a1, "finishTransfer")
    vc.call(a1, "hangup")
    assert vc.cause_of(consultation) is Cause.CALLER_HANGUP
    assert _live_uids(vc, a1) == []
    assert _live_uids(vc, a2) == []


def test_talk_time_includes_hold(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    _answered_queue_call(vc, agent)
    vc.advance(10)
    vc.call(agent, "hold")
    vc.advance(20)
    vc.call(agent, "unhold")
    vc.advance(5)
    vc.call(agent, "hangup")
    user = vc.user(agent)
    assert (user["in_talktime"], user["queues"][1]["talktime"]) == (35, 35)
    assert (user["in_ringtime"], user["queues"][1]["ringtime"]) == (2, 2)


def test_campaign_calls_count_as_outgoing_queue_calls(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    _dialled(vc, agent, OUTSIDE, 3)
    vc.advance(1)
    vc.advance(20)
    vc.call(agent, "hangup")
    _dialled(vc, agent, BUSY, 3)
    _dialled(vc, agent, OUTSIDE, "directCall")
    vc.advance(1)
    vc.advance(50)
    vc.call(agent, "hangup")
    user = vc.user(agent)
    assert (user["out_calls_answered"], user["out_calls_unanswered"]) == (1, 1)
    assert (user["out_ringtime"], user["out_talktime"]) == (1, 20)
    assert (user["ringtime"], user["talktime"]) == (1, 20)
    assert (user["queues"][3]["answered"], user["queues"][3]["unanswered"]) == (1, 1)
    assert (user["queues"][3]["ringtime"], user["queues"][3]["talktime"]) == (1, 20)
    assert (user["in_calls_answered"], user["in_talktime"]) == (0, 0)
    assert user["status"] == "READY"


def test_a_touch_that_changes_nothing_visible_is_neither_pushed_nor_recorded(
    vc: VirtualCenter,
) -> None:
    """A step that touches a call but changes nothing its agent sees (only ``now`` would
    differ) pushes no ``call.changed``, and writes no live record when nothing a record
    reader needs changed; a real change still does both."""
    client = vc.ready(1)
    uid = vc.caller(1)
    assert vc.last_call(client, uid)[0] == "ringing"

    def records() -> int:
        return sum(1 for e in vc.effects if isinstance(e, CallRecord) and e.call["uniqueid"] == uid)

    told, recorded = len(vc.seen(client, uid)), records()
    vc.advance(1)
    vc.center.book.touch(vc.center.calls[uid])
    vc.call(client, "state")
    assert len(vc.seen(client, uid)) == told
    assert records() == recorded

    vc.call(client, "answer")
    assert vc.last_call(client, uid)[0] == "connect"
    assert records() == recorded + 1
