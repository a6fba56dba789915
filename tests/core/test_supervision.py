"""Supervisors (CONTRACT §11): the team view with today's queue figures, acting for an agent,
and the rights: a queue's supervisor has that queue's other members, a superuser everyone."""

from __future__ import annotations

import dataclasses

import pytest

from tests.core.helpers import amended_team, custom, member_of, queue_config, without_clock
from ucs.core.directory import Membership, Strategy
from ucs.core.effects import StatusRecord
from ucs.core.errors import Forbidden, InvalidArgument, InvalidState, NotFound
from ucs.core.events import Reconfigure
from ucs.core.ids import AgentId, QueueId
from ucs.virtual import VirtualCenter


def _center() -> VirtualCenter:
    """agent1 and agent2 in Q1, agent3 in Q2, agent4 supervises Q1, agent5 is a superuser."""
    vc = custom(
        [queue_config(1, Strategy.LONGEST_IDLE), queue_config(2, Strategy.LONGEST_IDLE)],
        {
            1: member_of(1),
            2: member_of(1),
            3: member_of(2),
            4: (Membership(QueueId(1), supervisor=True),),
            5: (),
        },
    )
    boss = dataclasses.replace(vc.center.directory.agents[AgentId(5)], superuser=True)
    agents = {**vc.center.directory.agents, AgentId(5): boss}
    vc.feed(Reconfigure(dataclasses.replace(vc.center.directory, agents=agents)))
    return vc


def test_a_queue_supervisor_sees_that_queue_and_its_other_members() -> None:
    vc = _center()
    sup = vc.ready(4)
    a1 = vc.ready(1)
    team = vc.call(sup, "team")
    assert [q["queue_id"] for q in team["queues"]] == [1]
    assert [a["username"] for a in team["agents"]] == ["agent1", "agent2"]
    alice = team["agents"][0]
    assert (alice["status"], alice["reason"], alice["identifier"], alice["call"]) == (
        "READY",
        None,
        "phone1",
        None,
    )
    assert team["agents"][1]["identifier"] is None  # agent2 is not logged in
    uid = vc.caller(1)
    vc.call(a1, "answer")
    team = vc.call(sup, "team")
    assert team["agents"][0]["call"]["uniqueid"] == uid


def test_a_superuser_sees_every_queue_and_every_other_agent() -> None:
    vc = _center()
    boss = vc.ready(5)
    team = vc.call(boss, "team")
    assert [q["queue_id"] for q in team["queues"]] == [1, 2]
    assert [a["id"] for a in team["agents"]] == [1, 2, 3, 4]


def test_an_agent_who_supervises_nothing_is_forbidden() -> None:
    vc = _center()
    a1 = vc.ready(1)
    vc.ready(2)
    with pytest.raises(Forbidden):
        vc.call(a1, "team")
    with pytest.raises(Forbidden):
        vc.call(a1, "setAgentStatus", 2, "AUX", "Lunch")
    with pytest.raises(Forbidden):
        vc.call(a1, "logoutAgent", 2)


def test_todays_queue_figures_count_answers_within_target_and_abandoned_callers() -> None:
    vc = _center()
    sup = vc.ready(4)
    a1 = vc.ready(1)
    vc.call(a1, "changeStatus", "AUX", "Lunch")

    def figures() -> dict[str, object]:
        queue: dict[str, object] = vc.call(sup, "team")["queues"][0]
        return queue

    slow = vc.caller(1, "+420601000001")
    vc.advance(30)
    assert (figures()["waiting"], figures()["longest_wait"]) == (1, 30)
    assert figures()["service_level"] is None  # a caller still waiting is not judged yet
    vc.call(a1, "changeStatus", "READY")
    vc.call(a1, "answer")  # after 30 s: answered, not within the 20 s target
    vc.caller_hangs_up(slow)
    fast = vc.caller(1, "+420601000002")
    vc.advance(3)
    vc.call(a1, "answer")
    vc.caller_hangs_up(fast)
    vc.call(a1, "changeStatus", "AUX", "Lunch")
    short = vc.caller(1, "+420601000003")
    vc.advance(3)
    vc.caller_hangs_up(short)  # within 5 s: left out of the service level
    gone = vc.caller(1, "+420601000004")
    vc.advance(12)
    vc.caller_hangs_up(gone)
    q = figures()
    assert (q["waiting"], q["longest_wait"], q["answered"], q["abandoned"]) == (0, 0, 2, 2)
    assert q["service_level"] == 33.3  # 1 within target of 4 offered less 1 short
    vc.advance(24 * 3600)  # midnight passed: a new day
    assert (figures()["answered"], figures()["service_level"]) == (0, None)


