"""An agent's availability (OFFLINE, READY, AUX, ACW), the status log, wrap-up, and the day's
time accounting: readytime, idletime, auxtime(s), acwtime, suspendtime and the midnight reset.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.conftest import MORNING, PRAGUE
from ucs.core.effects import StatusRecord
from ucs.core.errors import InvalidArgument
from ucs.core.ids import AgentId, ClientId, UniqueId
from ucs.core.model import Cause, Status
from ucs.virtual import VirtualCenter

MIDNIGHT = datetime(2026, 11, 25, 0, 0, tzinfo=PRAGUE).timestamp()
"""The first local midnight after conftest.MORNING."""


# --- helpers ---------------------------------------------------------------------------------


def _status(vc: VirtualCenter, client: ClientId) -> str:
    return str(vc.user(client)["status"])


def _log(vc: VirtualCenter, agent: int) -> list[tuple[str, str | None, float]]:
    """The agent's status log as (status, reason, seconds after MORNING)."""
    return [
        (r.status.value, r.reason, r.at - MORNING)
        for r in vc.status_log
        if r.agent == AgentId(agent)
    ]


def _at(vc: VirtualCenter, seconds_after_morning: float) -> None:
    vc.advance(MORNING + seconds_after_morning - vc.now)


def _queue_call(vc: VirtualCenter, client: ClientId, queue: int, talk: float) -> UniqueId:
    """A caller of ``queue`` rings the agent, who answers at once, talks and hangs up."""
    uid = vc.caller(queue)
    vc.call(client, "answer")
    vc.advance(talk)
    vc.call(client, "hangup")
    return uid


def _status_total(vc: VirtualCenter, agent: int) -> float:
    """readytime + auxtime + acwtime + time offline, to the fraction of a second."""
    s = vc.center.agents[AgentId(agent)].stats_at(vc.now)
    return s.readytime + s.auxtime + s.acwtime + s.offlinetime


# --- availability and the status log ---------------------------------------------------------


