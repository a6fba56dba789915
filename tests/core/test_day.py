"""A morning of the demo contact center on a virtual clock, checked to the second.

Times are seconds after 08:00 (Prague). The timeline, and why each figure is what it is, is
written next to each step; the expectations at the end follow from it alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.conftest import MORNING, PRAGUE
from ucs.core.ids import LineId, UniqueId
from ucs.core.model import Cause
from ucs.virtual import VirtualCenter


def _at(vc: VirtualCenter, t: float) -> None:
    vc.advance(MORNING + t - vc.now)


def _only_call(vc: VirtualCenter, client: Any) -> str:
    uid: str = vc.call(client, "state")["call"]["uniqueid"]
    return uid


def test_a_morning_of_the_demo_center_adds_up_to_the_second(vc: VirtualCenter) -> None:
    a1 = vc.agent_ready("agent1", "agent1-pass", "phone1")
    a2 = vc.agent_ready("agent2", "agent2-pass", "phone2")
    a3 = vc.agent_ready("agent3", "agent3-pass", "phone3")

    # 60: caller A into Support; agent1 and agent2 free since 0, agent1 has the lower id.
    _at(vc, 60)
    call_a = vc.caller(1, "+420601100100")
    assert _only_call(vc, a1) == call_a
    _at(vc, 65)
    vc.call(a1, "answer")  # ring 5 s
    _at(vc, 185)
    vc.caller_hangs_up(call_a)  # talk 120 s; agent1 in ACW until 195
    assert vc.user(a1)["status"] == "ACW"

    # 300: caller B; agent2 has been free longest (since 0; agent1 since 195).
    _at(vc, 300)
    call_b = vc.caller(1, "+420601100200")
    assert _only_call(vc, a2) == call_b
    _at(vc, 315)  # agent2 does not answer in 15 s: unanswered; agent1 rings next
    assert _only_call(vc, a1) == call_b
    _at(vc, 320)
    vc.call(a1, "answer")  # ring 5 s

    # 380: attended transfer of B to agent2 (extension 1002).
    _at(vc, 380)
    vc.call(a1, "transfer")
    consultation = vc.call(a1, "dial", "1002")["uniqueid"]
    _at(vc, 390)
    vc.call(a2, "answer")
    _at(vc, 400)
    vc.call(a1, "finishTransfer")  # agent1: talk 80 s, transferred 1, ACW until 410
    assert _only_call(vc, a2) == call_b
    _at(vc, 520)
    vc.call(a2, "hangup")  # not agent2's queue call: no wrap-up, no queue talk time

    # 600-2400: agent1 at lunch.
    _at(vc, 600)
    vc.call(a1, "changeStatus", "AUX", "Lunch")
    _at(vc, 2400)
    vc.call(a1, "changeStatus", "READY")

    # 2500: caller C into Sales (ring-all): agent1 and agent3 ring; agent3 answers at 2508.
    _at(vc, 2500)
    call_c = vc.caller(2, "+420601100300")
    assert vc.call(a1, "state")["call"]["subcalls"] == 2
    _at(vc, 2508)
    vc.call(a3, "answer")
    _at(vc, 2608)
    vc.call(a3, "hangup")

    # 3000: agent2 dials under its only campaign; the number answers after 1 s.
    _at(vc, 3000)
    out_1 = vc.call(a2, "dial", "+420601123456")["uniqueid"]
    _at(vc, 3061)
    vc.call(a2, "hangup")  # out ring 1 s, talk 60 s
    _at(vc, 3100)
    out_2 = vc.call(a2, "dial", "+420601120002")["uniqueid"]  # rings 30 s, no answer
    _at(vc, 3140)

    # 3200-3800: agent1 suspended in Support; caller D goes to agent2.
    _at(vc, 3200)
    vc.call(a1, "suspend", 1)
    _at(vc, 3500)
    call_d = vc.caller(1, "+420601100400")
    assert _only_call(vc, a2) == call_d
    _at(vc, 3504)
    vc.call(a2, "answer")
    _at(vc, 3604)
    vc.caller_hangs_up(call_d)  # agent2: talk 100 s, ACW until 3614
    _at(vc, 3800)
    vc.call(a1, "resume", 1)

    # 4000: caller E; agent1 free since 2508, agent2 since 3614. E hangs up while ringing.
    _at(vc, 4000)
    call_e = vc.caller(1, "+420601100500")
    assert _only_call(vc, a1) == call_e
    _at(vc, 4003)
    vc.caller_hangs_up(call_e)
    _at(vc, 4200)

    u1, u2, u3 = vc.user(a1), vc.user(a2), vc.user(a3)

    # agent1: READY 0-185, 195-400, 410-600, 2400-4200; ACW 185-195, 400-410; Lunch 600-2400.
    # On calls while READY: 60-185, 315-400, 2500-2508, 4000-4003 = 221 s.
    assert {k: u1[k] for k in ("readytime", "idletime", "acwtime", "auxtime")} == {
        "readytime": 2380,
        "idletime": 2380 - 221,
        "acwtime": 20,
        "auxtime": 1800,
    }
    assert u1["auxtimes"] == {"Lunch": 1800}
    assert {k: u1[k] for k in _CALL_FIGURES} == {
        "in_ringtime": 5 + 5 + 8 + 3,
        "in_talktime": 120 + 80,
        "in_calls_answered": 2,
        "in_calls_unanswered": 1,  # E; C was picked up by agent3, not missed
        "out_ringtime": 0,
        "out_talktime": 0,
        "out_calls_answered": 0,
        "out_calls_unanswered": 0,
        "ringtime": 21,
        "talktime": 200,
        "transferred": 1,
        "transferred_external": 0,
    }
    assert _figures(u1, 1) == (2, 1, 13, 200, 1, 0, 600)
    assert _figures(u1, 2) == (0, 0, 8, 0, 0, 0, 0)
    assert _figures(u1, 3) == (0, 0, 0, 0, 0, 0, 0)

    # agent2: READY 0-3604, 3614-4200; ACW 3604-3614. On calls: 300-315, 380-520,
    # 3000-3061, 3100-3130, 3500-3604 = 350 s.
    assert {k: u2[k] for k in ("readytime", "idletime", "acwtime", "auxtime")} == {
        "readytime": 4190,
        "idletime": 4190 - 350,
        "acwtime": 10,
        "auxtime": 0,
    }
    assert {k: u2[k] for k in _CALL_FIGURES} == {
        "in_ringtime": 15 + 4,
        "in_talktime": 100,
        "in_calls_answered": 1,
        "in_calls_unanswered": 1,
        "out_ringtime": 1 + 30,
        "out_talktime": 60,
        "out_calls_answered": 1,
        "out_calls_unanswered": 1,
        "ringtime": 50,
        "talktime": 160,
        "transferred": 0,
        "transferred_external": 0,
    }
    assert _figures(u2, 1) == (1, 1, 19, 100, 0, 0, 0)
    assert _figures(u2, 3) == (1, 1, 31, 60, 0, 0, 0)

    # agent3: READY all morning; one Sales call, ringing 8 s and talking 100 s.
    assert (u3["readytime"], u3["idletime"], u3["in_ringtime"], u3["in_talktime"]) == (
        4200,
        4200 - 108,
        8,
        100,
    )
    assert _figures(u3, 2) == (1, 0, 8, 100, 0, 0, 0)

    causes = {uid: vc.cause_of(UniqueId(uid)) for uid in vc.records}
    assert causes == {
        call_a: Cause.CALLER_HANGUP,
        call_b: Cause.CALLED_HANGUP,
        consultation: Cause.TRANSFER,
        call_c: Cause.CALLED_HANGUP,
        out_1: Cause.CALLER_HANGUP,
        out_2: Cause.UNAVAILABLE,
        call_d: Cause.CALLER_HANGUP,
        call_e: Cause.CALLER_HANGUP,
    }
    record_b = vc.records[UniqueId(call_b)].call
    assert (record_b["connected_username"], record_b["connected"], record_b["disconnected"]) == (
        "agent2",
        MORNING + 320,
        MORNING + 520,
    )
    assert vc.records[UniqueId(out_1)].call["outbound_id"] == 3


_CALL_FIGURES = (
    "in_ringtime in_talktime in_calls_answered in_calls_unanswered out_ringtime out_talktime "
    "out_calls_answered out_calls_unanswered ringtime talktime transferred transferred_external"
).split()


def _figures(user: dict[str, Any], queue: int) -> tuple[int, ...]:
    q = user["queues"][queue]
    return tuple(
        q[k]
        for k in (
            "answered",
            "unanswered",
            "ringtime",
            "talktime",
            "transferred",
            "transferred_external",
            "suspendtime",
        )
    )


def test_a_whole_day_of_traffic_adds_up_and_starts_again_at_midnight() -> None:
    """08:00-16:00 of callers into Support and Sales, phones answering after 2 s by themselves;
    every second of talk in the statistics is in the call records, and midnight starts afresh."""
    import random

    from tests.conftest import make_center

    vc = make_center()
    for line in (1, 2, 3):
        vc.switch.auto_answer[LineId(line)] = 2.0
    clients = [vc.agent_ready(f"agent{i}", f"agent{i}-pass", f"phone{i}") for i in (1, 2, 3)]
    rng = random.Random(20261124)
    hangups: dict[str, float] = {}
    next_caller = MORNING + rng.uniform(20, 90)
    end = MORNING + 8 * 3600
    while vc.now < end or hangups:
        if next_caller >= end:
            next_caller = float("inf")  # the doors close at 16:00; the last callers finish
        step = min([next_caller, *hangups.values()])
        vc.advance(step - vc.now)
        for uid, when in list(hangups.items()):
            if when <= vc.now:
                del hangups[uid]
                if UniqueId(uid) in vc.center.calls:
                    vc.caller_hangs_up(UniqueId(uid))
        if next_caller <= vc.now:
            uid = vc.caller(rng.choice((1, 2)), f"+42060{rng.randrange(1000000, 9999999)}")
            hangups[uid] = vc.now + rng.uniform(40, 400)  # patience or talk, whichever comes
            next_caller = vc.now + rng.uniform(20, 90)
    assert not vc.center.calls

    users = [vc.call(c, "state")["user"] for c in clients]
    answered = [r.call for r in vc.records.values() if r.call["connected"] is not None]
    abandoned = [r.call for r in vc.records.values() if r.call["connected"] is None]
    assert len(answered) > 300
    assert sum(u["in_calls_answered"] for u in users) == len(answered)
    assert all(c["cause"] == Cause.CALLER_HANGUP for c in abandoned)
    talk = sum(c["disconnected"] - c["connected"] for c in answered)
    assert abs(sum(u["in_talktime"] for u in users) - talk) <= len(users)  # rounding per agent
    for c in answered:  # the phone answers 2 s after it starts ringing
        assert c["connected_username"] in ("agent1", "agent2", "agent3")
    elapsed = vc.now - MORNING
    for client, user in zip(clients, users, strict=True):
        agent = vc.center.agents[vc.center.clients[client]]  # type: ignore[index]
        s = agent.stats_at(vc.now)
        assert abs(s.readytime + s.acwtime + s.auxtime + s.offlinetime - elapsed) < 1e-6
        assert user["readytime"] + user["acwtime"] == round(elapsed)

    midnight = datetime(2026, 11, 25, 0, 0, tzinfo=PRAGUE).timestamp()
    vc.advance(midnight - vc.now + 60)
    after = vc.call(clients[0], "state")["user"]
    assert (after["readytime"], after["in_calls_answered"], after["in_talktime"]) == (60, 0, 0)
