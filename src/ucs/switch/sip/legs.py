"""Calls made of SIP legs, and what the B2BUA does with a leg: open it, send it a body, join it
to the other side, drop it. Everything here runs on sippy's thread (see ``b2bua.py``)."""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sippy.CCEvents import (
    CCEventConnect,
    CCEventDisconnect,
    CCEventFail,
    CCEventTry,
    CCEventUpdate,
)
from sippy.MsgBody import MsgBody
from sippy.SipHeader import SipHeader
from sippy.SipURL import SipURL
from sippy.UA import UA

from ucs.core.directory import Directory, LineConfig
from ucs.core.events import Event
from ucs.core.ids import LineId, UniqueId
from ucs.core.model import Cause
from ucs.media.sdp import Audio, restamp, with_direction
from ucs.switch.sip.causes import response_for
from ucs.switch.sip.registrar import Registrar

__all__ = ["Arrival", "Leg", "LegControl", "Role", "SipCall", "line_of", "text_of"]

log = logging.getLogger("ucs.sip")


class Role(StrEnum):
    """What a leg is to its call."""

    IN = "in"  # the caller: we are its UAS
    RING = "ring"  # a phone rung for the call
    AGENT = "agent"  # click-to-dial: the agent's phone, called first
    FAR = "far"  # the number dialled
    MONITOR = "monitor"  # a supervisor's desk phone, called into the call's audio


@dataclass(eq=False)
class Leg:
    """One SIP dialog of a call, with one endpoint."""

    call: SipCall
    role: Role
    channel: str
    line: LineId | None = None
    """Our phone at the other end of this leg; None for the trunk."""
    phone: LineConfig | None = None
    """For an ``IN`` leg from one of our phones: that phone, as its credentials proved (None
    for the trunk's, and for every other leg)."""
    report_line: LineId | None = None
    """The line named when this leg hangs up (None: the trunk, the outside party)."""
    ua: Any = None
    sdp: str | None = None
    """The endpoint's own media description (its last offer or answer)."""
    up: bool = False
    closing: bool = False
    awaiting_ack: bool = False
    """Answered a body-less INVITE with an offer: the answer goes in our ACK."""
    rang: bool = False
    rebridge: bool = False
    """When it answers, offer it the other side's SDP (it was dialled for someone else)."""
    updating: bool = False
    want: str | None = None
    o_session: int = field(default_factory=lambda: random.randrange(1, 2**31))
    o_version: int = 0
    last_sent: str | None = None
    timer: Any = None
    party: str | None = None
    """Anchored calls: which side of the call this leg's endpoint is in the engine's room."""
    audio: Audio | None = None
    """Anchored calls: where the endpoint takes its audio (from its SDP)."""
    engine: str | None = None
    """Anchored calls: our SDP for this leg, the engine's address for it (None: not yet)."""
    held: bool = False
    """The endpoint holds the call itself: its last offer was ``sendonly``, ``inactive`` or
    at address 0.0.0.0 (``reinvites.py``)."""


@dataclass(eq=False)
class SipCall:
    """A call as the B2BUA makes it: SIP legs (not the core's ``Call``, which it carries out)."""

    uid: UniqueId | None = None
    a: Leg | None = None
    b: Leg | None = None
    ringing: dict[LineId, Leg] = field(default_factory=dict)
    queue: bool = False
    gone: bool = False
    """The caller hung up before the core gave the call its uniqueid."""
    plan: tuple[str, LineId | None] | None = None
    """Click-to-dial: the number and target line to call once the agent's phone answers."""
    held_rings: list[Any] = field(default_factory=list)
    """Click-to-dial into a queue: the queue's offers (``Ring``) that wait for the agent's
    phone to answer, whose audio they are offered."""
    linked: str | None = None
    """A call another node of the cluster transferred here: its uniqueid there."""
    anchored: bool = False
    """Its audio is in the media engine's room for it (``anchor.py``), not passed between
    the endpoints."""
    answer_now: bool = False
    """Anchored: the caller is answered as soon as its audio is in the room (its queue
    plays a greeting or music to waiting callers)."""
    monitors: dict[LineId, Leg] = field(default_factory=dict)
    """Anchored: supervisors' desk phones listening to the call (or barging in), by line."""

    def other(self, leg: Leg) -> Leg | None:
        return self.b if leg is self.a else self.a if leg is self.b else None

    def on_line(self, line: LineId) -> Leg | None:
        for leg in (self.a, self.b):
            if leg is not None and leg.line == line and not leg.closing:
                return leg
        return None

    def legs(self) -> list[Leg]:
        legs = (self.a, self.b, *self.ringing.values(), *self.monitors.values())
        return [x for x in legs if x is not None]


@dataclass(frozen=True, slots=True)
class Arrival:
    """An INVITE that starts a call: what the asyncio side needs to decide where it goes."""

    call: SipCall
    number: str
    caller: str
    name: str | None
    line: LineConfig | None
    """The phone that called; None for the trunk."""
    channel: str
    linked: str | None = None
    """The uniqueid of the call at another node this one continues (a transfer across
    partitions): kept in the call's ``data`` as ``transferred_from``."""


