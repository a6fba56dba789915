"""A desk phone's own hold button (``PhoneHeld``, ``ucs.core.phonehold``): the call goes HELD
and back as by ``hold()`` and ``unhold()``, with ``Hold`` / ``Unhold`` effects marked
``phone``; whatever does not fit the call's state changes nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import make_center
from tests.core.helpers import answered
from ucs.core.effects import Hold, Unhold
from ucs.core.events import HungUp, PhoneHeld
from ucs.core.ids import LineId, UniqueId
from ucs.core.model import CallState
from ucs.virtual import VirtualCenter

LINE = LineId(1)


def _holds(vc: VirtualCenter) -> list[Hold | Unhold]:
    return [e for e in vc.effects if isinstance(e, Hold | Unhold)]


def test_the_phones_hold_button_holds_and_resumes_the_call() -> None:
    vc = make_center()
    agent = vc.ready(1)
    uid = answered(vc, agent)
    vc.feed(PhoneHeld(uid, LINE, True))
    what, view = vc.last_call(agent, uid)
    assert (what, view["state"]) == ("change", CallState.HELD)
    assert _holds(vc) == [Hold(uid, LINE, phone=True)]
    assert vc.call(agent, "state")["call"]["state"] == CallState.HELD
    vc.feed(PhoneHeld(uid, LINE, False))
    what, view = vc.last_call(agent, uid)
    assert (what, view["state"]) == ("change", CallState.CONNECTED)
    assert _holds(vc)[-1] == Unhold(uid, LINE, phone=True)


def test_reports_that_do_not_fit_change_nothing() -> None:
    vc = make_center()
    agent = vc.ready(1)
    uid = answered(vc, agent)
    seen = len(vc.seen(agent, uid))
    vc.feed(PhoneHeld(uid, LINE, False))  # not held: nothing to resume
    vc.feed(PhoneHeld(uid, LineId(2), True))  # another phone, not on the call
    vc.feed(PhoneHeld(UniqueId("no-such-call"), LINE, True))
    assert len(vc.seen(agent, uid)) == seen and not _holds(vc)
    vc.call(agent, "transfer", "1002")  # suspended for a consultation: not held by the phone
    vc.feed(PhoneHeld(uid, LINE, True))
    assert vc.center.calls[uid].state is CallState.SUSPENDED
    assert not any(isinstance(e, Hold) and e.phone for e in vc.effects)


def test_an_ended_call_is_not_held() -> None:
    vc = make_center()
    agent = vc.ready(1)
    uid = answered(vc, agent)
    vc.feed(HungUp(uid, None))
    vc.feed(PhoneHeld(uid, LINE, True))
    assert not any(isinstance(e, Hold) for e in vc.effects)


ACTIONS = st.lists(
    st.sampled_from(["phone-hold", "phone-resume", "hold", "unhold", "wait"]), max_size=12
)


@settings(max_examples=40, deadline=None)
@given(ACTIONS)
def test_the_phone_and_the_api_agree_on_the_calls_state(actions: list[str]) -> None:
    """Any mix of the phone's button and the agent's commands: the call is HELD exactly when
    the last change that took was a hold; each change that took made one effect, the phone's
    marked ``phone``; a refused one made none."""
    vc = make_center()
    agent = vc.ready(1)
    uid = answered(vc, agent)
    held = False
    for action in actions:
        before = len(_holds(vc))
        if action == "phone-hold":
            vc.feed(PhoneHeld(uid, LINE, True))
            expected = None if held else Hold(uid, LINE, phone=True)
            held = True
        elif action == "phone-resume":
            vc.feed(PhoneHeld(uid, LINE, False))
            expected = Unhold(uid, LINE, phone=True) if held else None
            held = False
        elif action == "wait":
            vc.advance(1)
            expected = None
        else:
            hold = action == "hold"
            try:
                vc.call(agent, action)
            except Exception:
                assert held is hold  # refused: already in that state
                expected = None
            else:
                expected = Hold(uid, LINE) if hold else Unhold(uid, LINE)
            held = hold
        made = _holds(vc)[before:]
        assert made == ([expected] if expected is not None else [])
        state = vc.center.calls[uid].state
        assert state is (CallState.HELD if held else CallState.CONNECTED)
