"""A supervisor's listen and barge as the core decides them (CONTRACT §11): rights, the mode
changed on the same monitoring, ``hangup()`` ending it and nothing else, the call's end ending
it, and the ``Monitor`` effects and ``monitor.changed`` pushes."""

from __future__ import annotations

import pytest

from tests.core.helpers import custom, member_of, queue_config
from ucs.core.directory import Membership, Strategy
from ucs.core.effects import Monitor
from ucs.core.errors import Forbidden, NotFound
from ucs.core.events import MediaStatus
from ucs.core.ids import ClientId, QueueId, UniqueId
from ucs.virtual import VirtualCenter


def _center() -> tuple[VirtualCenter, ClientId, ClientId, UniqueId]:
    """agent1 in Q1 on a call on the softphone; agent4 supervises Q1 on the softphone;
    agent3 is in Q2 only."""
    vc = custom(
        [queue_config(1, Strategy.LONGEST_IDLE), queue_config(2, Strategy.LONGEST_IDLE)],
        {1: member_of(1), 3: member_of(2), 4: (Membership(QueueId(1), supervisor=True),)},
    )
    vc.feed(MediaStatus(True))
    agent = vc.agent_ready("agent1", "agent1-pass", "softphone")
    boss = vc.agent_ready("agent4", "agent4-pass", "softphone")
    uid = vc.caller(1)
    vc.call(agent, "answer")
    return vc, agent, boss, uid


def _modes(vc: VirtualCenter) -> list[str | None]:
    return [e.mode for e in vc.effects if isinstance(e, Monitor)]


def test_listen_then_barge_on_the_same_monitoring_and_hangup_ends_only_it() -> None:
    vc, agent, boss, uid = _center()
    assert vc.call(boss, "listen", 1) == {"uniqueid": uid, "userId": 1, "mode": "listen"}
    assert vc.call(boss, "listen", 1)["mode"] == "listen"  # already: nothing more
    assert vc.call(boss, "barge", 1)["mode"] == "barge"
    assert vc.call(boss, "whisper", 1)["mode"] == "whisper"
    assert vc.call(boss, "listen", 1)["mode"] == "listen"
    assert _modes(vc) == ["listen", "barge", "whisper", "listen"]
    pushed = [m["mode"] for m in vc.messages(boss, "monitor.changed")]
    assert pushed == ["listen", "barge", "whisper", "listen"]
    # The agent's browser is told to hear the coach while the supervisor whispers.
    coach = [(m["uniqueid"], m["on"]) for m in vc.messages(agent, "monitor.coach")]
    assert coach == [(uid, True), (uid, False)]
    vc.call(boss, "hangup")
    assert _modes(vc)[-1] is None
    assert vc.center.monitors == {}
    assert vc.center.calls[uid].state == 3  # the agent's call goes on
    assert vc.call(agent, "state")["call"]["uniqueid"] == uid


def test_the_calls_end_ends_the_monitoring() -> None:
    vc, agent, boss, _ = _center()
    vc.call(boss, "whisper", 1)
    vc.call(agent, "hangup")
    assert vc.center.monitors == {}
    assert vc.messages(boss, "monitor.changed")[-1]["mode"] is None
    assert vc.messages(agent, "monitor.coach")[-1]["on"] is False


def test_refusals_change_nothing() -> None:
    vc, agent, boss, _ = _center()
    with pytest.raises(Forbidden):
        vc.call(boss, "listen", 3)  # not in the team
    with pytest.raises(Forbidden):
        vc.call(agent, "listen", 4)  # agent1 supervises nothing
    with pytest.raises(NotFound):
        vc.call(boss, "barge", 99)
    vc.call(agent, "hangup")
    with pytest.raises(NotFound):
        vc.call(boss, "listen", 1)  # no connected call
    assert vc.center.monitors == {} and _modes(vc) == []
