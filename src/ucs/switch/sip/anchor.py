"""Calls whose audio is anchored in the media engine (CONTRACT §10), on sippy's thread.

With a media engine running, the B2BUA no longer passes one leg's SDP to the other: each leg's
endpoint joins the call's room in the engine as a plain-RTP participant, and is told the
engine's address for it. The caller's INVITE carries its offer: its audio joins the room (as
the far party, or as the agent's side for one of our phones calling out), and the caller is
answered with the engine's address, at once when its queue plays something to waiting callers
(the greeting, the music), else when the other side answers. Every INVITE we send is without a
body (a late offer): the phone's 200 carries its offer, its audio joins the room, and our ACK
carries the engine's address. So each SDP names the address that peer really sends from, and
the engine (which takes a participant's RTP from the address it was given only) hears it.

Joining the room is asynchronous (the engine's API is on the event loop): ``anchor`` is asked
with a callback, called back here with the engine's address (None: the engine refused or is
down, and the call ends). Hold, mute and recording are then the engine's (the conductor's, in
``ucs.media``); a re-INVITE from a phone is answered with the same address and never passed on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sippy.CCEvents import CCEventConnect

from ucs.core.directory import Directory, LineConfig
from ucs.core.effects import Monitor, Originate, PickUp, Ring, SwitchEffect
from ucs.core.events import (
    Answered,
    AudioAnchored,
    Event,
    HungUp,
    MonitorLeft,
    Operation,
    SwitchFailed,
)
from ucs.core.ids import LineId, UniqueId
from ucs.core.model import Cause
from ucs.core.softphone import is_softphone
from ucs.media.base import Anchored
from ucs.media.sdp import (
    Audio,
    answer_direction,
    audio_of,
    direction,
    engine_sdp,
    with_direction,
)
from ucs.switch.sip.legs import Leg, Role, SipCall

__all__ = ["Anchor", "Anchoring"]

log = logging.getLogger("ucs.sip")

Anchor = Callable[[UniqueId, str, Audio, Callable[[Anchored | None], None]], None]
"""Join ``party`` (``far`` or ``agent``) of the call, whose audio is ``Audio``, to its room;
the callback gets the address for it (on sippy's thread: the engine's, or rtpengine's in
front of it when it reads the leg's RFC 4733 keys), or None."""


class Anchoring:
    """The anchored calls' part of the ``B2BUA``."""

    anchor: Anchor | None
    anchor_ready: Callable[[], bool]
    report_event: Callable[[Event], None]
    calls: dict[UniqueId, SipCall]
    directory: Callable[[], Directory]

    if TYPE_CHECKING:  # LegControl's, which the B2BUA also is

        def _body(self, leg: Leg, sdp: str) -> Any: ...
        def _end(self, call: SipCall, cause: Cause = Cause.UNKNOWN) -> None: ...
        def _update(self, leg: Leg, sdp: str | None, how: str | None = None) -> None: ...
        def _report(self, call: SipCall, event: Event) -> None: ...
        def _drop(self, leg: Leg, cause: Cause = Cause.UNKNOWN) -> None: ...
        def _ringing(self, leg: Leg) -> None: ...
        def _dial_planned(self, call: SipCall) -> None: ...
        def _ring_phone(
            self,
            call: SipCall,
            role: Role,
            line: LineConfig,
            caller: str,
            name: str | None,
            sdp: str | None,
            *,
            answer: bool,
        ) -> Leg | None: ...

    def anchors(self, sdp: str | None) -> bool:
        """Whether a new call whose caller offered ``sdp`` is anchored: the engine runs and
        the offer has a G.711 audio stream (else its SDP is passed on, as without an engine)."""
        return self.anchor is not None and self.anchor_ready() and audio_of(sdp or "") is not None

    @staticmethod
    def offer_of(call: SipCall, leg: Leg | None) -> str | None:
        """What an INVITE for ``call`` offers: ``leg``'s SDP, or nothing (a late offer) when the
        call is anchored."""
        if call.anchored or leg is None:
            return None
        return leg.sdp

    def party_of(self, leg: Leg) -> str:
        """Which side of the call ``leg``'s endpoint is in the room: the caller from outside
        (or into a queue) is the far party, one of our phones calling out the agent's side;
        any other leg is the other side of the leg it is bridged with."""
        if leg.party is not None:
            return leg.party
        call = leg.call
        if leg.role is Role.IN:
            return "far" if leg.phone is None or call.queue else "agent"
        if leg.role is Role.AGENT:
            return "agent"
        other = call.other(leg) or call.a
        if other is None or other is leg:
            return "far" if leg.role is Role.FAR else "agent"
        return "far" if self.party_of(other) == "agent" else "agent"

    def anchor_leg(self, leg: Leg) -> None:
        """Join ``leg``'s endpoint (its SDP) to the call's room; ``_anchored`` goes on."""
        call = leg.call
        audio = audio_of(leg.sdp or "")
        if audio is None or call.uid is None or self.anchor is None:
            self._anchor_failed(leg, "its SDP has no G.711 audio stream")
            return
        leg.audio, leg.party = audio, self.party_of(leg)
        self.anchor(call.uid, leg.party, audio, lambda address: self._anchored(leg, address))

    def _anchored(self, leg: Leg, address: Anchored | None) -> None:
        if leg.closing:
            return
        if address is None or leg.audio is None:
            self._anchor_failed(leg, "the media engine did not take its audio")
            return
        leg.engine = engine_sdp(address[:2], leg.audio.payload, dtmf=address.dtmf)
        self.tell_anchored(leg.call)
        if leg.awaiting_ack:  # it answered our late offer: the ACK carries our answer
            leg.awaiting_ack = False
            leg.ua.recvEvent(CCEventConnect((200, "OK", self._body(leg, leg.engine))))
        elif leg.up:  # moved to another room (a transfer): told the new address
            self._update(leg, leg.engine)
        self.answer_caller(leg.call)

    def tell_anchored(self, call: SipCall) -> None:
        """Tell the core the call's audio is in the engine once both its sides are in the room
        (told again when a transfer brings a new side in; the core keeps the first word).
        Told before the phone gets our ACK, so before anything it then does."""
        sides = (call.a, call.b)
        if all(x is not None and x.engine is not None and not x.closing for x in sides):
            self._report(call, AudioAnchored(call.uid, True))  # type: ignore[arg-type]

    def tell_not_anchored(self, call: SipCall) -> None:
        """A new call whose audio will not be in the engine (its caller's SDP has no G.711
        stream, or the engine is down): the core records and monitors none of it."""
        if self.anchor is not None:
            self._report(call, AudioAnchored(call.uid, False))  # type: ignore[arg-type]

    def answer_caller(self, call: SipCall) -> None:
        """Answer the caller with the engine's address, once its audio is in the room and
        either its queue plays to waiting callers or the other side answered."""
        caller = call.a
        if (
            caller is None
            or caller.role is not Role.IN
            or caller.up
            or caller.closing
            or caller.engine is None
        ):
            return
        other = call.b
        if not call.answer_now and (other is None or other.engine is None):
            return
        caller.up = True
        caller.ua.recvEvent(CCEventConnect((200, "OK", self._body(caller, caller.engine))))

    def _anchor_failed(self, leg: Leg, why: str) -> None:
        """A leg's audio cannot be in the room: the call ends (nobody would hear it); a
        supervisor's phone only leaves it."""
        call = leg.call
        log.warning("call %s: the audio of %s is not anchored (%s)", call.uid, leg.channel, why)
        if leg.role is Role.MONITOR:
            self._drop(leg)
            self.monitor_left(leg)
            return
        self._report(call, AudioAnchored(call.uid, False))  # type: ignore[arg-type]
        self._report(call, HungUp(call.uid, None))  # type: ignore[arg-type]
        self._end(call, Cause.UNAVAILABLE)

    def reinvited_anchored(self, leg: Leg, sdp: str | None) -> None:
        """A re-INVITE from an anchored leg (a phone's own hold, a refresh): answered with the
        engine's address, in the answering direction; the other side is not told."""
        if sdp is not None:
            leg.sdp = sdp
        base = leg.engine or leg.last_sent or ""
        how = answer_direction(direction(sdp)) if sdp else "sendrecv"
        answer = with_direction(base, how) if base else base
        leg.ua.recvEvent(CCEventConnect((200, "OK", self._body(leg, answer))))

    # --- a supervisor's desk phone, called into a call's audio (CONTRACT §11) --------------

    def monitor(self, effect: Monitor) -> None:
        """A monitoring from a desk phone begins (its phone is called, answering at once, with
        a late offer; its audio joins the call's room as the supervisor, whom the engine mutes
        unless barging), changes mode (the engine's alone), or ends (the phone is hung up)."""
        if effect.line is None:
            return
        call = self.calls.get(effect.uniqueid)
        leg = call.monitors.get(effect.line) if call is not None else None
        if effect.mode is None:
            if call is not None and leg is not None:
                del call.monitors[effect.line]
                self._drop(leg)
            return
        if leg is not None:
            return
        line = self.directory().lines.get(effect.line)
        if call is None or not call.anchored or line is None:
            self.report_event(MonitorLeft(effect.uniqueid, effect.line))
            return
        leg = self._ring_phone(call, Role.MONITOR, line, "monitor", "Monitoring", None, answer=True)
        if leg is None:
            log.warning(
                "call %s: supervisor's phone %s is not registered", call.uid, line.identifier
            )
            self.report_event(MonitorLeft(effect.uniqueid, effect.line))
            return
        leg.party = "supervisor"
        call.monitors[effect.line] = leg

    def monitor_left(self, leg: Leg) -> None:
        """A supervisor's phone hung up, turned the call down or could not be anchored: the
        monitoring ends, the call goes on."""
        call, line = leg.call, leg.line
        leg.closing = True
        if line is None or call.monitors.get(line) is not leg:
            return
        del call.monitors[line]
        self._report(call, MonitorLeft(call.uid, line))  # type: ignore[arg-type]

    # --- the browser softphone: a leg without SIP, whose audio the browser brings ----------

    def softphone(self, call: SipCall | None, effect: SwitchEffect) -> bool:
        """Carry out ``effect`` when it is about a softphone's line (True), which has no SIP:
        ringing and answering it are told to the core at once, and the browser joins the
        call's room itself (``media.offer``). The other effects (stop ringing, hold, transfer,
        hang-up) treat its leg as any, which never sends SIP (it has no ``ua``)."""
        line: LineId | None = getattr(effect, "line", None)
        if not is_softphone(line) or line is None:
            return False
        if isinstance(effect, Originate):
            self._softphone_dials(effect, line)
        elif call is None:
            pass
        elif isinstance(effect, Ring):
            if not call.anchored or call.a is None:
                why = "the call's audio is not in the media engine"
                self._report(call, SwitchFailed(call.uid, Operation.RING, why, line))  # type: ignore[arg-type]
            elif line not in call.ringing:
                leg = call.ringing[line] = self._browser(call, Role.RING, line)
                self._ringing(leg)
        elif isinstance(effect, PickUp):
            ringing = call.ringing.pop(line, None)
            if ringing is None or call.b is not None:
                why = "the softphone is not ringing"
                self._report(call, SwitchFailed(call.uid, Operation.ANSWER, why))  # type: ignore[arg-type]
                return True
            for other in list(call.ringing.values()):
                self._drop(other, Cause.PICKUP)
            call.ringing.clear()
            ringing.up, call.b = True, ringing
            self._report(call, Answered(call.uid, line))  # type: ignore[arg-type]
            self.answer_caller(call)
        else:
            return False
        return True

    def _softphone_dials(self, effect: Originate, line: LineId) -> None:
        """``dial()`` on the softphone: its leg is up at once; the number is called (a late
        offer) and its audio joins the room, where the browser is."""
        if not (self.anchor is not None and self.anchor_ready()):
            why = "no media engine is running"
            self.report_event(SwitchFailed(effect.uniqueid, Operation.ORIGINATE, why))
            return
        call = SipCall(uid=effect.uniqueid, plan=(effect.number, effect.target), anchored=True)
        self.calls[effect.uniqueid] = call
        call.a = self._browser(call, Role.AGENT, line)
        call.a.up = True
        self._dial_planned(call)

    @staticmethod
    def _browser(call: SipCall, role: Role, line: LineId) -> Leg:
        """The softphone's leg: the agent's side, in the room through the browser."""
        leg = Leg(call, role, f"WebRTC/{-line}", line=line, report_line=line, party="agent")
        leg.engine = ""  # its audio is in the room (the browser's own answer, not ours)
        return leg