def test_status_changes_are_logged_with_reason_and_time(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    assert _log(vc, 1) == [("READY", None, 0)]
    vc.advance(10)
    user = vc.call(agent, "changeStatus", "AUX", "Lunch")
    assert user["status"] == "AUX"
    vc.advance(10)
    vc.call(agent, "changeStatus", "AUX", "Break")
    vc.advance(10)
    vc.call(agent, "changeStatus", "ACW")
    vc.advance(10)
    vc.call(agent, "changeStatus", "OFFLINE")
    vc.advance(10)
    vc.call(agent, "changeStatus", "READY")
    assert _log(vc, 1) == [
        ("READY", None, 0),
        ("AUX", "Lunch", 10),
        ("AUX", "Break", 20),
        ("ACW", None, 30),
        ("OFFLINE", None, 40),
        ("READY", None, 50),
    ]
    assert _log(vc, 2) == []
    session = vc.messages(agent, "session.changed")[-1]
    assert (session["status"], session["reason"]) == ("READY", None)


def test_setting_the_same_status_again_logs_nothing(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    vc.call(agent, "changeStatus", "READY")
    vc.call(agent, "changeStatus", "AUX", "Lunch")
    vc.call(agent, "changeStatus", "AUX", "Lunch")
    assert [s for s, _, _ in _log(vc, 1)] == ["READY", "AUX"]


def test_logout_logs_offline(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    vc.advance(30)
    vc.call(agent, "logout")
    assert _log(vc, 1) == [("READY", None, 0), ("OFFLINE", None, 30)]
    assert vc.center.agents[AgentId(1)].status is Status.OFFLINE


def test_aux_needs_a_known_reason_and_only_aux_takes_one(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    with pytest.raises(InvalidArgument):
        vc.call(agent, "changeStatus", "AUX")
    with pytest.raises(InvalidArgument):
        vc.call(agent, "changeStatus", "AUX", "Nap")
    with pytest.raises(InvalidArgument):
        vc.call(agent, "changeStatus", "READY", "Lunch")
    with pytest.raises(InvalidArgument):
        vc.call(agent, "changeStatus", "BUSY")
    assert _status(vc, agent) == "READY"
    assert len(_log(vc, 1)) == 1


def test_aux_time_accrues_in_total_and_per_reason(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    vc.advance(10)
    vc.call(agent, "changeStatus", "AUX", "Lunch")
    vc.advance(60)
    vc.call(agent, "changeStatus", "AUX", "Break")
    vc.advance(30)
    vc.call(agent, "changeStatus", "READY")
    vc.advance(5)
    vc.call(agent, "changeStatus", "AUX", "Lunch")
    vc.advance(15)
    user = vc.user(agent)
    assert user["auxtime"] == 60 + 30 + 15
    assert user["auxtimes"] == {"Lunch": 75, "Break": 30}
    assert user["readytime"] == 15
    assert user["acwtime"] == 0


# --- wrap-up (ACW) ---------------------------------------------------------------------------


def test_support_call_is_followed_by_exactly_10_s_of_acw_then_ready(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    vc.advance(100)
    _queue_call(vc, agent, 1, talk=50)  # hung up at 150
    assert _status(vc, agent) == "ACW"
    assert vc.messages(agent, "session.changed")[-1]["acwUntil"] == MORNING + 160
    vc.advance(9.9)
    assert _status(vc, agent) == "ACW"
    pushed = len(vc.messages(agent, "user.changed"))
    vc.advance(0.1)
    # the connections are told without asking
    assert len(vc.messages(agent, "user.changed")) > pushed
    assert vc.messages(agent, "user.changed")[-1]["user"]["status"] == "READY"
    assert vc.messages(agent, "session.changed")[-1]["status"] == "READY"
    assert _status(vc, agent) == "READY"
    assert _log(vc, 1) == [("READY", None, 0), ("ACW", None, 150), ("READY", None, 160)]
    vc.advance(100)
    user = vc.user(agent)
    assert user["acwtime"] == 10
    assert user["readytime"] == 100 + 50 + 100


def test_acw_follows_a_support_call_the_caller_ended(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = vc.caller(1)
    vc.call(agent, "answer")
    vc.advance(30)
    vc.caller_hangs_up(uid)
    assert _status(vc, agent) == "ACW"
    vc.advance(10)
    assert _status(vc, agent) == "READY"


def test_no_acw_after_a_sales_call(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    vc.advance(10)
    _queue_call(vc, agent, 2, talk=30)
    assert _status(vc, agent) == "READY"
    vc.advance(60)
    assert _status(vc, agent) == "READY"
    assert [s for s, _, _ in _log(vc, 1)] == ["READY"]
    assert vc.user(agent)["acwtime"] == 0


def test_no_acw_after_a_direct_call(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    vc.call(agent, "dial", "+420601123456", "directCall")
    vc.advance(20)
    vc.call(agent, "hangup")
    assert _status(vc, agent) == "READY"
    assert [s for s, _, _ in _log(vc, 1)] == ["READY"]


def test_no_acw_when_the_agent_went_aux_during_the_call(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    uid = vc.caller(1)
    vc.call(agent, "answer")
    vc.advance(20)
    vc.call(agent, "changeStatus", "AUX", "Break")
    vc.advance(20)
    vc.call(agent, "hangup")
    assert vc.cause_of(uid) is Cause.CALLED_HANGUP
    assert _status(vc, agent) == "AUX"
    vc.advance(30)
    assert _status(vc, agent) == "AUX"
    assert [s for s, _, _ in _log(vc, 1)] == ["READY", "AUX"]
    user = vc.user(agent)
    assert user["auxtimes"] == {"Break": 50}
    assert user["acwtime"] == 0


def test_manual_acw_stays_until_the_agent_changes_it(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    vc.call(agent, "changeStatus", "ACW")
    assert vc.messages(agent, "session.changed")[-1]["acwUntil"] is None
    vc.advance(3600)
    assert _status(vc, agent) == "ACW"
    assert vc.user(agent)["acwtime"] == 3600
    vc.call(agent, "changeStatus", "READY")
    assert _status(vc, agent) == "READY"


def test_changing_status_during_acw_cancels_the_return_to_ready(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    _queue_call(vc, agent, 1, talk=30)
    assert _status(vc, agent) == "ACW"
    vc.advance(4)
    vc.call(agent, "changeStatus", "AUX", "Lunch")
    vc.advance(60)
    assert _status(vc, agent) == "AUX"
    assert [s for s, _, _ in _log(vc, 1)] == ["READY", "ACW", "AUX"]
    user = vc.user(agent)
    assert (user["acwtime"], user["auxtime"]) == (4, 60)


def test_choosing_acw_during_wrap_up_makes_it_manual(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    _queue_call(vc, agent, 1, talk=30)
    vc.advance(4)
    vc.call(agent, "changeStatus", "ACW")
    vc.advance(60)
    assert _status(vc, agent) == "ACW"


def test_an_earlier_wrap_up_does_not_cut_a_later_one_short(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    _queue_call(vc, agent, 1, talk=30)  # wrap-up until 40
    vc.advance(4)
    vc.call(agent, "changeStatus", "READY")  # back early, at 34
    _queue_call(vc, agent, 1, talk=3)  # hung up at 37: wrap-up until 47
    assert _status(vc, agent) == "ACW"
    _at(vc, 46.9)
    assert _status(vc, agent) == "ACW"
    _at(vc, 47)
    assert _status(vc, agent) == "READY"


def test_offline_during_a_call_means_no_wrap_up(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    vc.caller(1)
    vc.call(agent, "answer")
    vc.call(agent, "changeStatus", "OFFLINE")
    vc.advance(10)
    vc.call(agent, "hangup")
    assert _status(vc, agent) == "OFFLINE"
    vc.advance(30)
    assert _status(vc, agent) == "OFFLINE"


# --- ready, idle and suspend time ------------------------------------------------------------


def test_idletime_excludes_ringing_and_talking_but_readytime_includes_them(
    vc: VirtualCenter,
) -> None:
    agent = vc.ready(1)
    vc.advance(10)  # idle 10
    vc.caller(2)  # Sales: no wrap-up
    vc.advance(5)  # ringing 5
    vc.call(agent, "answer")
    vc.advance(20)  # talking 20
    vc.call(agent, "hangup")
    vc.advance(10)  # idle 10
    user = vc.user(agent)
    assert user["readytime"] == 45
    assert user["idletime"] == 20
    assert (user["in_ringtime"], user["in_talktime"]) == (5, 20)
    assert (user["ringtime"], user["talktime"]) == (5, 20)

    vc.call(agent, "dial", "+420601123456", "directCall")
    vc.advance(10)  # a direct call: not idle, but not a queue call either
    vc.call(agent, "hangup")
    vc.advance(5)
    user = vc.user(agent)
    assert user["readytime"] == 60
    assert user["idletime"] == 25
    assert (user["ringtime"], user["talktime"]) == (5, 20)


def test_idletime_stops_while_not_ready(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    vc.advance(10)
    vc.call(agent, "changeStatus", "AUX", "Meeting")
    vc.advance(100)
    vc.call(agent, "changeStatus", "READY")
    vc.advance(5)
    user = vc.user(agent)
    assert (user["idletime"], user["readytime"], user["auxtime"]) == (15, 15, 100)


def test_suspendtime_accrues_only_while_suspended_and_not_offline(vc: VirtualCenter) -> None:
    agent = vc.ready(1)
    vc.advance(7)
    vc.call(agent, "suspend", 1)
    vc.advance(30)  # READY, suspended: 30
    vc.call(agent, "changeStatus", "AUX", "Break")
    vc.advance(5)  # AUX, suspended: 5
    vc.call(agent, "changeStatus", "OFFLINE")
    vc.advance(60)  # OFFLINE: not counted
    vc.call(agent, "changeStatus", "READY")
    vc.advance(10)  # READY, suspended: 10
    queue = vc.call(agent, "resume", 1)
    assert queue["suspended"] is False
    vc.advance(20)  # resumed: not counted
    queues = vc.user(agent)["queues"]
    assert queues[1]["suspendtime"] == 45
    assert queues[1]["suspended"] is False
    assert queues[2]["suspendtime"] == 0
    assert queues[3]["suspendtime"] == 0


# --- the day ---------------------------------------------------------------------------------


def test_statistics_reset_at_local_midnight(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    a2 = vc.ready(2)
    _queue_call(vc, a1, 2, talk=60)
    vc.call(a2, "changeStatus", "AUX", "Lunch")
    vc.advance(MIDNIGHT - 10 - vc.now)  # 23:59:50, agent1 READY since 08:00
    before = vc.user(a1)
    assert before["readytime"] == MIDNIGHT - 10 - MORNING
    assert before["in_calls_answered"] == 1
    assert before["queues"][2]["answered"] == 1
    assert before["in_talktime"] == 60
    vc.advance(20)  # 00:00:10
    after = vc.user(a1)
    assert after["status"] == "READY"
    assert after["readytime"] == 10
    assert after["idletime"] == 10
    assert (after["in_calls_answered"], after["in_talktime"], after["talktime"]) == (0, 0, 0)
    assert after["queues"][2]["answered"] == 0
    assert (after["auxtime"], after["acwtime"]) == (0, 0)
    assert vc.center.agents[AgentId(1)].stats_at(vc.now).offlinetime == 0
    aux = vc.user(a2)
    assert aux["status"] == "AUX"
    assert (aux["auxtime"], aux["auxtimes"], aux["readytime"]) == (10, {"Lunch": 10}, 0)


def test_midnight_resets_even_when_nothing_happens_at_midnight(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    vc.advance(MIDNIGHT + 3600 - vc.now)  # one jump from 08:00 to 01:00
    assert vc.user(a1)["readytime"] == 3600
    assert _status_total(vc, 1) == pytest.approx(3600)


def test_status_times_add_up_to_the_time_since_the_center_started(vc: VirtualCenter) -> None:
    vc.advance(600)  # nobody logged in: offline
    a1 = vc.ready(1)
    for step in range(3):
        vc.advance(37.5)
        _queue_call(vc, a1, 1, talk=20 + step)
        vc.advance(4.25)
        vc.call(a1, "changeStatus", "AUX", "Training")
        vc.advance(90)
        vc.call(a1, "changeStatus", "ACW")
        vc.advance(12)
        vc.call(a1, "changeStatus", "OFFLINE")
        vc.advance(33)
        vc.call(a1, "changeStatus", "READY")
        elapsed = vc.now - MORNING
        assert _status_total(vc, 1) == pytest.approx(elapsed)
        assert _status_total(vc, 3) == pytest.approx(elapsed)  # never logged in
    vc.call(a1, "logout")
    vc.advance(1000)
    assert _status_total(vc, 1) == pytest.approx(vc.now - MORNING)
    stats = vc.center.agents[AgentId(1)].stats_at(vc.now)
    assert stats.offlinetime == pytest.approx(600 + 3 * 33 + 1000)
    assert stats.auxtime == pytest.approx(3 * 90)


def test_status_times_add_up_to_the_time_since_midnight_on_the_next_day(
    vc: VirtualCenter,
) -> None:
    a1 = vc.ready(1)
    vc.call(a1, "changeStatus", "AUX", "Lunch")
    vc.advance(MIDNIGHT - vc.now - 5)
    vc.call(a1, "changeStatus", "READY")
    vc.advance(65)  # 00:01:00
    _queue_call(vc, a1, 1, talk=30)
    vc.advance(4)
    vc.call(a1, "changeStatus", "OFFLINE")
    vc.advance(100)
    for agent in (1, 2, 3, 4):
        assert _status_total(vc, agent) == pytest.approx(vc.now - MIDNIGHT)
    user = vc.user(a1)
    assert user["auxtime"] == 0
    assert user["readytime"] == 60 + 30
    assert user["acwtime"] == 4


def test_status_record_type_is_what_storage_gets(vc: VirtualCenter) -> None:
    vc.ready(1)
    record = vc.status_log[-1]
    assert record == StatusRecord(AgentId(1), Status.READY, None, MORNING)
