"""A desk phone's own hold button (``PhoneHeld``): the call goes HELD and back as by the
agent's ``hold()`` and ``unhold()`` (``methods.py``), with the same ``Hold`` / ``Unhold``
effects, marked ``phone`` (the switch has nothing to carry out; the media engine plays the
music to the other side). What the agent could not do by the API is not done either: a
report that does not fit the call's state changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ucs.core.call import Call
from ucs.core.effects import Hold, Unhold
from ucs.core.events import PhoneHeld
from ucs.core.model import CallState, Party, Side

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["on_phone_held"]


def on_phone_held(c: Center, ev: PhoneHeld) -> None:
    call = c.calls.get(ev.uniqueid)
    if call is None or call.ended:
        return
    party = _party_on(call, ev)
    if party is None:
        return
    if ev.held:
        if call.state is not CallState.CONNECTED:
            return  # already held, suspended for a transfer, not yet connected
        call.move(CallState.HELD)
        c.out.effects.append(Hold(call.uniqueid, ev.line, phone=True))
    else:
        if call.state is not CallState.HELD or not _may_resume(c, call, party):
            return
        call.move(CallState.CONNECTED)
        c.out.effects.append(Unhold(call.uniqueid, ev.line, phone=True))
    call.asked_by = party.user_id
    c.book.touch(call)


def _party_on(call: Call, ev: PhoneHeld) -> Party | None:
    """The party of the call on the phone that held it (None: that phone is not on it)."""
    for party in (call.caller, call.connected_party):
        if party is not None and party.line_id == ev.line:
            return party
    return None


def _may_resume(c: Center, call: Call, party: Party) -> bool:
    """As ``unhold()``: not while the agent talks on another call, nor while the call has a
    consultation or a transfer under way."""
    if call.consultation is not None or call.pending is not None:
        return False
    agent = party.user_id
    if agent is None:
        return True
    return not any(
        other is not call
        and other.state is CallState.CONNECTED
        and other.side_of(agent) is not Side.OFFERED
        for other in c.book.calls_of(agent)
    )
