"""Calls a phone places itself (``PhoneCall``: the handset dials): the line's own OUTGOING call,
as ``dial`` from that line, without ringing the phone first (it is off-hook already).

Driven through ``VirtualCenter.phone_dials`` on the demo center (CONTRACT §2).
"""

from __future__ import annotations

import pytest

from ucs.core.effects import Hangup, Originate, PickUp, Ring, StopRinging
from ucs.core.events import Answered, PhoneCall
from ucs.core.ids import ClientId, LineId, UniqueId
from ucs.core.model import CallState, Cause
from ucs.virtual import VirtualCenter

OUTSIDE = "+420601123456"
BUSY = "+420601120001"


def _logged_in(vc: VirtualCenter, n: int) -> ClientId:
    """agentN on phoneN, phone confirmed, OFFLINE: no queue calls, but reachable directly."""
    client = vc.connect()
    vc.call(client, "login", f"agent{n}", f"agent{n}-pass")
    vc.call(client, "selectIdentifier", f"phone{n}")
    vc.call(client, "provision")
    return client


def _switch_effects(vc: VirtualCenter, since: int, uid: str) -> list[object]:
    kinds = (Originate, Ring, PickUp, StopRinging, Hangup)
    return [e for e in vc.effects[since:] if isinstance(e, kinds) and e.uniqueid == uid]


