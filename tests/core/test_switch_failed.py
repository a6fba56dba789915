"""What the switch could not carry out comes back as ``SwitchFailed`` naming the operation
(``Operation``), whichever switch failed: a PickUp the SIP switch failed on is a failed
``answer`` (told to the agent who answered only), a Redirect a failed ``blind_transfer`` (the
transfer's pending state undone, so that the agent can try again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.conftest import make_center
from ucs.core.effects import PickUp, Redirect, SwitchEffect
from ucs.core.events import Event
from ucs.core.ids import UniqueId
from ucs.core.model import CallState
from ucs.demo import demo_directory
from ucs.switch.simulated import SimulatedSwitch
from ucs.switch.sip.b2bua import B2BUA
from ucs.switch.sip.legs import SipCall
from ucs.virtual import VirtualCenter


def _unreachable_directory() -> object:
    raise RuntimeError("the directory went away")


def _b2bua_failing(effect: SwitchEffect) -> list[Event]:
    """What the SIP switch reports when carrying out ``effect`` raises (here: its directory
    cannot be read)."""
    reported: list[Event] = []
    b2bua = B2BUA(
        host="127.0.0.1",
        port=5060,
        trunk=None,
        directory=_unreachable_directory,  # type: ignore[arg-type]
        secret=lambda _: None,
        report=reported.append,
        arrived=lambda _: None,
    )
    b2bua.calls[effect.uniqueid] = SipCall(uid=effect.uniqueid)
    b2bua.apply(effect)
    return reported


@dataclass
class _SipFailing(SimulatedSwitch):
    """The simulated switch, but the effects of the kinds in ``crash`` go to a SIP B2BUA that
    fails carrying them out."""

    crash: tuple[type, ...] = field(default=())

    def apply(self, effect: SwitchEffect, now: float) -> list[Event]:
        if isinstance(effect, self.crash):
            return _b2bua_failing(effect)
        return SimulatedSwitch.apply(self, effect, now)


def _center(*crash: type) -> VirtualCenter:
    vc = make_center()
    vc.switch = _SipFailing(region=demo_directory().region, crash=crash)
    return vc


def test_a_pickup_the_sip_switch_failed_is_told_to_the_agent_who_answered_only() -> None:
    vc = _center(PickUp)
    a1 = vc.agent_ready("agent1", "agent1-pass", "phone1")
    a3 = vc.agent_ready("agent3", "agent3-pass", "phone3")
    uid = vc.caller(2)  # Sales rings both
    vc.call(a1, "answer")
    assert [e["code"] for e in vc.messages(a1, "error")] == ["SWITCH_FAILURE"]
    assert vc.messages(a3, "error") == []  # agent3 did nothing that failed
    assert vc.center.calls[uid].state is CallState.RINGING
    assert "could not answer call" in vc.messages(a1, "error")[0]["message"]


def test_a_redirect_the_sip_switch_failed_undoes_the_blind_transfer() -> None:
    vc = _center(Redirect)
    a1 = vc.agent_ready("agent1", "agent1-pass", "phone1")
    uid: UniqueId = vc.caller(1)
    vc.advance(2)
    vc.call(a1, "answer")
    vc.call(a1, "blindTransfer", "1002")
    errors = vc.messages(a1, "error")
    assert [e["code"] for e in errors] == ["SWITCH_FAILURE"]
    call = vc.call(a1, "state")["call"]
    assert (call["uniqueid"], call["state"]) == (uid, CallState.CONNECTED)
    vc.switch = SimulatedSwitch(region=demo_directory().region)
    vc.call(a1, "blindTransfer", "1002")  # not "already being transferred": it can try again
    assert vc.call(a1, "state")["calls"] == []
    assert "could not blind transfer call" in errors[0]["message"]
