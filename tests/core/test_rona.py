"""Ring no answer: with a queue's ``rona_reason``, a READY agent who lets one of its calls ring
out is put in AUX with that reason; the caller goes on to the next agent. Without it (the
default), the agent stays READY and is offered callers again."""

from __future__ import annotations

import dataclasses

from tests.core.helpers import custom, member_of, queue_config, rung
from ucs.core.directory import Strategy
from ucs.core.events import Reconfigure
from ucs.core.ids import AgentId, QueueId
from ucs.core.model import Status
from ucs.virtual import VirtualCenter


def _center(rona: str | None) -> VirtualCenter:
    q = dataclasses.replace(queue_config(1, Strategy.LONGEST_IDLE), rona_reason=rona)
    return custom([q], {1: member_of(1), 2: member_of(1)})


def _reason(vc: VirtualCenter, n: int) -> str | None:
    """The AUX reason the agent's connections are shown (``session.changed``)."""
    return vc.center.agents[AgentId(n)].reason


def test_an_agent_who_lets_a_call_ring_out_goes_to_aux() -> None:
    vc = _center("Missed call")
    a1 = vc.ready(1)
    vc.advance(5)
    a2 = vc.ready(2)
    uid = vc.caller(1)
    assert rung(vc, {1: a1, 2: a2}, uid) == [1]
    vc.advance(15)  # the queue's ring timeout
    assert rung(vc, {1: a1, 2: a2}, uid) == [2]
    user = vc.user(a1)
    assert user["status"] == "AUX" and _reason(vc, 1) == "Missed call"
    assert user["in_calls_unanswered"] == 1
    second = vc.caller(1)
    assert rung(vc, {1: a1, 2: a2}, second) == []  # agent1 is away, agent2 is rung already


def test_without_a_rona_reason_the_agent_stays_ready() -> None:
    vc = _center(None)
    a1 = vc.ready(1)
    uid = vc.caller(1)
    vc.advance(15)
    assert vc.user(a1)["status"] == "READY"
    assert rung(vc, {1: a1}, uid) == [1]  # tried again: nobody else is free


def test_a_rejected_call_or_a_caller_who_hangs_up_is_no_ring_out() -> None:
    vc = _center("Missed call")
    a1 = vc.ready(1)
    uid = vc.caller(1)
    vc.advance(5)
    vc.caller_hangs_up(uid)
    assert vc.user(a1)["status"] == "READY"


def test_an_agent_not_ready_stays_as_chosen() -> None:
    vc = _center("Missed call")
    a1 = vc.ready(1)
    uid = vc.caller(1)
    assert rung(vc, {1: a1}, uid) == [1]
    vc.call(a1, "changeStatus", "AUX", "Lunch")  # while it rings
    vc.advance(15)
    assert vc.user(a1)["status"] == "AUX" and _reason(vc, 1) == "Lunch"


def test_the_reason_can_be_set_later_by_reconfiguration() -> None:
    vc = _center(None)
    a1 = vc.ready(1)
    d = vc.center.directory
    queues = {QueueId(1): dataclasses.replace(d.queues[QueueId(1)], rona_reason="Away")}
    vc.feed(Reconfigure(dataclasses.replace(d, queues=queues)))
    vc.caller(1)
    vc.advance(15)
    assert vc.center.agents[AgentId(1)].status is Status.AUX
    assert _reason(vc, 1) == "Away"
    vc.advance(60)
    assert vc.user(a1)["auxtimes"] == {"Away": 60}