def test_a_supervisor_sets_an_agents_status_and_the_agent_is_told_who() -> None:
    vc = _center()
    sup = vc.ready(4)
    a1 = vc.ready(1)
    vc.call(sup, "setAgentStatus", 1, "AUX", "Meeting")
    assert (vc.user(a1)["status"], vc.center.agents[AgentId(1)].reason) == ("AUX", "Meeting")
    (told,) = vc.messages(a1, "supervisor.acted")
    assert told["by"]["username"] == "agent4"
    assert (told["status"], told["reason"], told["action"]) == ("AUX", "Meeting", "status")
    records = [e for e in vc.effects if isinstance(e, StatusRecord) and e.agent == 1]
    assert (records[-1].status.value, records[-1].by) == ("AUX", 4)
    vc.call(a1, "changeStatus", "READY")  # the agent's own change names nobody
    records = [e for e in vc.effects if isinstance(e, StatusRecord) and e.agent == 1]
    assert records[-1].by is None


def test_acting_for_an_agent_is_refused_with_a_clear_code_and_changes_nothing() -> None:
    vc = _center()
    sup = vc.ready(4)
    a1 = vc.ready(1)
    vc.ready(3)
    with pytest.raises(NotFound):
        vc.call(sup, "setAgentStatus", 99, "READY")
    with pytest.raises(Forbidden):  # agent3 is in Q2, not in agent4's team
        vc.call(sup, "setAgentStatus", 3, "AUX", "Lunch")
    with pytest.raises(InvalidArgument):
        vc.call(sup, "setAgentStatus", 1, "AUX")
    with pytest.raises(InvalidState):  # agent2 is not logged in
        vc.call(sup, "setAgentStatus", 2, "READY")
    with pytest.raises(InvalidState):
        vc.call(sup, "logoutAgent", 2)
    vc.caller(1)
    vc.call(a1, "answer")
    with pytest.raises(InvalidState):  # on a call
        vc.call(sup, "logoutAgent", 1)
    assert vc.user(a1)["status"] == "READY"
    assert vc.center.logged_in(AgentId(1))


def test_a_supervisor_logs_an_agent_out_and_every_tab_is_told_who() -> None:
    vc = _center()
    sup = vc.ready(4)
    a1 = vc.ready(1)
    tab = vc.connect()
    vc.call(tab, "login", "agent1", "agent1-pass")
    vc.call(sup, "logoutAgent", 1)
    assert not vc.center.logged_in(AgentId(1))
    for client in (a1, tab):
        (ended,) = vc.messages(client, "session.ended")
        assert ended["by"]["displayname"] == "Agent4"
    records = [e for e in vc.effects if isinstance(e, StatusRecord) and e.agent == 1]
    assert (records[-1].status.value, records[-1].by) == ("OFFLINE", 4)


def test_team_changes_are_pushed_coalesced_and_amend_the_view_to_the_truth() -> None:
    vc = _center()
    sup = vc.ready(4)
    view = vc.call(sup, "team")
    a1 = vc.ready(1)
    a2 = vc.ready(2)
    vc.ready(3)  # Q2: not agent4's team
    first = vc.caller(1, "+420601000001")
    vc.caller(1, "+420601000002")
    vc.caller(2, "+420601000003")
    vc.call(a1, "answer")
    vc.advance(0.1)
    assert vc.messages(sup, "team.changed") == []  # not yet: coalesced
    vc.advance(0.5)
    pushes = vc.messages(sup, "team.changed")
    assert len(pushes) == 1
    assert {a["id"] for a in pushes[0]["agents"]} <= {1, 2}
    assert [q["queue_id"] for q in pushes[0]["queues"]] == [1]
    vc.call(a2, "answer")
    vc.caller_hangs_up(first)
    vc.call(a2, "changeStatus", "AUX", "Break")
    vc.advance(3)
    pushes = vc.messages(sup, "team.changed")
    assert len(pushes) <= 1 + 3 / 0.5
    assert without_clock(amended_team(view, pushes)) == without_clock(vc.call(sup, "team"))


def test_at_midnight_the_supervisors_are_told_todays_figures_begin_again() -> None:
    """A queue's answered and abandoned callers are today's: a supervisor watching is told at
    midnight that they are back to nought (found by the stateful test: the figures stayed)."""
    vc = _center()
    sup = vc.ready(4)
    vc.caller_hangs_up(vc.caller(1))  # nobody READY in Q1: abandoned
    vc.advance(2)
    view = vc.call(sup, "team")
    assert view["queues"][0]["abandoned"] == 1
    told = len(vc.messages(sup, "team.changed"))
    vc.advance(24 * 3600)  # past midnight, nothing else happens
    pushes = vc.messages(sup, "team.changed")[told:]
    assert [q["abandoned"] for p in pushes for q in p["queues"]] == [0]
    assert without_clock(amended_team(view, pushes)) == without_clock(vc.call(sup, "team"))


