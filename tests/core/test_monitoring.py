"""A supervisor's listen and barge as the core decides them (CONTRACT §11): rights, the mode
changed on the same monitoring, ``hangup()`` ending it and nothing else, the call's end ending
it, and the ``Monitor`` effects and ``monitor.changed`` pushes."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.helpers import custom, member_of, queue_config
from ucs.core.directory import Membership, Strategy
from ucs.core.effects import Monitor
from ucs.core.errors import Forbidden, MediaUnavailable, NotFound, UcsError
from ucs.core.events import Attach, AudioAnchored, Disconnect, MediaStatus, MonitorLeft
from ucs.core.ids import AgentId, ClientId, LineId, QueueId, UniqueId
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


# --- an agent on a desk phone (``--switch sip``): monitored once the call is anchored -----


def _desk_center(
    agent_phone: str = "phone1", boss_phone: str = "softphone"
) -> tuple[VirtualCenter, ClientId, ClientId, UniqueId]:
    """agent1 in Q1 on a call, agent4 supervising Q1, a switch that anchors phones' calls;
    each on the phone given (by default agent1 on phone1, agent4 on the softphone)."""
    vc = custom(
        [queue_config(1, Strategy.LONGEST_IDLE)],
        {1: member_of(1), 4: (Membership(QueueId(1), supervisor=True),)},
    )
    vc.feed(MediaStatus(True, phones=True))
    agent = vc.agent_ready("agent1", "agent1-pass", agent_phone)
    boss = vc.agent_ready("agent4", "agent4-pass", boss_phone)
    uid = vc.caller(1)
    vc.call(agent, "answer")
    return vc, agent, boss, uid


def test_a_desk_phones_call_is_monitored_once_anchored() -> None:
    vc, agent, boss, uid = _desk_center()
    with pytest.raises(MediaUnavailable):  # not anchored yet
        vc.call(boss, "listen", 1)
    assert vc.center.monitors == {}
    vc.feed(AudioAnchored(uid, True))
    assert vc.call(boss, "listen", 1)["mode"] == "listen"
    assert vc.call(boss, "barge", 1)["mode"] == "barge"
    assert vc.call(boss, "whisper", 1)["mode"] == "whisper"  # (the media plane bridges it)
    assert _modes(vc) == ["listen", "barge", "whisper"]
    monitors = [e for e in vc.effects if isinstance(e, Monitor)]
    assert {e.line for e in monitors} == {None}  # the supervisor is on the softphone
    vc.call(agent, "hangup")
    assert vc.center.monitors == {} and _modes(vc)[-1] is None


def test_a_desk_phones_call_that_could_not_be_anchored_is_not_monitored() -> None:
    vc, _, boss, uid = _desk_center()
    vc.feed(AudioAnchored(uid, False))
    for mode in ("listen", "whisper", "barge"):
        with pytest.raises(MediaUnavailable):
            vc.call(boss, mode, 1)
    assert vc.center.monitors == {} and _modes(vc) == []


def test_a_supervisor_on_a_desk_phone_is_called_on_it_and_its_hang_up_ends_it() -> None:
    """``--switch sip``: the supervisor's desk phone (phone4) is named in the ``Monitor``
    effects (the switch calls it, then hangs it up); listen, barge and whisper change the
    mode on the same call; the phone hanging up (``MonitorLeft``) ends the monitoring
    and the agent's call goes on."""
    vc, _, boss, uid = _desk_center("softphone", "phone4")
    assert vc.call(boss, "listen", 1)["mode"] == "listen"
    assert vc.call(boss, "barge", 1)["mode"] == "barge"
    assert vc.call(boss, "whisper", 1)["mode"] == "whisper"
    monitors = [e for e in vc.effects if isinstance(e, Monitor)]
    assert [(e.mode, e.line) for e in monitors] == [("listen", 4), ("barge", 4), ("whisper", 4)]
    vc.feed(MonitorLeft(uid, LineId(3)))  # another phone: nothing
    vc.feed(MonitorLeft(UniqueId("other"), LineId(4)))
    assert vc.center.monitors[AgentId(4)].mode == "whisper"
    vc.feed(MonitorLeft(uid, LineId(4)))
    assert vc.center.monitors == {} and _modes(vc)[-1] is None
    assert vc.messages(boss, "monitor.changed")[-1]["mode"] is None
    assert vc.center.calls[uid].state == 3


