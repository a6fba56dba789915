"""The shortest path through the core: a caller reaches an agent who answers and hangs up."""

from __future__ import annotations

from ucs.core.model import CallState, Cause
from ucs.virtual import VirtualCenter


def test_queue_call_rings_an_agent_who_answers_and_hangs_up(vc: VirtualCenter) -> None:
    agent = vc.agent_ready("agent2", "agent2-pass", "phone2")
    uid = vc.caller(1)
    assert [(w, c["state"]) for w, c in vc.calls_seen(agent)] == [("ringing", CallState.RINGING)]
    vc.advance(3)
    vc.call(agent, "answer")
    vc.advance(60)
    vc.call(agent, "hangup")
    assert vc.cause_of(uid) is Cause.CALLED_HANGUP
    user = vc.call(agent, "state")["user"]
    assert (user["in_ringtime"], user["in_talktime"], user["in_calls_answered"]) == (3, 60, 1)
    assert user["status"] == "ACW"  # Support has 10 s of wrap-up
    vc.advance(10)
    assert vc.call(agent, "state")["user"]["status"] == "READY"


def test_the_simulated_switch_is_a_switch() -> None:
    from ucs.switch import SimulatedSwitch, Switch

    switch: Switch = SimulatedSwitch()
    assert switch.next_deadline() is None
