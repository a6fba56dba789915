"""Re-INVITEs from the endpoints of a call, on sippy's thread (``b2bua.py``).

A phone's own hold button (a re-INVITE ``sendonly``, ``inactive`` or at 0.0.0.0, then
``sendrecv`` again) is told to the core (``PhoneHeld``): the call goes HELD as by the agent's
``hold()``, and with the media engine the other side hears the music. Told for the agent's
side of an anchored call (its phone is the ``agent`` party in the room), and for either phone
of a call whose SDP passes between the endpoints (there the offer is passed on as well, and
the other side hears what the phone plays).

An endpoint whose address changes (a phone moving to another network, an SBC choosing
another port) is re-joined to the room at the new address when its audio is anchored; the
engine gives a new address for it, which the answer names. Without an engine the new offer
is passed to the other side, as every offer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sippy.CCEvents import CCEventConnect, CCEventFail

from ucs.core.events import Event, PhoneHeld
from ucs.media.base import Anchored
from ucs.media.sdp import (
    answer_direction,
    audio_of,
    direction,
    engine_sdp,
    holds,
    with_direction,
)
from ucs.switch.sip.anchor import Anchor
from ucs.switch.sip.legs import Leg, SipCall

__all__ = ["Reinvites"]

log = logging.getLogger("ucs.sip")


class Reinvites:
    """The re-INVITEs' part of the ``B2BUA``."""

    anchor: Anchor | None

    if TYPE_CHECKING:  # LegControl's and Anchoring's, which the B2BUA also is

        def _body(self, leg: Leg, sdp: str) -> Any: ...
        def _update(self, leg: Leg, sdp: str | None, how: str | None = None) -> None: ...
        def _report(self, call: SipCall, event: Event) -> None: ...
        def party_of(self, leg: Leg) -> str: ...
        def reinvited_anchored(self, leg: Leg, sdp: str | None) -> None: ...
        def _anchor_failed(self, leg: Leg, why: str) -> None: ...

    def _reinvited(self, leg: Leg, sdp: str | None) -> None:
        call = leg.call
        if call.anchored:
            if not self._moved(leg, sdp):
                self.reinvited_anchored(leg, sdp)
        else:
            other = call.other(leg)
            if sdp is not None:
                leg.sdp = sdp
                if other is not None and other.up:
                    self._update(other, sdp)
            base = other.sdp if other is not None and other.sdp else leg.last_sent or sdp or ""
            how = answer_direction(direction(sdp)) if sdp else "sendrecv"
            answer = self._body(leg, with_direction(base, how))
            leg.ua.recvEvent(CCEventConnect((200, "OK", answer)))
        self._own_hold(leg, sdp)

    def _own_hold(self, leg: Leg, sdp: str | None) -> None:
        """Tell the core when the offer holds the call or takes it off hold (a refresh that
        changes neither is not told)."""
        call = leg.call
        if sdp is None or leg.line is None or call.uid is None or not leg.up:
            return
        if call.anchored and self.party_of(leg) != "agent":
            return  # the room's music would be played to this phone's own side
        held = holds(sdp)
        if held != leg.held:
            leg.held = held
            self._report(call, PhoneHeld(call.uid, leg.line, held))

    def _moved(self, leg: Leg, sdp: str | None) -> bool:
        """An anchored leg offers another address (or codec): it joins the room again there,
        and the re-INVITE is answered once the engine gives its new address (True). An offer
        without an address of its own (0.0.0.0: an old-style hold) keeps the one it had."""
        new = audio_of(sdp or "")
        old = leg.audio
        call = leg.call
        if new is None or old is None or new == old or leg.party is None or call.uid is None:
            return False
        if self.anchor is None:
            return False
        log.info(
            "call %s: %s moves its audio from %s:%d to %s:%d",
            call.uid,
            leg.channel,
            old.ip,
            old.port,
            new.ip,
            new.port,
        )
        leg.sdp, leg.audio = sdp, new
        how = answer_direction(direction(sdp or ""))
        self.anchor(call.uid, leg.party, new, lambda address: self._rejoined(leg, address, how))
        return True

    def _rejoined(self, leg: Leg, address: Anchored | None, how: str) -> None:
        if leg.closing:
            return
        if address is None or leg.audio is None:
            leg.ua.recvEvent(CCEventFail((488, "Not Acceptable Here")))
            self._anchor_failed(leg, "the media engine did not take its new address")
            return
        leg.engine = engine_sdp(address[:2], leg.audio.payload, dtmf=address.dtmf)
        leg.ua.recvEvent(
            CCEventConnect((200, "OK", self._body(leg, with_direction(leg.engine, how))))
        )
