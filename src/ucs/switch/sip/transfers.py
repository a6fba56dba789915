"""Transfers of a call's caller to another party, on sippy's thread (``b2bua.py``).

Blind (``Redirect``): the agent's leg goes, the number is dialled for the caller's leg. Attended
(``Transfer``): the agent's legs of the call and of the consultation go, and the consultation's
other party takes the agent's place in the caller's call: re-INVITEd with each other's SDP, or,
when the audio is anchored in the media engine, moved into the caller's room (``anchor.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ucs.core.effects import Redirect, Transfer
from ucs.core.events import Event, Operation, SwitchFailed, Transferred
from ucs.core.ids import LineId, UniqueId
from ucs.core.model import Cause
from ucs.switch.sip.legs import Leg, SipCall

__all__ = ["Transfers"]


class Transfers:
    """The transfers' part of the ``B2BUA``."""

    calls: dict[UniqueId, SipCall]

    if TYPE_CHECKING:  # LegControl's and Anchoring's, which the B2BUA also is

        def _drop(self, leg: Leg, cause: Cause = Cause.UNKNOWN) -> None: ...
        def _update(self, leg: Leg, sdp: str | None, how: str | None = None) -> None: ...
        def _report(self, call: SipCall, event: Event) -> None: ...
        def _dial(
            self, call: SipCall, source: Leg, number: str, target: LineId | None
        ) -> Leg | None: ...
        def anchor_leg(self, leg: Leg) -> None: ...
        def _anchor_failed(self, leg: Leg, why: str) -> None: ...

    def _transfer(self, call: SipCall, effect: Transfer) -> None:
        consultation = self.calls.get(effect.consultation)
        mine = call.on_line(effect.line)
        far1 = call.other(mine) if mine is not None else None
        mine2 = consultation.on_line(effect.line) if consultation is not None else None
        far2 = consultation.other(mine2) if consultation is not None and mine2 else None
        if consultation is None or mine is None or far1 is None or mine2 is None or far2 is None:
            why = "no call to join the caller with"
            self._report(call, SwitchFailed(call.uid, Operation.TRANSFER, why))  # type: ignore[arg-type]
            return
        self._drop(mine, Cause.TRANSFER)
        self._drop(mine2, Cause.TRANSFER)
        del self.calls[effect.consultation]
        far2.call = call
        call.a, call.b = far1, far2
        if call.anchored:  # told first: the agent who transferred leaves the room …
            self._report(call, Transferred(call.uid, effect.consultation))  # type: ignore[arg-type]
            if far2.up and consultation.anchored:  # … then far2 joins it, in its place
                far2.party, far2.engine = None, None
                self.anchor_leg(far2)
            elif far2.up:  # its audio went between the endpoints: it cannot join the room
                self._anchor_failed(far2, "the consultation's audio was not anchored")
            return
        if far2.up:
            self._update(far1, far2.sdp, "sendrecv")
            self._update(far2, far1.sdp, "sendrecv")
        else:
            far2.rebridge = True
        self._report(call, Transferred(call.uid, effect.consultation))  # type: ignore[arg-type]

    def _redirect(self, call: SipCall, effect: Redirect) -> None:
        mine = call.on_line(effect.line)
        far = call.other(mine) if mine is not None else None
        if mine is None or far is None or not far.up:
            why = "the call is not connected"
            self._report(call, SwitchFailed(call.uid, Operation.BLIND_TRANSFER, why))  # type: ignore[arg-type]
            return
        self._drop(mine, Cause.TRANSFER)
        call.a, call.b = far, None
        self._report(call, Transferred(call.uid, None))  # type: ignore[arg-type]
        if effect.queue is not None:  # the caller waits in the queue: its offers ring (Ring)
            call.queue = True
            return
        self._dial(call, far, effect.number, effect.target)