def test_handset_call_to_an_outside_number_is_the_agents_outgoing_call(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    before = len(vc.effects)
    uid = vc.phone_dials(1, "601 123 456")
    # Only the number is called: no click-to-dial call to the phone, which is off-hook already.
    assert _switch_effects(vc, before, uid) == [Originate(uid, LineId(1), "601123456", None)]
    what, call = vc.last_call(agent, uid)
    assert what == "ringing" and call["state"] == CallState.RINGING
    assert (call["direction"], call["number"], call["called_number"]) == (
        "OUTGOING",
        "601123456",
        "601123456",
    )
    assert call["called_number_norm"] == OUTSIDE
    assert (call["caller_user_id"], call["caller_line_id"], call["outbound_id"]) == (1, 1, None)
    vc.advance(1)
    what, call = vc.last_call(agent, uid)
    assert (what, call["state"], call["connected_type"]) == ("connect", 3, "trunk")
    assert vc.call(agent, "state")["calls"][0]["uniqueid"] == uid
    vc.advance(60)
    vc.call(agent, "hangup")
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    record = vc.records[uid].call
    assert (record["direction"], record["caller_user_id"], record["connected_type"]) == (
        "OUTGOING",
        1,
        "trunk",
    )
    assert vc.records[uid].queue_id is None
    # Statistics count queue calls only: a direct call counts nowhere.
    user = vc.user(agent)
    assert user["out_calls_answered"] == 0 and user["talktime"] == 0
    assert user["status"] == "READY"


def test_switch_uniqueid_and_channel_are_kept(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = UniqueId("1700000000.100001")
    vc.feed(PhoneCall(LineId(1), OUTSIDE, uniqueid=uid, channel="SIP/phone1-0000001a"))
    _, call = vc.last_call(agent, uid)
    assert call["caller_channel"] == "SIP/phone1-0000001a"


def test_handset_hanging_up_is_the_caller_hanging_up(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = vc.phone_dials(1, OUTSIDE)
    vc.advance(5)
    vc.phone_hangs_up(uid, 1)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    assert vc.last_call(agent, uid)[0] == "hangup"


def test_far_end_failing_ends_with_its_cause(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = vc.phone_dials(1, BUSY)
    assert vc.cause_of(uid) is Cause.BUSY
    assert vc.call(agent, "state")["calls"] == []


@pytest.mark.parametrize(
    ("number", "cause"),
    [("abc", Cause.INVALID_NUMBER), ("12345", Cause.INVALID_NUMBER), ("1001", Cause.BUSY)],
)
def test_invalid_number_is_cause_2_and_own_extension_busy(
    vc: VirtualCenter, number: str, cause: Cause
) -> None:
    vc.ready(1)
    uid = vc.phone_dials(1, number)
    assert vc.cause_of(uid) is cause
    assert vc.center.calls == {}


def test_handset_call_to_an_extension_rings_that_agent(vc: VirtualCenter) -> None:
    caller = vc.ready(1)
    called = _logged_in(vc, 2)
    before = len(vc.effects)
    uid = vc.phone_dials(1, "1002")
    assert Originate(uid, LineId(1), "1002", LineId(2)) in vc.effects[before:]
    assert not [e for e in vc.effects[before:] if isinstance(e, PickUp)]
    what, theirs = vc.last_call(called, uid)
    assert (what, theirs["state"], theirs["direction"], theirs["number"]) == (
        "ringing",
        2,
        "INCOMING",
        "1001",
    )
    assert (theirs["caller_user_id"], theirs["connected_user_id"]) == (1, 2)
    mine = vc.last_call(caller, uid)[1]
    assert (mine["direction"], mine["number"], mine["state"]) == ("OUTGOING", "1002", 2)
    vc.advance(3)
    vc.call(called, "answer")
    assert vc.last_call(called, uid)[1]["state"] == CallState.CONNECTED
    assert vc.last_call(caller, uid)[1]["state"] == CallState.CONNECTED
    vc.call(called, "hangup")
    assert vc.cause_of(uid) is Cause.CALLED_HANGUP


def test_a_line_no_one_is_logged_in_on_can_call(vc: VirtualCenter) -> None:
    called = _logged_in(vc, 2)
    uid = vc.phone_dials(3, "1002")
    _, theirs = vc.last_call(called, uid)
    assert (theirs["caller_user_id"], theirs["caller_line_id"], theirs["number"]) == (
        None,
        3,
        "1003",
    )
    vc.feed(Answered(uid, LineId(2)))  # phone2's handset
    assert vc.last_call(called, uid)[1]["state"] == CallState.CONNECTED
    vc.phone_hangs_up(uid, 3)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    other = vc.phone_dials(3, OUTSIDE)
    vc.advance(1)
    assert vc.center.calls[other].state is CallState.CONNECTED
    vc.phone_hangs_up(other, 3)
    assert vc.records[other].call["caller_line_id"] == 3


def test_direct_ring_timeout_applies(vc: VirtualCenter) -> None:
    _logged_in(vc, 2)
    uid = vc.phone_dials(1, "1002")
    vc.advance(30)
    assert vc.cause_of(uid) is Cause.UNAVAILABLE


def test_handset_call_to_a_queue_number_enters_the_queue(vc: VirtualCenter) -> None:
    caller = vc.ready(1)  # a member of queue 1, but it is the caller: never offered
    agent2 = vc.ready(2)
    before = len(vc.effects)
    uid = vc.phone_dials(1, "100")
    assert not [e for e in vc.effects[before:] if isinstance(e, Originate)]
    assert Ring(uid, LineId(2), vc.center.calls[uid].caller) in vc.effects[before:]
    what, theirs = vc.last_call(agent2, uid)
    assert (what, theirs["direction"], theirs["number"], theirs["called_number"]) == (
        "ringing",
        "INCOMING",
        "1001",
        "100",
    )
    mine = vc.last_call(caller, uid)[1]
    assert (mine["direction"], mine["state"], mine["called_name"]) == ("OUTGOING", 2, "Support")
    vc.advance(4)
    vc.call(agent2, "answer")
    assert vc.last_call(caller, uid)[1]["state"] == CallState.CONNECTED
    vc.advance(20)
    vc.phone_hangs_up(uid, 1)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    assert vc.records[uid].queue_id == 1
    assert vc.user(agent2)["in_calls_answered"] == 1
    assert vc.user(agent2)["status"] == "ACW"  # the queue's wrap-up, as for any queue call
    mine_stats = vc.user(caller)
    assert mine_stats["in_calls_answered"] == 0 and mine_stats["status"] == "READY"


def test_queue_call_waits_when_no_one_is_free(vc: VirtualCenter) -> None:
    caller = vc.ready(1)
    uid = vc.phone_dials(1, "100")
    assert vc.center.calls[uid].waiting
    agent2 = vc.ready(2)
    assert vc.last_call(agent2, uid)[0] == "ringing"
    vc.call(caller, "hangup")
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP


def test_handset_call_while_a_caller_waits_is_the_consultation(vc: VirtualCenter) -> None:
    agent1 = vc.ready(1)
    agent2 = _logged_in(vc, 2)
    uid = vc.caller(1)
    vc.advance(2)
    vc.call(agent1, "answer")
    vc.call(agent1, "transfer")
    consultation = vc.phone_dials(1, "1002")
    assert vc.center.calls[uid].consultation == consultation
    vc.call(agent2, "answer")
    vc.call(agent1, "finishTransfer")
    assert vc.cause_of(consultation) is Cause.TRANSFER
    _, theirs = vc.last_call(agent2, uid)
    assert theirs["state"] == CallState.CONNECTED and theirs["connected_user_id"] == 2
    assert vc.call(agent1, "state")["calls"] == []
