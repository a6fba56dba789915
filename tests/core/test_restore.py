"""What the core records is enough to bring every agent back after a restart."""

from __future__ import annotations

from typing import Any

from tests.conftest import MORNING, make_center
from ucs.core.effects import AgentRecord, SessionRecord
from ucs.core.ids import AgentId
from ucs.virtual import VirtualCenter


def _saved(vc: VirtualCenter) -> tuple[dict[AgentId, Any], dict[AgentId, Any]]:
    agents: dict[AgentId, Any] = {}
    sessions: dict[AgentId, Any] = {}
    for e in vc.effects:
        if isinstance(e, AgentRecord):
            agents[e.agent] = e.state
        elif isinstance(e, SessionRecord):
            sessions[e.agent] = {
                "phase": e.phase.value if e.phase else None,
                "identifier": e.identifier,
                "line": e.line,
                "last_identifier": e.last_identifier,
                "ringing_sound": e.ringing_sound,
                "theme": e.theme,
            }
    return agents, sessions


def test_a_restart_brings_back_phone_status_and_todays_statistics() -> None:
    vc = make_center()
    agent = vc.agent_ready("agent1", "agent1-pass", "phone1")
    vc.call(agent, "selectRingingSound", "quest")
    uid = vc.caller(1)
    vc.advance(4)
    vc.call(agent, "answer")
    vc.advance(56)
    vc.caller_hangs_up(uid)
    vc.advance(30)
    vc.call(agent, "changeStatus", "AUX", "Break")
    vc.call(agent, "suspend", 2)
    vc.advance(100)
    before = vc.call(agent, "state")
    agents, sessions = _saved(vc)

    later = make_center(start=vc.now + 20)  # the server was down for 20 s
    later.center.restore(agents, sessions, later.now)
    tab = later.connect()
    later.call(tab, "login", "agent1", "agent1-pass")
    after = later.call(tab, "state")
    assert (after["state"], after["identifier"], after["line"]) == ("READY", "phone1", 1)
    assert after["ringingSound"] == "quest"
    user, was = after["user"], before["user"]
    assert user["status"] == "AUX" and user["queues"][2]["suspended"]
    assert (user["in_calls_answered"], user["in_talktime"], user["in_ringtime"]) == (1, 56, 4)
    assert user["auxtimes"] == {"Break": was["auxtimes"]["Break"] + 20}
    assert user["readytime"] == was["readytime"]


def test_statistics_of_an_earlier_day_are_not_restored() -> None:
    vc = make_center()
    agent = vc.agent_ready("agent2", "agent2-pass", "phone2")
    vc.advance(3600)
    agents, sessions = _saved(vc)
    tomorrow = make_center(start=MORNING + 86_400)
    tomorrow.center.restore(agents, sessions, tomorrow.now)
    tab = tomorrow.connect()
    tomorrow.call(tab, "login", "agent2", "agent2-pass")
    user = tomorrow.call(tab, "state")["user"]
    assert user["status"] == "READY" and user["readytime"] == 0
    assert agent  # the first center's connection played its part
