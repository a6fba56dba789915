"""The back-to-back user agent: calls made of SIP legs, on sippy's thread.

Every method here runs on sippy's thread (``stack.py``); what the core must hear goes out
through ``report`` (thread-safe), and what the core asks comes in through ``SipSwitch`` posting
the effect here. A call has two sides, ``a`` and ``b``: the caller's leg and the leg it is
bridged with (for click-to-dial, the agent's phone and the number it dialled), plus the legs
ringing phones for it. Only signalling passes here: each leg is offered the other's SDP, with
the direction changed for hold, and with an origin line of our own (see ``sdp.py``). Legs
themselves are ``legs.py``'s; REGISTER and authentication ``phones.py``'s.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

from sippy.CCEvents import (
    CCEventConnect,
    CCEventDisconnect,
    CCEventFail,
    CCEventInfo,
    CCEventPreConnect,
    CCEventRing,
    CCEventTry,
    CCEventUpdate,
)
from sippy.Time.Timeout import Timeout
from sippy.UA import UA

from ucs.core.directory import Directory, LineConfig
from ucs.core.effects import (
    Hangup,
    Hold,
    Originate,
    PickUp,
    Redirect,
    Ring,
    StopRinging,
    SwitchEffect,
    Transfer,
    Unhold,
)
from ucs.core.events import (
    Answered,
    Dtmf,
    Event,
    HungUp,
    Operation,
    RemoteAnswered,
    RemoteFailed,
    RemoteRinging,
    SwitchFailed,
    operation_of,
)
from ucs.core.ids import LineId, UniqueId
from ucs.core.model import Cause
from ucs.core.softphone import softphone_owner
from ucs.switch.sip import stack
from ucs.switch.sip.anchor import Anchor, Anchoring
from ucs.switch.sip.causes import cause_of
from ucs.switch.sip.dtmf import digits_of
from ucs.switch.sip.guard import Complaints
from ucs.switch.sip.legs import Arrival, Leg, LegControl, Role, SipCall, line_of, text_of
from ucs.switch.sip.malformed import bad_request, reason
from ucs.switch.sip.phones import Phones, source_of
from ucs.switch.sip.placement import Placement, redirect
from ucs.switch.sip.registrar import Binding
from ucs.switch.sip.reinvites import Reinvites
from ucs.switch.sip.transfers import Transfers

__all__ = ["B2BUA", "Arrival", "Leg", "SipCall"]

log = logging.getLogger("ucs.sip")


class B2BUA(LegControl, Anchoring, Transfers, Reinvites):
    def __init__(
        self,
        *,
        host: str,
        port: int,
        trunk: tuple[str, int] | None,
        directory: Callable[[], Directory],
        secret: Callable[[str], str | None],
        report: Callable[[Event], None],
        arrived: Callable[[Arrival], None],
        ring_timeout: float = 60.0,
        realm: str = "ucs",
        registered: Callable[[LineConfig, Binding | None], None] | None = None,
        placement: Placement | None = None,
        proxies: frozenset[tuple[str, int]] = frozenset(),
    ) -> None:
        self.host, self.port, self.trunk = host, port, trunk
        self.placement = placement
        """In a cluster: which node each request is for (None: a server on its own)."""
        self.directory = directory
        self.report_event = report
        self.arrived = arrived
        self.ring_timeout = ring_timeout
        self.clock: Callable[[], float] = time.monotonic
        """Monotonic seconds, for what is remembered of sources (``complaints``, failures)."""
        self.complaints = Complaints()
        self.phones = Phones(
            directory, secret, realm, registered, clock=lambda: self.clock(), proxies=proxies
        )
        self.registrar = self.phones.registrar
        self.calls: dict[UniqueId, SipCall] = {}
        self.config: dict[str, Any] = {}
        self.anchor: Anchor | None = None
        """Joins a leg's audio to its call's room in the media engine (None: no engine)."""
        self.anchor_ready: Callable[[], bool] = lambda: False
        """Whether the engine runs now (a new call is anchored only then)."""
        self.press: Callable[[UniqueId, str], None] | None = None
        """Plays a key's tones into an anchored call's room (None: no engine)."""
        self._seq = itertools.count(1)

    # --- requests outside any dialog ------------------------------------------------------------

    def malformed(self, data: bytes, source: tuple[str, int], problem: BaseException) -> Any:
        """A datagram that does not parse (``stack.OneWorkerTM``): logged once per source and
        minute (``complaints``); the answer is a 400 if it can have one."""
        self.complaints.note(source[0], reason(problem), self.clock())
        return bad_request(data)

    def on_request(self, req: Any, sip_t: Any) -> Any:
        try:
            return self._on_request(req, sip_t)
        except Exception as exc:  # a header that does not parse, as a rule
            self.complaints.note(source_of(req)[0], reason(exc), self.clock())
            if req.getMethod() == "ACK":
                return None
            try:
                return (stack.once(req.genResponse(400, "Bad Request")), None, None)
            except Exception:  # nothing to answer with: the transaction is forgotten
                return None

    def _on_request(self, req: Any, sip_t: Any) -> Any:
        method = req.getMethod()
        if self.placement is not None and method in ("REGISTER", "INVITE"):
            if method == "REGISTER" or req.getHFBody("to").getTag() is None:
                moved = redirect(self.placement, req, self.trunk)
                if moved is not None:
                    return (moved, None, None)
        if method == "REGISTER":
            return (self.phones.register(req), None, None)
        if req.getHFBody("to").getTag() is not None:
            if method == "ACK":
                return None
            gone = req.genResponse(481, "Call Leg/Transaction Does Not Exist")
            return (stack.once(gone) if method == "INVITE" else gone, None, None)
        if method == "INVITE":
            return self._invite(req, sip_t)
        if method in ("OPTIONS", "NOTIFY"):
            return (req.genResponse(200, "OK"), None, None)
        if method == "ACK":
            return None
        return (req.genResponse(501, "Not Implemented"), None, None)

    def _invite(self, req: Any, sip_t: Any) -> Any:
        phone: LineConfig | None = None
        source = source_of(req)
        node = self.placement is not None and self.placement.is_node(source)
        if source != self.trunk and not node:
            # Answered once (never retransmitted): a forged source gets no more than it sent.
            phone, refusal = self.phones.admit(req, "proxy-authorization", 407)
            if phone is None:
                return (stack.once(refusal), None, None)
        call = SipCall()
        if node and req.countHFs("x-ucs-uniqueid") > 0:
            # Another node's call, transferred here: the records link by its uniqueid.
            call.linked = str(req.getHFBody("x-ucs-uniqueid"))[:64] or None
        name = phone.identifier if phone is not None else "trunk"
        # A phone's leg hangs up as that line (the caller, cause 3); the trunk's as the outside.
        leg = self._leg(call, Role.IN, name, phone.id if phone is not None else None)
        leg.phone = phone
        call.a = leg
        leg.ua = UA(self.config, event_cb=self._callback(leg))
        return leg.ua.recvRequest(req, sip_t)

    # --- what sippy tells ------------------------------------------------------------------------

    def _on_event(self, leg: Leg, event: Any) -> None:
        if leg.closing:
            return
        data = event.getData()
        if isinstance(event, CCEventTry):
            self._incoming(leg, data)
        elif isinstance(event, CCEventRing):
            self._ringing(leg)
        elif isinstance(event, CCEventPreConnect):
            leg.sdp = text_of(data[2]) if data and len(data) > 2 else None
            leg.up = leg.awaiting_ack = True
            self._answered(leg)
        elif isinstance(event, CCEventConnect):
            body = text_of(data[2]) if data and len(data) > 2 else None
            if leg.up:
                if body is not None:
                    leg.sdp = body
                self._updated(leg)
            else:
                leg.sdp = body
                leg.up = True
                self._answered(leg)
        elif isinstance(event, CCEventUpdate):
            self._reinvited(leg, text_of(data))
        elif isinstance(event, CCEventInfo):
            self._info(leg, data)
        elif isinstance(event, CCEventFail):
            if leg.up:
                self._updated(leg)
                return
            code = int(data[0]) if data else 480
            self._failed(leg, code)
        elif isinstance(event, CCEventDisconnect):
            if leg.up or leg.role is Role.IN:
                self._gone(leg)
            else:
                self._failed(leg, 480)

    def _info(self, leg: Leg, body: Any) -> None:
        """An INFO in a call: the far party's keys (SIP INFO DTMF) are told to the core. The
        agent's side's keys are for the far party (an IVR): played into the room as tones
        when the call is anchored, else the INFO is passed on."""
        call = leg.call
        if body is None or call.uid is None:
            return
        key = digits_of(str(body.getType()), str(body))
        if key is None:
            return
        if self.party_of(leg) == "far":
            self._report(call, Dtmf(call.uid, key))
        elif call.anchored:
            if self.press is not None:
                self.press(call.uid, key)
        else:
            other = call.other(leg)
            if other is not None and other.up and not other.closing and other.ua is not None:
                other.ua.recvEvent(CCEventInfo(body))

    def _incoming(self, leg: Leg, data: Any) -> None:
        _cid, cli, cld, body, _auth, name = data
        leg.sdp = text_of(body)
        if leg.sdp is None:
            self._drop(leg, Cause.UNKNOWN)
            return
        self.arrived(
            Arrival(
                leg.call,
                str(cld or ""),
                str(cli or ""),
                name,
                leg.phone,
                leg.channel,
                leg.call.linked,
            )
        )

    def _ringing(self, leg: Leg) -> None:
        call = leg.call
        if leg.rang:
            return
        leg.rang = True
        if leg.role is Role.FAR:
            self._report(call, RemoteRinging(call.uid))  # type: ignore[arg-type]
        caller = call.a
        if leg.role in (Role.RING, Role.FAR) and caller is not None and caller.role is Role.IN:
            if not caller.up and not caller.rang:
                caller.rang = True
                caller.ua.recvEvent(CCEventRing((180, "Ringing", None)))

    def _answered(self, leg: Leg) -> None:
        call = leg.call
        if leg.role is Role.MONITOR:  # a supervisor's phone: its audio joins the room
            self.anchor_leg(leg)
        elif leg.role is Role.RING:
            if call.ringing.get(leg.line) is leg:  # type: ignore[arg-type]
                del call.ringing[leg.line]  # type: ignore[arg-type]
            if call.b is not None:  # someone else was first
                self._drop(leg)
                return
            call.b = leg
            for other in list(call.ringing.values()):
                self._drop(other, Cause.PICKUP)
            call.ringing.clear()
            self._report(call, Answered(call.uid, leg.line))  # type: ignore[arg-type]
            if call.anchored:  # its audio joins the room; the caller is answered then
                self.anchor_leg(leg)
            else:
                self._join(call.a, leg)
        elif leg.role is Role.AGENT:
            if call.anchored:
                self.anchor_leg(leg)
            self._dial_planned(call)
            held, call.held_rings = call.held_rings, []
            for ring in held:
                self._apply(ring)
        elif leg.role is Role.FAR:
            if leg.timer is not None:
                leg.timer.cancel()
                leg.timer = None
            if leg.line is not None:
                self._report(call, Answered(call.uid, leg.line))  # type: ignore[arg-type]
            else:
                self._report(call, RemoteAnswered(call.uid))  # type: ignore[arg-type]
            if call.anchored:
                self.anchor_leg(leg)
                return
            peer = call.other(leg)
            self._join(peer, leg)
            if leg.rebridge and peer is not None:
                leg.rebridge = False
                self._update(leg, peer.sdp, "sendrecv")

    def _updated(self, leg: Leg) -> None:
        leg.updating = False
        if leg.want is not None:
            text, leg.want = leg.want, None
            self._update(leg, text)

    def _failed(self, leg: Leg, code: int) -> None:
        call = leg.call
        if leg.timer is not None:
            leg.timer.cancel()
            leg.timer = None
        leg.closing = True
        if leg.role is Role.MONITOR:
            self.monitor_left(leg)
        elif leg.role is Role.RING:
            if call.ringing.get(leg.line) is leg:  # type: ignore[arg-type]
                del call.ringing[leg.line]  # type: ignore[arg-type]
            if call.queue:  # the agent's phone turned the offer down: the next agent is tried
                self._report(call, HungUp(call.uid, leg.line))  # type: ignore[arg-type]
            else:
                self._report(call, RemoteFailed(call.uid, cause_of(code)))  # type: ignore[arg-type]
        elif leg.role is Role.AGENT:
            reason = f"the phone answered {code}"
            self._report(call, SwitchFailed(call.uid, Operation.ORIGINATE, reason))  # type: ignore[arg-type]
        elif leg.role is Role.FAR:
            self._report(call, RemoteFailed(call.uid, cause_of(code)))  # type: ignore[arg-type]
        if call.uid is None:
            self._end(call, cause_of(code))

    def _gone(self, leg: Leg) -> None:
        call = leg.call
        if leg.role is Role.MONITOR:  # the supervisor hung up: the call goes on
            self.monitor_left(leg)
            return
        leg.closing = True
        if call.uid is None:
            call.gone = True
        self._report(call, HungUp(call.uid, leg.report_line))  # type: ignore[arg-type]
        cause = Cause.CALLER_HANGUP if leg is call.a else Cause.CALLED_HANGUP
        self._end(call, cause)

    # --- what the core asks (posted from the asyncio side) ----------------------------------------

    def bind(self, call: SipCall, uid: UniqueId, queue: bool, answer: bool = False) -> None:
        """The core's uniqueid for a new call. Kept even when the caller has hung up meanwhile
        (told now), so that what the core asks of the call (``Originate``…) finds it ended;
        the core's ``Hangup`` forgets it. With a media engine the caller's audio joins the
        call's room (``anchor.py``), and with ``answer`` (its queue plays to waiting callers)
        it is answered as soon as it is there."""
        call.uid, call.queue = uid, queue
        self.calls[uid] = call
        if call.gone:
            self.report_event(HungUp(uid, call.a.report_line if call.a is not None else None))
        elif call.a is not None and self.anchors(call.a.sdp):
            call.anchored, call.answer_now = True, answer
            self.anchor_leg(call.a)
        else:  # its SDP passes between the endpoints, as without an engine
            self.tell_not_anchored(call)

    def refuse(self, call: SipCall, cause: Cause, response: tuple[int, str] | None = None) -> None:
        """End a call the core will not take; a caller not yet answered gets ``response``
        (else the cause's)."""
        caller = call.a
        if (
            response is not None
            and caller is not None
            and caller.ua is not None
            and caller.role is Role.IN
            and not (caller.up or caller.closing)
        ):
            caller.closing = True
            caller.ua.recvEvent(CCEventFail(response))
        self._end(call, cause)

    def apply(self, effect: SwitchEffect) -> None:
        try:
            self._apply(effect)
        except Exception:
            log.exception("carrying out %r failed", effect)
            self.report_event(SwitchFailed(effect.uniqueid, operation_of(effect)))

    def _apply(self, effect: SwitchEffect) -> None:
        if self.softphone(self.calls.get(effect.uniqueid), effect):
            return
        if isinstance(effect, Originate):
            self._originate(effect)
            return
        call = self.calls.get(effect.uniqueid)
        if call is None:
            return
        directory = self.directory()
        if isinstance(effect, Ring):
            line = directory.lines.get(effect.line)
            if line is None or effect.line in call.ringing or call.a is None:
                return
            if call.a.role is Role.AGENT and not call.a.up:  # dialled into a queue: its
                call.held_rings.append(effect)  # offers ring once the agent's phone is up
                return
            leg = self._ring_phone(
                call,
                Role.RING,
                line,
                effect.caller.number,
                effect.caller.name,
                self.offer_of(call, call.a),
                answer=False,
            )
            if leg is None:
                why = f"phone {line.identifier} is not registered"
                failed = SwitchFailed(call.uid, Operation.RING, why, effect.line)  # type: ignore[arg-type]
                self._report(call, failed)
            else:
                call.ringing[effect.line] = leg
        elif isinstance(effect, StopRinging):
            call.held_rings = [r for r in call.held_rings if r.line != effect.line]
            gone = call.ringing.pop(effect.line, None)
            if gone is not None:
                self._drop(gone, effect.cause)
        elif isinstance(effect, PickUp):
            self._pick_up(call, effect.line)
        elif isinstance(effect, Hold | Unhold):
            if not effect.phone:  # (the phone's own hold: it did it, nothing to carry out)
                self._hold(call, effect.line, isinstance(effect, Hold))
        elif isinstance(effect, Transfer):
            self._transfer(call, effect)
        elif isinstance(effect, Redirect):
            self._redirect(call, effect)
        elif isinstance(effect, Hangup):
            self._end(call, effect.cause)
        # Mute: the media never pass here; the phone mutes itself.

    def _pick_up(self, call: SipCall, line_id: LineId) -> None:
        old = call.ringing.get(line_id)
        if old is None and call.b is not None and call.b.line == line_id and not call.b.up:
            old = call.b  # click-to-dial to one of our phones: the target answers
        if old is not None and old.up:
            return
        line = self.directory().lines.get(line_id)
        if old is None or line is None:
            why = "the phone is not ringing"
            self._report(call, SwitchFailed(call.uid, Operation.ANSWER, why))  # type: ignore[arg-type]
            return
        self._drop(old)
        source = call.other(old) if old is call.b else call.a
        caller = call.a
        who = (caller.ua.getCLI() if caller and caller.role is Role.IN else None) or ""
        name = caller.ua.getCallingName() if caller and caller.role is Role.IN else None
        phone = line_of(self.directory(), caller) if caller and caller.role is Role.IN else None
        if phone is not None:  # one of our phones called (PhoneCall): show its extension
            who, name = phone.extension, phone.name or None
        elif old.role is Role.FAR and call.a is not None:
            who, name = call.a.channel, None
        sdp = self.offer_of(call, source)
        leg = self._ring_phone(call, old.role, line, who, name, sdp, answer=True)
        if leg is None:
            why = f"phone {line.identifier} is not registered"
            self._report(call, SwitchFailed(call.uid, Operation.ANSWER, why))  # type: ignore[arg-type]
            return
        leg.rang = old.rang
        if old is call.b:
            call.b = leg
        else:
            call.ringing[line_id] = leg

    def _originate(self, effect: Originate) -> None:
        mine = self.calls.get(effect.uniqueid)
        if mine is not None:  # a phone's own call (PhoneCall): it is off-hook, dial the number
            caller = mine.a
            if caller is not None and caller.role is Role.IN and not caller.closing and not mine.b:
                self._dial(mine, caller, effect.number, effect.target)
            return
        directory = self.directory()
        line = directory.lines.get(effect.line)
        # Into a queue (``effect.queue``): nothing to dial, the queue's offers ring (Ring).
        plan = (effect.number, effect.target) if effect.queue is None else None
        call = SipCall(uid=effect.uniqueid, plan=plan, queue=effect.queue is not None)
        call.anchored = self.anchor is not None and self.anchor_ready()
        self.calls[effect.uniqueid] = call
        if not call.anchored:
            self.tell_not_anchored(call)
        leg = (
            self._ring_phone(call, Role.AGENT, line, effect.number, None, None, answer=True)
            if line is not None
            else None
        )
        if leg is None:
            del self.calls[effect.uniqueid]
            why = "the agent's phone is not registered"
            self.report_event(SwitchFailed(effect.uniqueid, Operation.ORIGINATE, why))
            return
        call.a = leg

    def _dial_planned(self, call: SipCall) -> None:
        if call.plan is None or call.a is None:
            return
        number, target = call.plan
        call.plan = None
        self._dial(call, call.a, number, target)

    def _dial(self, call: SipCall, source: Leg, number: str, target: LineId | None) -> Leg | None:
        """Call ``number`` for ``source`` (its SDP is the offer); becomes ``call.b``."""
        directory = self.directory()
        me = directory.lines.get(source.line) if source.line is not None else None
        if source.ua is None and source.line is not None:  # the softphone: its agent calls
            agent = directory.agents.get(softphone_owner(source.line))
            extension = agent.primary_extension if agent is not None else None
            caller = str(extension) if extension is not None else ""
            name = (agent.name or None) if agent is not None else None
        else:
            caller = me.extension if me is not None else (source.ua.getCLI() or "")
            name = (me.name or None) if me is not None else None
        offer = self.offer_of(call, source)
        leg: Leg | None
        node = self.placement.node_for(number) if self.placement is not None else None
        if node is not None:
            # Another partition's number (its queue's, or the extension of a phone of its
            # agents, rung at its node): an outside call to the node that runs it, which
            # learns this call's uniqueid from the header every leg carries (X-UCS-Uniqueid).
            where, partition = node
            if where is None:
                self._report(call, RemoteFailed(call.uid, Cause.UNAVAILABLE))  # type: ignore[arg-type]
                return None
            leg = self._leg(call, Role.FAR, partition, None)
            self._call_out(leg, where, number, caller, name, offer)
        elif target is not None:
            line = directory.lines.get(target)
            leg = (
                self._ring_phone(call, Role.FAR, line, caller, name, offer, answer=False)
                if line is not None
                else None
            )
            if leg is None:
                self._report(call, RemoteFailed(call.uid, Cause.UNAVAILABLE))  # type: ignore[arg-type]
                return None
        else:
            if self.trunk is None:
                self._report(call, RemoteFailed(call.uid, Cause.INVALID_NUMBER))  # type: ignore[arg-type]
                return None
            leg = self._leg(call, Role.FAR, "trunk", None)
            self._call_out(leg, self.trunk, number, caller, name, offer)
        leg.timer = Timeout(self._no_answer, self.ring_timeout, 1, leg)
        call.b = leg
        return leg

    def _no_answer(self, leg: Leg) -> None:
        leg.timer = None
        if leg.closing or leg.up:
            return
        self._drop(leg, Cause.UNAVAILABLE)
        self._report(leg.call, RemoteFailed(leg.call.uid, Cause.UNAVAILABLE))  # type: ignore[arg-type]

    def _hold(self, call: SipCall, line: LineId, hold: bool) -> None:
        mine = call.on_line(line)
        far = call.other(mine) if mine is not None else None
        if mine is None or far is None or not (mine.up and far.up):
            op = Operation.HOLD if hold else Operation.UNHOLD
            self._report(call, SwitchFailed(call.uid, op, "the call is not connected"))  # type: ignore[arg-type]
            return
        if call.anchored:  # the engine plays the music and parks the agent's side
            return
        self._update(far, mine.sdp, "sendonly" if hold else "sendrecv")
        self._update(mine, far.sdp, "inactive" if hold else "sendrecv")