def test_a_desk_phone_supervisor_without_a_switch_that_anchors_phones_is_refused() -> None:
    """The simulated switch (no phones' audio in the engine): a desk phone cannot monitor."""
    vc, _, boss, _ = _center()
    vc.call(boss, "identify")
    vc.call(boss, "selectIdentifier", "phone4")
    vc.call(boss, "provision")
    with pytest.raises(MediaUnavailable):
        vc.call(boss, "listen", 1)
    assert vc.center.monitors == {}


# --- a reloaded supervisor's tab: the snapshot carries the monitoring ---------------------


def _reloaded(vc: VirtualCenter, boss: ClientId) -> dict[str, object]:
    """What a reloaded tab of agent4 is told: the snapshot of a resume (``session.joined``),
    which a login in a new tab answers alike."""
    vc.feed(Disconnect(boss))
    tab = vc.connect()
    vc.feed(Attach(tab, AgentId(4)))
    joined = vc.messages(tab, "session.joined")[-1]
    assert vc.call(vc.connect(), "login", "agent4", "agent4-pass") == joined
    return joined


def test_a_reloaded_tab_is_told_of_the_monitoring_going_on() -> None:
    vc, agent, boss, uid = _center()
    vc.call(boss, "whisper", 1)
    joined = _reloaded(vc, boss)
    assert joined["monitoring"] == {"uniqueid": uid, "userId": 1, "mode": "whisper"}
    assert vc.center.monitors[AgentId(4)].mode == "whisper"  # the reload ended nothing
    # The agent's own snapshot has no monitoring of theirs, but the whisper on their call
    # (``coach``: a reloaded tab hears the coach again); after the call, nor has agent4's.
    mine = vc.call(vc.connect(), "login", "agent1", "agent1-pass")
    assert mine["monitoring"] is None and mine["coach"] == [uid]
    assert joined["coach"] == []
    vc.call(agent, "hangup")
    assert _reloaded(vc, vc.connect())["monitoring"] is None


ACTIONS = st.lists(
    st.sampled_from(["listen", "whisper", "barge", "hangup", "reload", "call ends"]), max_size=12
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ACTIONS)
def test_the_snapshot_always_says_the_monitoring_going_on(actions: list[str]) -> None:
    """Whatever the supervisor did (and tabs reloaded, and calls ended meanwhile), a reloaded
    tab's snapshot says the monitoring as the last ``listen``/``whisper``/``barge`` answered
    it, or None once ``hangup()`` or the call's end ended it."""
    vc, agent, boss, uid = _center()
    expected: dict[str, object] | None = None
    for action in actions:
        if action == "reload":
            boss = vc.connect()
            vc.feed(Attach(boss, AgentId(4)))
            assert vc.messages(boss, "session.joined")[-1]["monitoring"] == expected
            tab = vc.connect()  # a reloaded tab of the agent's hears the whisper again
            vc.feed(Attach(tab, AgentId(1)))
            coach = vc.messages(tab, "session.joined")[-1]["coach"]
            assert coach == ([uid] if expected and expected["mode"] == "whisper" else [])
        elif action == "call ends":
            vc.caller_hangs_up(uid)
            expected = None
            uid = vc.caller(1)
            vc.call(agent, "answer")
        elif action == "hangup":
            with contextlib.suppress(UcsError):
                vc.call(boss, "hangup")
            expected = None
        else:
            expected = vc.call(boss, action, 1)
    assert _reloaded(vc, boss)["monitoring"] == expected
