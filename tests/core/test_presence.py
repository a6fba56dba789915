"""No ghost agents (issue 17, item 6): an agent whose phone is the browser softphone goes
OFFLINE ``GRACE`` seconds after the last connection of its session left, unless one came back
in the meantime; an agent on a desk phone stays as it was."""

from __future__ import annotations

from ucs.core.events import Attach, Disconnect, MediaStatus
from ucs.core.ids import AgentId, ClientId
from ucs.core.presence import GRACE
from ucs.virtual import VirtualCenter


def _softphone_agent(vc: VirtualCenter, n: int = 1) -> ClientId:
    vc.feed(MediaStatus(True))
    return vc.agent_ready(f"agent{n}", f"agent{n}-pass", "softphone")


def _status(vc: VirtualCenter, n: int = 1) -> str:
    return vc.center.agents[AgentId(n)].status.value


def test_a_softphone_agent_whose_last_tab_closed_goes_offline_after_the_grace(
    vc: VirtualCenter,
) -> None:
    tab = _softphone_agent(vc)
    other = vc.connect()
    vc.call(other, "login", "agent1", "agent1-pass")  # a second tab joins the session
    vc.feed(Disconnect(tab))
    vc.advance(GRACE * 2)
    assert _status(vc) == "READY"  # one tab is still open
    vc.feed(Disconnect(other))
    vc.advance(GRACE - 1)
    assert _status(vc) == "READY"
    vc.advance(1)
    assert _status(vc) == "OFFLINE"
    assert vc.status_log[-1].status.value == "OFFLINE"
    assert vc.center.logged_in(AgentId(1))  # the session stays: a new tab goes on from it
    uid = vc.caller(1)
    vc.advance(60)
    assert vc.center.calls[uid].offers == {}  # nobody rings an empty desk


def test_a_tab_that_comes_back_within_the_grace_keeps_the_agent_ready(vc: VirtualCenter) -> None:
    tab = _softphone_agent(vc)
    vc.feed(Disconnect(tab))
    vc.advance(GRACE - 5)
    again = vc.connect()
    vc.feed(Attach(again, AgentId(1)))  # the component reconnected and resumed the session
    vc.advance(GRACE * 3)
    assert _status(vc) == "READY"
    vc.feed(Disconnect(again))  # left again: the grace starts again from now
    vc.advance(GRACE - 1)
    assert _status(vc) == "READY"
    vc.advance(1)
    assert _status(vc) == "OFFLINE"


def test_an_agent_on_a_desk_phone_stays_ready_with_no_tab_open(vc: VirtualCenter) -> None:
    tab = vc.ready(1)
    vc.feed(Disconnect(tab))
    vc.advance(GRACE * 10)
    assert _status(vc) == "READY"


def test_an_agent_who_logged_out_and_in_again_is_not_put_offline_by_the_old_timer(
    vc: VirtualCenter,
) -> None:
    tab = _softphone_agent(vc)
    vc.feed(Disconnect(tab))
    vc.advance(10)
    again = vc.connect()
    vc.call(again, "login", "agent1", "agent1-pass")  # joins the session, READY
    vc.call(again, "logout")
    vc.call(again, "login", "agent1", "agent1-pass")  # a new session
    vc.call(again, "selectIdentifier", "softphone")
    vc.call(again, "provision")
    vc.call(again, "changeStatus", "READY")
    vc.advance(GRACE * 2)
    assert _status(vc) == "READY"
