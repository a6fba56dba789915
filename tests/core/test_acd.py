"""Automatic call distribution: who is offered a waiting caller, when, and for how long.

The demo center (CONTRACT §2) covers longest-idle (Support) and ring-all (Sales); the other
strategies and queue weights use small directories built here.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.helpers import custom, member_of, queue_config, rung, waiting
from ucs.core import acd
from ucs.core.directory import (
    Strategy,
)
from ucs.core.ids import AgentId, ClientId
from ucs.core.model import CallState, Cause
from ucs.virtual import VirtualCenter

# --- helpers ---------------------------------------------------------------------------------


def _serve(vc: VirtualCenter, clients: dict[int, ClientId], queue: int = 1) -> int:
    """A caller rings into ``queue``; the one agent rung answers, talks 10 s, hangs up."""
    uid = vc.caller(queue)
    rang = rung(vc, clients, uid)
    assert len(rang) == 1, f"expected one agent to ring, got {rang}"
    vc.advance(1)
    vc.call(clients[rang[0]], "answer")
    vc.advance(10)
    vc.call(clients[rang[0]], "hangup")
    vc.advance(1)
    return rang[0]


# --- longest idle and ring timeout (Support) -------------------------------------------------


def test_longest_idle_rings_the_agent_free_longest(vc: VirtualCenter) -> None:
    a2 = vc.ready(2)
    vc.advance(10)
    a1 = vc.ready(1)
    vc.advance(10)
    clients = {1: a1, 2: a2}
    uid = vc.caller(1)
    assert rung(vc, clients, uid) == [2]  # free since 0, agent1 only since 10


def test_longest_idle_prefers_the_agent_who_did_not_just_finish_a_call(
    vc: VirtualCenter,
) -> None:
    a1 = vc.ready(1)
    vc.advance(5)
    a2 = vc.ready(2)
    vc.advance(5)
    clients = {1: a1, 2: a2}
    assert _serve(vc, clients) == 1
    vc.advance(30)  # agent1 back from its 10 s wrap-up, yet agent2 has been free longer
    assert vc.user(a1)["status"] == "READY"
    assert _serve(vc, clients) == 2
    vc.advance(30)
    assert _serve(vc, clients) == 1


def test_ring_timeout_moves_the_offer_to_the_next_agent(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    vc.advance(5)
    a2 = vc.ready(2)
    vc.advance(5)
    clients = {1: a1, 2: a2}
    uid = vc.caller(1)
    assert rung(vc, clients, uid) == [1]
    vc.advance(14.9)
    assert rung(vc, clients, uid) == [1]
    vc.advance(0.1)
    last = vc.last_call(a1, uid)
    what, view = last
    assert (what, view["cause"]) == ("hangup", Cause.UNAVAILABLE)
    assert rung(vc, clients, uid) == [2]
    assert uid not in vc.records  # the caller still waits
    user = vc.user(a1)
    assert user["in_calls_unanswered"] == 1
    assert user["queues"][1]["unanswered"] == 1
    assert user["in_ringtime"] == 15
    assert user["in_calls_answered"] == 0
    assert vc.call(a1, "state")["calls"] == []


def test_when_every_agent_was_tried_the_first_rings_again(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    vc.advance(5)
    a2 = vc.ready(2)
    vc.advance(5)
    clients = {1: a1, 2: a2}
    uid = vc.caller(1)
    assert rung(vc, clients, uid) == [1]
    vc.advance(15)
    assert rung(vc, clients, uid) == [2]
    vc.advance(15)
    assert rung(vc, clients, uid) == [1]
    assert vc.user(a2)["in_calls_unanswered"] == 1
    vc.advance(15)
    assert rung(vc, clients, uid) == [2]
    vc.call(a2, "answer")
    assert vc.seen(a2, uid)
    assert vc.center.calls[uid].state is CallState.CONNECTED
    assert vc.user(a1)["in_calls_unanswered"] == 2
    assert vc.user(a2)["in_calls_answered"] == 1


def test_ring_timeout_with_a_single_agent_rings_that_agent_again(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    uid = vc.caller(1)
    vc.advance(15)
    assert rung(vc, {1: a1}, uid) == [1]
    assert [w for w, _ in vc.seen(a1, uid)][-2:] == ["hangup", "ringing"]
    assert vc.user(a1)["in_calls_unanswered"] == 1


# --- ring-all (Sales) ------------------------------------------------------------------------


def test_ring_all_rings_every_free_member_and_the_first_to_answer_wins(
    vc: VirtualCenter,
) -> None:
    a1 = vc.ready(1)
    a3 = vc.ready(3)
    clients = {1: a1, 3: a3}
    uid = vc.caller(2)
    assert rung(vc, clients, uid) == [1, 3]
    for client in (a1, a3):
        last = vc.last_call(client, uid)
        assert last[1]["subcalls"] == 2
    vc.advance(4)
    vc.call(a3, "answer")
    last = vc.last_call(a1, uid)
    assert (last[0], last[1]["cause"]) == ("hangup", Cause.PICKUP)
    last = vc.last_call(a3, uid)
    assert (last[0], last[1]["state"]) == ("connect", CallState.CONNECTED)
    one, three = vc.user(a1), vc.user(a3)
    assert (one["in_calls_unanswered"], one["queues"][2]["unanswered"]) == (0, 0)
    assert (three["in_calls_answered"], three["queues"][2]["answered"]) == (1, 1)
    assert vc.call(a1, "state")["calls"] == []


def test_ring_all_rings_a_member_who_becomes_free_while_it_rings(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    a3 = vc.connect()
    vc.call(a3, "login", "agent3", "agent3-pass")
    vc.call(a3, "selectIdentifier", "phone3")
    vc.call(a3, "provision")
    uid = vc.caller(2)
    clients = {1: a1, 3: a3}
    assert rung(vc, clients, uid) == [1]
    vc.call(a3, "changeStatus", "READY")
    assert rung(vc, clients, uid) == [1, 3]


# --- other strategies ------------------------------------------------------------------------


def test_round_robin_takes_members_in_turn() -> None:
    c = custom(
        [queue_config(1, Strategy.ROUND_ROBIN)],
        {1: member_of(1), 2: member_of(1), 3: member_of(1)},
    )
    # ready in the order 3, 2, 1: longest-idle would start with agent3
    clients: dict[int, ClientId] = {}
    for n in (3, 2, 1):
        clients[n] = c.ready(n)
        c.advance(10)
    assert [_serve(c, clients) for _ in range(5)] == [1, 2, 3, 1, 2]


def test_round_robin_skips_a_member_who_is_not_free() -> None:
    c = custom(
        [queue_config(1, Strategy.ROUND_ROBIN)],
        {1: member_of(1), 2: member_of(1), 3: member_of(1)},
    )
    clients = {n: c.ready(n) for n in (1, 2, 3)}
    assert _serve(c, clients) == 1
    c.call(clients[2], "changeStatus", "AUX", "Break")
    assert _serve(c, clients) == 3
    c.call(clients[2], "changeStatus", "READY")
    assert _serve(c, clients) == 1
    assert _serve(c, clients) == 2


def test_fewest_calls_rings_the_agent_who_answered_fewest_today() -> None:
    c = custom(
        [queue_config(1, Strategy.FEWEST_CALLS)],
        {1: member_of(1), 2: member_of(1), 3: member_of(1)},
    )
    clients = {1: c.ready(1)}
    c.advance(5)
    clients[2] = c.ready(2)
    c.advance(5)
    # 1 and 2 answer in turn (ties go to the one free longest): 1, 2, 1
    assert [_serve(c, clients) for _ in range(3)] == [1, 2, 1]
    clients[3] = c.ready(3)  # free for the shortest time, but has answered nothing
    c.advance(5)
    assert _serve(c, clients) == 3
    # now 1 has 2 calls, 2 and 3 have 1 each: 2 (free longer), then 3, never 1
    assert _serve(c, clients) == 2
    assert _serve(c, clients) == 3
    assert _serve(c, clients) == 1  # everyone at 2 now, 1 has been free longest


def test_fewest_calls_counts_answered_calls_not_offers() -> None:
    c = custom([queue_config(1, Strategy.FEWEST_CALLS)], {1: member_of(1), 2: member_of(1)})
    a1 = c.ready(1)
    c.advance(5)
    a2 = c.ready(2)
    c.advance(5)
    clients = {1: a1, 2: a2}
    uid = c.caller(1)
    assert rung(c, clients, uid) == [1]
    c.call(a1, "hangup")  # rejected: not an answered call
    assert rung(c, clients, uid) == [2]
    c.call(a2, "answer")
    c.advance(5)
    c.call(a2, "hangup")
    c.advance(60)
    assert _serve(c, clients) == 1


def test_priority_rings_the_lowest_number_first() -> None:
    c = custom(
        [queue_config(1, Strategy.PRIORITY)],
        {1: member_of(1, priority=3), 2: member_of(1, priority=1), 3: member_of(1, priority=2)},
    )
    clients: dict[int, ClientId] = {}
    for n in (1, 2, 3):  # agent1 free longest: longest-idle would ring it first
        clients[n] = c.ready(n)
        c.advance(10)
    order = []
    uids = []
    for _ in range(3):  # each answers and stays on the call
        uid = c.caller(1)
        rang = rung(c, clients, uid)
        assert len(rang) == 1
        c.call(clients[rang[0]], "answer")
        order.append(rang[0])
        uids.append(uid)
    assert order == [2, 3, 1]
    for n, uid in zip(order, uids, strict=True):
        c.call(clients[n], "hangup")
        assert c.cause_of(uid) is Cause.CALLED_HANGUP
    c.advance(10)
    assert [_serve(c, clients) for _ in range(3)] == [2, 2, 2]


def test_priority_ties_go_to_the_agent_free_longest() -> None:
    c = custom(
        [queue_config(1, Strategy.PRIORITY)],
        {1: member_of(1, priority=5), 2: member_of(1, priority=2), 3: member_of(1, priority=2)},
    )
    clients = {n: c.ready(n) for n in (1, 3)}
    c.advance(10)
    clients[2] = c.ready(2)
    c.advance(10)
    assert _serve(c, clients) == 3
    assert _serve(c, clients) == 2
    assert _serve(c, clients) == 3


# --- weights: which waiting caller first -----------------------------------------------------


def test_caller_of_the_heavier_queue_is_served_first_even_if_it_came_later() -> None:
    c = custom(
        [
            queue_config(1, Strategy.LONGEST_IDLE, weight=1),
            queue_config(2, Strategy.LONGEST_IDLE, weight=5),
        ],
        {1: member_of(1, 2), 2: member_of(1, 2)},
    )
    a1 = c.ready(1)
    a2 = c.ready(2)
    for client in (a1, a2):
        c.call(client, "changeStatus", "AUX", "Meeting")
    light = c.caller(1)
    c.advance(30)
    heavy = c.caller(2)
    c.advance(5)
    assert waiting(c, light)
    assert waiting(c, heavy)
    c.call(a1, "changeStatus", "READY")
    assert rung(c, {1: a1}, heavy) == [1]
    assert c.seen(a1, light) == []
    assert waiting(c, light)
    c.call(a2, "changeStatus", "READY")
    assert rung(c, {2: a2}, light) == [2]


def test_equal_weights_serve_the_longest_waiting_caller_first() -> None:
    c = custom(
        [
            queue_config(1, Strategy.LONGEST_IDLE, weight=3),
            queue_config(2, Strategy.LONGEST_IDLE, weight=3),
        ],
        {1: member_of(1, 2)},
    )
    a1 = c.ready(1)
    c.call(a1, "changeStatus", "AUX", "Meeting")
    first = c.caller(2)
    c.advance(5)
    second = c.caller(1)
    c.advance(5)
    c.call(a1, "changeStatus", "READY")
    assert rung(c, {1: a1}, first) == [1]
    assert waiting(c, second)


def test_waiting_callers_of_one_queue_are_served_in_arrival_order(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    vc.call(a1, "changeStatus", "AUX", "Break")
    uids = []
    for i in range(3):
        uids.append(vc.caller(1, f"+42060111111{i}"))
        vc.advance(1)
    vc.call(a1, "changeStatus", "READY")
    for uid in uids:
        assert rung(vc, {1: a1}, uid) == [1]
        vc.call(a1, "answer")
        vc.call(a1, "hangup")
        vc.advance(10)  # Support's wrap-up


# --- who is offered calls at all -------------------------------------------------------------


def test_suspended_agent_gets_no_calls_of_that_queue_but_still_of_others(
    vc: VirtualCenter,
) -> None:
    a1 = vc.ready(1)
    queue = vc.call(a1, "suspend", 1)
    assert queue["suspended"] is True
    assert vc.user(a1)["queues"][1]["suspended"] is True
    support = vc.caller(1)
    assert waiting(vc, support)
    assert vc.seen(a1, support) == []
    sales = vc.caller(2)
    assert rung(vc, {1: a1}, sales) == [1]
    vc.caller_hangs_up(sales)
    assert waiting(vc, support)
    assert vc.call(a1, "resume", 1)["suspended"] is False
    assert rung(vc, {1: a1}, support) == [1]


def test_supervisor_is_never_offered_calls(vc: VirtualCenter) -> None:
    sup = vc.agent_ready("supervisor", "supervisor-pass", "phone4")
    assert vc.user(sup)["status"] == "READY"
    support = vc.caller(1)
    sales = vc.caller(2)
    vc.advance(60)
    assert vc.calls_seen(sup) == []
    assert waiting(vc, support)
    assert waiting(vc, sales)


@pytest.mark.parametrize(("status", "reason"), [("AUX", "Lunch"), ("ACW", None), ("OFFLINE", None)])
def test_agent_not_ready_is_not_offered_calls(
    vc: VirtualCenter, status: str, reason: str | None
) -> None:
    a1 = vc.ready(1)
    vc.call(a1, "changeStatus", status, reason)
    uid = vc.caller(1)
    vc.advance(60)
    assert vc.seen(a1, uid) == []
    assert waiting(vc, uid)
    vc.call(a1, "changeStatus", "READY")
    assert rung(vc, {1: a1}, uid) == [1]


def test_agent_without_a_confirmed_phone_is_not_offered_calls(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    vc.call(a1, "identify")  # back to IDENTIFY: no phone; availability stays READY
    assert vc.center.agents[AgentId(1)].status.value == "READY"
    uid = vc.caller(1)
    assert waiting(vc, uid)
    vc.call(a1, "selectIdentifier", "phone1")  # DEVICE: chosen, not yet confirmed
    vc.advance(5)
    assert waiting(vc, uid)
    assert vc.seen(a1, uid) == []
    vc.call(a1, "provision")
    assert rung(vc, {1: a1}, uid) == [1]


def test_call_no_one_can_take_waits_and_is_offered_the_moment_an_agent_is_ready(
    vc: VirtualCenter,
) -> None:
    uid = vc.caller(1)
    vc.advance(120)
    assert waiting(vc, uid)
    assert vc.center.calls[uid].state is CallState.CONNECTING
    assert uid not in vc.records
    a2 = vc.ready(2)
    assert rung(vc, {2: a2}, uid) == [2]
    last = vc.last_call(a2, uid)
    assert last[1]["created"] == vc.now - 120


def test_agent_on_a_call_is_not_offered_another(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    out = vc.call(a1, "dial", "+420601123456", "directCall")["uniqueid"]
    vc.advance(1)
    uid = vc.caller(1)
    assert waiting(vc, uid)
    vc.call(a1, "hold")  # a held call is still a call
    vc.advance(5)
    assert waiting(vc, uid)
    vc.call(a1, "unhold")
    vc.call(a1, "hangup")
    assert vc.cause_of(out) is Cause.CALLER_HANGUP
    assert rung(vc, {1: a1}, uid) == [1]


def test_agent_rung_by_one_queue_is_not_offered_another_queues_call(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    sales = vc.caller(2)
    assert rung(vc, {1: a1}, sales) == [1]
    support = vc.caller(1)
    assert waiting(vc, support)
    vc.call(a1, "answer")
    vc.advance(5)
    vc.call(a1, "hangup")  # Sales has no wrap-up: READY again at once
    assert rung(vc, {1: a1}, support) == [1]


def test_agent_called_directly_is_not_offered_queue_calls(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    a2 = vc.ready(2)
    vc.call(a2, "changeStatus", "AUX", "Break")
    direct = vc.call(a2, "dial", "1001", "directCall")["uniqueid"]
    assert rung(vc, {1: a1}, direct) == [1]
    uid = vc.caller(1)
    assert waiting(vc, uid)
    vc.call(a1, "answer")
    vc.call(a1, "hangup")
    assert rung(vc, {1: a1}, uid) == [1]


def test_caller_hanging_up_while_waiting_affects_no_agent(vc: VirtualCenter) -> None:
    a1 = vc.ready(1)
    vc.call(a1, "changeStatus", "AUX", "Lunch")
    uid = vc.caller(1)
    vc.advance(40)
    vc.caller_hangs_up(uid)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    assert vc.records[uid].queue_id == 1
    assert vc.records[uid].call["connected"] is None
    assert uid not in vc.center.calls
    assert vc.calls_seen(a1) == []
    user = vc.user(a1)
    assert (user["in_calls_unanswered"], user["queues"][1]["unanswered"]) == (0, 0)
    assert user["status"] == "AUX"
    vc.call(a1, "changeStatus", "READY")
    assert vc.calls_seen(a1) == []


def test_caller_hanging_up_while_ringing_ends_the_offer_and_counts_unanswered(
    vc: VirtualCenter,
) -> None:
    a1 = vc.ready(1)
    uid = vc.caller(1)
    vc.advance(6)
    vc.caller_hangs_up(uid)
    assert vc.cause_of(uid) is Cause.CALLER_HANGUP
    last = vc.last_call(a1, uid)
    assert (last[0], last[1]["cause"]) == ("hangup", Cause.CALLER_HANGUP)
    user = vc.user(a1)
    assert user["in_calls_unanswered"] == 1
    assert user["queues"][1]["unanswered"] == 1
    assert user["in_ringtime"] == 6
    assert user["in_calls_answered"] == 0
    assert user["status"] == "READY"  # no wrap-up for a call never answered
    assert vc.call(a1, "state")["calls"] == []


# --- each queue's free members among many free agents ----------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    memberships=st.lists(st.sets(st.sampled_from((1, 2, 3)), min_size=1), min_size=2, max_size=5),
    strategy=st.sampled_from(
        [Strategy.LONGEST_IDLE, Strategy.FEWEST_CALLS, Strategy.PRIORITY, Strategy.ROUND_ROBIN]
    ),
    order=st.permutations(range(5)),
    suspended=st.sets(st.tuples(st.integers(1, 5), st.sampled_from((1, 2, 3))), max_size=4),
    queue=st.sampled_from((1, 2, 3)),
)
def test_a_caller_rings_the_agent_its_queues_strategy_picks_from_its_free_members_alone(
    memberships: list[set[int]],
    strategy: Strategy,
    order: list[int],
    suspended: set[tuple[int, int]],
    queue: int,
) -> None:
    """Agents of three queues, more of them free than a queue has members: a caller rings the
    agent the strategy picks from a recount of the queue's free, unsuspended members, and waits
    when there is none (the distributor looks at each queue's free members alone)."""
    members = {n: member_of(*sorted(qs), priority=1 + n % 3) for n, qs in enumerate(memberships, 1)}
    c = custom([queue_config(q, strategy) for q in (1, 2, 3)], members)
    clients: dict[int, ClientId] = {}
    for i in order:
        if i + 1 in members:
            clients[i + 1] = c.ready(i + 1)
            c.advance(1)
    for n, q in sorted(suspended):
        if n in members and q in memberships[n - 1]:
            c.call(clients[n], "suspend", q)
    free = [
        acd.Candidate(
            agent=AgentId(n),
            available_since=c.center.agents[AgentId(n)].available_since,
            priority=1 + n % 3,
            answered=0,
        )
        for n in members
        if queue in memberships[n - 1] and (n, queue) not in suspended
    ]
    uid = c.caller(queue)
    assert rung(c, clients, uid) == sorted(acd.pick(strategy, free))
    assert waiting(c, uid) == (not free)