class LegControl:
    """Opening, updating, joining and dropping legs; the ``B2BUA`` builds on it."""

    host: str
    config: dict[str, Any]
    registrar: Registrar
    report_event: Callable[[Event], None]
    calls: dict[UniqueId, SipCall]
    _seq: itertools.count[int]

    if TYPE_CHECKING:  # the B2BUA's: what sippy tells of a leg

        def _on_event(self, leg: Leg, event: Any) -> None: ...

    def _leg(self, call: SipCall, role: Role, name: str, line: LineId | None) -> Leg:
        leg = Leg(call, role, f"SIP/{name}-{next(self._seq):08x}", line=line, report_line=line)
        return leg

    def _callback(self, leg: Leg) -> Callable[[Any, Any], None]:
        def on_event(event: Any, ua: Any) -> None:
            try:
                self._on_event(leg, event)
            except Exception:
                log.exception("SIP event %s on %s failed", event, leg.channel)

        return on_event

    def _body(self, leg: Leg, sdp: str) -> Any:
        if sdp != leg.last_sent:
            leg.o_version += 1
            leg.last_sent = sdp
        return MsgBody(restamp(sdp, leg.o_session, leg.o_version))

    def _call_out(
        self,
        leg: Leg,
        where: tuple[str, int],
        user: str,
        caller: str,
        name: str | None,
        sdp: str | None,
        *,
        uri: str | None = None,
        answer: bool = False,
    ) -> None:
        leg.ua = UA(self.config, event_cb=self._callback(leg), nh_address=where)
        body = self._body(leg, sdp) if sdp is not None else None
        event = _Try((None, caller, user, body, None, name))
        event.target = uri
        headers = []
        if answer:
            headers.append(SipHeader(name="call-info", bodys=f"<sip:{self.host}>;answer-after=0"))
        if leg.call.uid is not None:
            headers.append(SipHeader(name="x-ucs-uniqueid", bodys=str(leg.call.uid)))
        if headers:
            event.extra_headers = tuple(headers)
        leg.ua.recvEvent(event)

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
    ) -> Leg | None:
        binding = self.registrar.where(line.identifier)
        if binding is None:
            return None
        leg = self._leg(call, role, line.identifier, line.id)
        self._call_out(
            leg,
            (binding.host, binding.port),
            line.identifier,
            caller,
            name,
            sdp,
            uri=binding.contact or None,
            answer=answer,
        )
        return leg

    def _report(self, call: SipCall, event: Event) -> None:
        if call.uid is not None:
            self.report_event(event)

    def _drop(self, leg: Leg, cause: Cause = Cause.UNKNOWN) -> None:
        if leg.closing:
            return
        leg.closing = True
        if leg.timer is not None:
            leg.timer.cancel()
            leg.timer = None
        if leg.ua is None:
            return
        if leg.role is Role.IN and not leg.up:
            leg.ua.recvEvent(CCEventFail(response_for(cause)))
        else:
            leg.ua.recvEvent(CCEventDisconnect())

    def _end(self, call: SipCall, cause: Cause = Cause.UNKNOWN) -> None:
        for leg in call.legs():
            self._drop(leg, cause)
        call.ringing.clear()
        if call.uid is not None and self.calls.get(call.uid) is call:
            del self.calls[call.uid]

    def _update(self, leg: Leg, sdp: str | None, how: str | None = None) -> None:
        if sdp is None or leg.closing or leg.ua is None:
            return
        text = with_direction(sdp, how) if how else sdp
        if leg.updating:
            leg.want = text
            return
        leg.updating = True
        leg.ua.recvEvent(CCEventUpdate(self._body(leg, text)))

    def _join(self, x: Leg | None, leg: Leg) -> None:
        """Let ``x`` hear ``leg``, which just answered."""
        if x is None or x.closing or leg.sdp is None:
            return
        if x.awaiting_ack:
            x.awaiting_ack = False
            x.ua.recvEvent(CCEventConnect((200, "OK", self._body(x, leg.sdp))))
        elif x.role is Role.IN and not x.up:
            x.up = True
            x.ua.recvEvent(CCEventConnect((200, "OK", self._body(x, leg.sdp))))
        elif x.up:
            self._update(x, leg.sdp, "sendrecv")


class _Try(CCEventTry):  # type: ignore[misc]
    """An INVITE to a registered phone goes to its Contact URI, not to user@host."""

    target: str | None = None

    def getCopy(self) -> Any:
        copy = super().getCopy()
        copy.target = self.target
        return copy

    def onUacSetupComplete(self, uac: Any) -> None:
        if self.target:
            uac.rTarget = SipURL(self.target)


def line_of(directory: Directory, leg: Leg) -> LineConfig | None:
    """The phone of ours at the other end of ``leg`` (None: the trunk)."""
    return directory.lines.get(leg.line) if leg.line is not None else None


def text_of(body: Any) -> str | None:
    if body is None:
        return None
    text = str(body)
    return text if text.strip() else None