def test_an_agent_choosing_another_phone_is_told_to_the_supervisors() -> None:
    """The team view's phone of an agent who is not READY (found by the stateful test: a
    session's change alone was never pushed)."""
    vc = _center()
    sup = vc.ready(4)
    agent = vc.connect()
    vc.call(agent, "login", "agent1", "agent1-pass")
    vc.advance(1)  # the login told
    view = vc.call(sup, "team")
    told = len(vc.messages(sup, "team.changed"))
    vc.call(agent, "selectIdentifier", "phone1")
    vc.advance(1)
    pushes = vc.messages(sup, "team.changed")[told:]
    assert [a["identifier"] for p in pushes for a in p["agents"] if a["id"] == 1] == ["phone1"]
    assert without_clock(amended_team(view, pushes)) == without_clock(vc.call(sup, "team"))


def test_a_change_undone_between_two_ticks_after_team_was_asked_is_pushed() -> None:
    """team() between a change and its undoing saw what no push told: the undoing is pushed
    although the entry is as last pushed (found by the stateful test)."""
    vc = _center()
    sup = vc.ready(4)
    a1 = vc.ready(1)  # on phone1
    vc.advance(1)
    vc.call(a1, "identify")  # no phone for a moment
    view = vc.call(sup, "team")
    assert next(a for a in view["agents"] if a["id"] == 1)["identifier"] is None
    told = len(vc.messages(sup, "team.changed"))
    vc.call(a1, "selectIdentifier", "phone1")  # the same phone again, before the tick
    vc.advance(1)
    pushes = vc.messages(sup, "team.changed")[told:]
    assert without_clock(amended_team(view, pushes)) == without_clock(vc.call(sup, "team"))


def test_a_waiting_callers_growing_wait_is_pushed_and_a_quiet_team_is_not() -> None:
    vc = _center()
    sup = vc.ready(4)
    uid = vc.caller(1)  # nobody READY in Q1: the caller waits
    vc.advance(4)
    waits = [q["longest_wait"] for p in vc.messages(sup, "team.changed") for q in p["queues"]]
    assert waits == sorted(waits) and waits[-1] >= 3
    vc.caller_hangs_up(uid)
    vc.advance(2)
    told = len(vc.messages(sup, "team.changed"))
    vc.advance(30)
    assert len(vc.messages(sup, "team.changed")) == told  # nothing changes: nothing is pushed


def test_a_campaign_shows_its_calls_in_progress_and_todays_dialled_and_answered(
    vc: VirtualCenter,
) -> None:
    """Nobody waits in an outgoing queue: the team view gives a campaign (``type`` 0) its calls
    in progress, today's calls dialled under it, answered by the called party and not."""
    sup = vc.agent_ready("supervisor", "supervisor-pass", "phone4")
    a1 = vc.ready(1)

    def campaign() -> dict[str, object]:
        queues = {q["queue_id"]: q for q in vc.call(sup, "team")["queues"]}
        assert queues[1]["type"] == 1  # Support: incoming
        return queues[3]

    assert campaign() == {
        "queue_id": 3,
        "name": "Campaign",
        "type": 0,
        "waiting": 0,
        "longest_wait": 0,
        "answered": 0,
        "abandoned": 0,
        "service_level": None,
        "active": 0,
        "dialled": 0,
        "unanswered": 0,
    }
    vc.call(a1, "dial", "+420777123456", 3)
    assert (campaign()["active"], campaign()["dialled"], campaign()["answered"]) == (1, 1, 0)
    vc.advance(2)  # the called party answers after 1 s
    assert (campaign()["active"], campaign()["answered"]) == (1, 1)
    vc.call(a1, "hangup")
    vc.call(a1, "dial", "+420777120001", 3)  # busy
    vc.advance(2)
    vc.call(a1, "dial", "+420777123457", "directCall")  # not the campaign's
    vc.advance(2)
    vc.call(a1, "hangup")
    q = campaign()
    assert (q["active"], q["dialled"], q["answered"], q["unanswered"]) == (0, 2, 1, 1)
    assert (q["waiting"], q["abandoned"], q["service_level"]) == (0, 0, None)
    vc.advance(24 * 3600)  # a new day
    assert (campaign()["dialled"], campaign()["answered"]) == (0, 0)
