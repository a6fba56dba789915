"""The whole contact center as one aggregate: ``handle(event, now) -> effects``.

Everything is decided here, with time passed in; nothing here waits, reads a clock or does IO.
Timers come back as deadlines: ``next_deadline()`` says when to call ``on_deadline(now)``
(ring timeouts, the end of wrap-up, the day's roll-over at local midnight).

Each ``handle`` runs in three steps: carry out the event (commands are refused before anything
changes), offer waiting callers to free agents, then bring the touched agents' statistics up to
date and tell every connection what changed.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, ClassVar

from ucs.core import acd, methods, transfer
from ucs.core.agent import Activity, Agent
from ucs.core.call import Call, Offer
from ucs.core.directory import AgentConfig, Directory, LineConfig, QueueType, Strategy
from ucs.core.effects import (
    CallRecord,
    Created,
    Effect,
    Hangup,
    Push,
    Refuse,
    Reply,
    Ring,
    Send,
    SessionRecord,
    StatusRecord,
    StopRinging,
)
from ucs.core.errors import SWITCH_FAILURE, InvalidState, UcsError
from ucs.core.events import (
    Answered,
    Attach,
    Command,
    Connect,
    Disconnect,
    Event,
    HungUp,
    Reconfigure,
    RemoteAnswered,
    RemoteFailed,
    RemoteRinging,
    SwitchFailed,
    Transferred,
    TrunkCall,
)
from ucs.core.ids import AgentId, ClientId, LineId, QueueId, UniqueId
from ucs.core.model import CallState, Cause, Direction, Party, PartyType, Phase, Status
from ucs.core.numbers import normalize
from ucs.core.session import Session, Throttle, bind, canonical
from ucs.core.sso import DEFAULT_WINDOW, ReplayMemory
from ucs.core.views import session_wire, user_wire

__all__ = ["DIRECT_RING_TIMEOUT", "SWITCH_FAILURE", "Center", "PasswordCheck", "next_midnight"]

PasswordCheck = Callable[[AgentConfig, str], bool]
"""Tells whether a password is an agent's (argon2 in production; the core never sees hashes)."""


_LIVE = (CallState.CONNECTED, CallState.SUSPENDED, CallState.HELD)
DIRECT_RING_TIMEOUT = 30.0
"""Seconds one of our phones rings with a direct call (not a queue's) before cause 6."""
_RECENT_CALLS = 10_000


def next_midnight(now: float, tz: tzinfo) -> float:
    """The first local midnight after ``now``."""
    today = datetime.fromtimestamp(now, tz).date()
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz).timestamp()


@dataclass(slots=True)
class _Seen:
    """What an agent's connections were last told about one call."""

    state: int
    connected: bool


class Center:
    """The contact center. Construct it once per server; feed it every event."""

    def __init__(
        self,
        directory: Directory,
        now: float,
        *,
        passwords: PasswordCheck,
        sso_secret: str = "",
        sso_window: float = DEFAULT_WINDOW,
        tz: tzinfo = UTC,
        first_seq: int = 1,
        throttle: Throttle | None = None,
    ) -> None:
        self.directory = directory
        self.passwords = passwords
        self.sso_secret = sso_secret
        self.sso_window = sso_window
        self.tz = tz
        self.throttle = throttle or Throttle()
        self.replay = ReplayMemory()
        self.agents: dict[AgentId, Agent] = {
            a.id: Agent(config=a, since=now, status_since=now, available_since=now)
            for a in directory.agents.values()
        }
        self.sessions: dict[AgentId, Session] = {}
        self.clients: dict[ClientId, AgentId | None] = {}
        self.calls: dict[UniqueId, Call] = {}
        self.ended: OrderedDict[UniqueId, Call] = OrderedDict()
        self.line_owner: dict[LineId, AgentId] = {}
        self.agent_calls: dict[AgentId, set[UniqueId]] = {}
        self.rr_last: dict[QueueId, AgentId] = {}
        self.seq = first_seq
        self.midnight = next_midnight(now, tz)
        self.now = now
        self._next_id = 1
        self._queued: dict[UniqueId, None] = {}
        self._linked: dict[UniqueId, set[AgentId]] = {}
        self._participants: dict[UniqueId, set[AgentId]] = {}
        self._seen: dict[tuple[UniqueId, AgentId], _Seen] = {}
        self._timers: list[tuple[float, int, str, Any]] = []
        self._timer_seq = 0
        self._out: list[Effect] = []
        self._dirty: set[AgentId] = set()
        self._changed: dict[UniqueId, None] = {}
        self._left: dict[tuple[UniqueId, AgentId], Cause] = {}
        self._session_changed: set[AgentId] = set()

    # ------------------------------------------------------------------ entry points

    def handle(self, event: Event, now: float) -> list[Effect]:
        """Carry out one event at ``now`` and return what the runtime must do."""
        self._begin(now)
        if isinstance(event, Command):
            self._command(event)
        else:
            self._EVENTS[type(event)](self, event)
        return self._finish()

    def next_deadline(self) -> float:
        """When ``on_deadline`` must next be called (never later than the next midnight)."""
        while self._timers and not self._timer_valid(self._timers[0]):
            heapq.heappop(self._timers)
        if self._timers:
            return min(self._timers[0][0], self.midnight)
        return self.midnight

    def on_deadline(self, now: float) -> list[Effect]:
        """Fire every timer due at ``now``: ring timeouts, end of wrap-up, roll-over."""
        self._begin(now)
        while self._timers and self._timers[0][0] <= now:
            entry = heapq.heappop(self._timers)
            if self._timer_valid(entry):
                self._fire(entry)
        return self._finish()

    # ------------------------------------------------------------------ the three steps

    def _begin(self, now: float) -> None:
        self.now = max(now, self.now)
        self._out = []
        while self.now >= self.midnight:
            self._new_day(self.midnight)

    def _finish(self) -> list[Effect]:
        self._distribute()
        self._publish()
        out, self._out = self._out, []
        return out

    def _command(self, ev: Command) -> None:
        if ev.client not in self.clients:
            self.clients[ev.client] = None
        agent = self.clients[ev.client]
        session = self.sessions.get(agent) if agent is not None else None
        phase = session.phase if session is not None else Phase.CREDENTIALS
        mark = len(self._out)
        try:
            args = bind(ev.method, ev.args, phase)
            handler = methods.HANDLERS[canonical(ev.method)]
            result = handler(self, ev.client, agent, args)
        except UcsError as err:
            del self._out[mark:]
            self._out.append(Refuse(ev.client, ev.request, err.code, err.message))
            return
        self._out.append(Reply(ev.client, ev.request, result))

    # ------------------------------------------------------------------ clients

    def _on_connect(self, ev: Connect) -> None:
        self.clients.setdefault(ev.client, None)

    def _on_disconnect(self, ev: Disconnect) -> None:
        agent = self.clients.pop(ev.client, None)
        session = self.sessions.get(agent) if agent is not None else None
        if session is not None:
            session.clients.discard(ev.client)

    def _on_attach(self, ev: Attach) -> None:
        if ev.agent in self.sessions:
            self.join(ev.client, ev.agent)
            self._out.append(Send(ev.client, "session.joined", self.welcome(ev.agent)))
        else:
            self.clients[ev.client] = None
            self._out.append(Send(ev.client, "session.ended", {}))

    def require(self, agent: AgentId | None) -> AgentId:
        if agent is None or agent not in self.sessions:  # bind() refuses these before
            raise InvalidState("not logged in")
        return agent

    def join(self, client: ClientId, agent: AgentId) -> None:
        """Attach a connection to the agent's session, opening the session if there is none."""
        old = self.clients.get(client)
        if old is not None and old != agent and old in self.sessions:
            self.sessions[old].clients.discard(client)
        session = self.sessions.get(agent)
        if session is None:
            session = self.sessions[agent] = Session()
            self._record_session(agent)
            self._dirty.add(agent)
        session.clients.add(client)
        self.clients[client] = agent

    def welcome(self, agent: AgentId) -> dict[str, Any]:
        """Everything a connection joining the agent's session needs to show it."""
        a = self.agents[agent]
        session = self.sessions.get(agent)
        queues = [
            {"id": q.id, "name": q.name, "type": int(q.type)}
            for m in a.config.memberships
            if (q := self.directory.queues.get(m.queue)) is not None
        ]
        return {
            "user": user_wire(a, self.directory, session, self.now),
            "session": session_wire(session, a),
            "calls": [self.view(c, agent) for c in self.calls_of(agent)],
            "queues": queues,
            "reasons": list(self.directory.aux_reasons),
        }

    def state_object(self, agent: AgentId) -> dict[str, Any]:
        """The state object of CONTRACT §5 (``onReady``, ``onStateChange``, ``state()``)."""
        a = self.agents[agent]
        session = self.sessions.get(agent)
        calls = self.calls_of(agent)
        focus = self.focus(agent)
        return {
            "state": (session.phase if session else Phase.CREDENTIALS).value,
            "user": user_wire(a, self.directory, session, self.now),
            "calls": [self.view(c, agent) for c in calls],
            "call": self.view(focus, agent) if focus is not None else None,
            "identifier": session.identifier if session else None,
            "line": session.line if session else None,
            "ringingSound": session.ringing_sound if session else "default",
            "theme": session.theme if session else "default",
        }

    def end_session(self, agent: AgentId) -> None:
        """Log the agent out: availability OFFLINE, phone released, every connection told."""
        session = self.sessions.pop(agent)
        self.set_status(agent, Status.OFFLINE, None)
        if session.line is not None and self.line_owner.get(session.line) == agent:
            del self.line_owner[session.line]
        for client in session.clients:
            self.clients[client] = None
            self._out.append(Send(client, "session.ended", {}))
        self._session_changed.discard(agent)
        self._out.append(SessionRecord(agent, None, None, None))
        self._dirty.add(agent)

    def session_changed(self, agent: AgentId) -> None:
        self._session_changed.add(agent)
        self._record_session(agent)

    def _record_session(self, agent: AgentId) -> None:
        s = self.sessions[agent]
        self._out.append(SessionRecord(agent, s.phase, s.identifier, s.line))

    # ------------------------------------------------------------------ availability

    def set_status(
        self, agent: AgentId, status: Status, reason: str | None, acw_until: float | None = None
    ) -> None:
        a = self.agents[agent]
        if a.status is status and a.reason == reason and a.acw_until == acw_until:
            return
        a.status, a.reason, a.status_since, a.acw_until = status, reason, self.now, acw_until
        if acw_until is not None:
            self._arm(acw_until, "acw", (agent, acw_until))
        self._out.append(StatusRecord(agent, status, reason, self.now))
        self._dirty.add(agent)
        if agent in self.sessions:
            self._session_changed.add(agent)

    def wrap_up(self, agent: AgentId, call: Call) -> None:
        """After the agent's part of a queue call: automatic ACW for the queue's wrap-up time."""
        a = self.agents.get(agent)
        q = self.directory.queues.get(call.queue_id) if call.queue_id is not None else None
        if a is None or q is None or q.wrapup <= 0 or a.status is not Status.READY:
            return
        self.set_status(agent, Status.ACW, None, acw_until=self.now + q.wrapup)

    # ------------------------------------------------------------------ calls: bookkeeping

    def new_call(
        self, *, origin: Direction, caller: Party, called_number: str, uid: str | None
    ) -> Call:
        if uid is None or uid in self.calls or uid in self.ended:
            uid = f"{int(self.now)}.{self.seq}"
            self.seq += 1
        call = Call(
            uniqueid=UniqueId(uid),
            id=self._take_id(),
            origin=origin,
            created=self.now,
            caller=caller,
            called_number=called_number,
        )
        self.calls[call.uniqueid] = call
        self._participants[call.uniqueid] = set()
        self.touch(call)
        return call

    def _take_id(self) -> int:
        live = {c.id for c in self.calls.values()} if len(self.calls) > 60_000 else None
        while True:
            cid = self._next_id
            self._next_id = cid % 65535 + 1
            if live is None or cid not in live:
                return cid

    def touch(self, call: Call) -> None:
        """Note that ``call`` changed: re-index who is on it; tell them at the end of the step."""
        uid = call.uniqueid
        now_on = set() if call.ended else call.agents()
        before = self._linked.get(uid, set())
        for agent in before - now_on:
            self.agent_calls.get(agent, set()).discard(uid)
            self._left.setdefault((uid, agent), call.cause if call.ended else Cause.UNKNOWN)
        for agent in now_on - before:
            self.agent_calls.setdefault(agent, set()).add(uid)
        self._dirty.update(before | now_on)
        self._linked[uid] = now_on
        self._participants.setdefault(uid, set()).update(now_on)
        if call.enqueued_at is not None and not call.ended and call.connected_party is None:
            self._queued[uid] = None
        else:
            self._queued.pop(uid, None)
        self._changed[uid] = None
        direct = (
            not call.ended
            and call.state is CallState.RINGING
            and not call.offers
            and call.connected_party is not None
            and call.connected_party.type is PartyType.LINE
        )
        if not direct:
            call.ring_expires = None
        elif call.ring_expires is None:
            call.ring_expires = self.now + DIRECT_RING_TIMEOUT
            self._arm(call.ring_expires, "direct", (uid, call.ring_expires))

    def leave(self, call: Call, agent: AgentId, cause: Cause) -> None:
        """``agent`` leaves a call that goes on without them."""
        self._left[(call.uniqueid, agent)] = cause

    def end_call(self, call: Call, cause: Cause, *, hangup: bool = True) -> None:
        """End the whole call, drop it on the switch, record it, and wrap up its agents."""
        if call.ended:
            return
        for offer in list(call.offers.values()):
            self.end_offer(call, offer, cause, counted=True)
        agents_on = call.agents()
        call.end(cause, self.now)
        if hangup:
            self._out.append(Hangup(call.uniqueid, cause))
        if call.outbound_id is not None and call.connected_at is None:
            caller = call.caller.user_id
            if caller is not None and caller in self.agents:
                self._count_out(caller, call.outbound_id, answered=False)
        if call.consult_for is not None:
            original = self.calls.get(call.consult_for)
            if original is not None and original.consultation == call.uniqueid:
                original.consultation = None
                self.touch(original)
        if call.consultation is not None:
            consultation = self.calls.get(call.consultation)
            if consultation is not None:
                consultation.consult_for = None
                self.touch(consultation)
        self.touch(call)
        self.calls.pop(call.uniqueid, None)
        self.ended[call.uniqueid] = call
        while len(self.ended) > _RECENT_CALLS:
            old, _ = self.ended.popitem(last=False)
            self._participants.pop(old, None)
        self._out.append(self.record(call))
        for agent in agents_on:
            if call.queue_id is not None and call.handled_by == agent:
                self.wrap_up(agent, call)

    def record(self, call: Call) -> CallRecord:
        return CallRecord(
            call=call.view(None, self.now),
            account_codes=tuple((a.code, a.sub) for a in call.account_codes),
            queue_id=call.queue_id,
        )

    def calls_of(self, agent: AgentId) -> list[Call]:
        """The agent's live calls, oldest first."""
        found = [self.calls[u] for u in self.agent_calls.get(agent, ()) if u in self.calls]
        return sorted(found, key=lambda c: (c.created, c.uniqueid))

    def participated(self, agent: AgentId, uid: UniqueId) -> Call | None:
        """A live or recently ended call the agent has been on."""
        if agent not in self._participants.get(uid, ()):
            return None
        return self.calls.get(uid) or self.ended.get(uid)

    def focus(self, agent: AgentId) -> Call | None:
        """The call the agent's buttons act on: talking, then dialling, ringing, waiting, held."""

        def rank(c: Call) -> tuple[int, float]:
            side = c.side_of(agent)
            if c.state is CallState.CONNECTED and side != "offered":
                r = 0
            elif side == "caller" and c.state in (
                CallState.NEW,
                CallState.CONNECTING,
                CallState.RINGING,
            ):
                r = 1
            elif c.state is CallState.RINGING or side == "offered":
                r = 2
            elif c.state is CallState.SUSPENDED:
                r = 3
            else:
                r = 4
            return (r, -c.created)

        calls = self.calls_of(agent)
        return min(calls, key=rank) if calls else None

    def view(self, call: Call, agent: AgentId) -> dict[str, object]:
        return call.view(agent, self.now)

    def agent_party(self, agent: AgentId, line: LineId) -> Party:
        cfg = self.agents[agent].config
        ln = self.directory.lines.get(line)
        return Party(
            type=PartyType.LINE,
            number=ln.extension if ln else "",
            number_norm=None,
            name=cfg.name,
            line_id=line,
            extension=ln.extension if ln else None,
            user_id=cfg.id,
            username=cfg.username,
            group_id=cfg.group_id,
            channel=f"SIP/{ln.identifier}" if ln else None,
        )

    def line_party(self, line: LineConfig) -> Party:
        owner = self.line_owner.get(line.id)
        if owner is not None and owner in self.agents:
            return self.agent_party(owner, line.id)
        return Party(
            type=PartyType.LINE,
            number=line.extension,
            name=line.name or None,
            line_id=line.id,
            extension=line.extension,
            channel=f"SIP/{line.identifier}",
        )

    def trunk_party(
        self, number: str, name: str | None = None, channel: str | None = None
    ) -> Party:
        return Party(
            type=PartyType.TRUNK,
            number=number,
            number_norm=normalize(number, self.directory.region),
            name=name,
            channel=channel,
        )

    # ------------------------------------------------------------------ switch events

    def _on_trunk_call(self, ev: TrunkCall) -> None:
        caller = self.trunk_party(ev.number, ev.name, ev.channel)
        queue = self.directory.queues.get(ev.queue) if ev.queue is not None else None
        line = self.directory.line_by_extension(ev.extension) if ev.extension else None
        called = (queue.number or str(queue.id)) if queue else (ev.extension or "")
        call = self.new_call(
            origin=Direction.INCOMING, caller=caller, called_number=called, uid=ev.uniqueid
        )
        call.data = dict(ev.data)
        call.state = CallState.CONNECTING
        if queue is not None and queue.type is QueueType.INCOMING:
            call.queue_id = queue.id
            call.called_name = queue.name
            call.enqueued_at = self.now
        elif line is not None:
            call.connected_party = self.line_party(line)
            call.called_name = call.connected_party.name
            call.move(CallState.RINGING)
            self._out.append(Ring(call.uniqueid, line.id, caller))
        else:
            self.end_call(call, Cause.INVALID_NUMBER)
        self.touch(call)
        self._out.append(Created(call.uniqueid, ev.channel))

    def _on_answered(self, ev: Answered) -> None:
        call = self.calls.get(ev.uniqueid)
        if call is None:
            return
        offer = next((o for o in call.offers.values() if o.line == ev.line), None)
        if offer is not None:
            self._queue_answer(call, offer)
        elif (
            call.connected_party is not None
            and call.connected_party.line_id == ev.line
            and call.state in (CallState.RINGING, CallState.CONNECTING)
        ):
            self._connect(call)

    def _queue_answer(self, call: Call, offer: Offer) -> None:
        for other in list(call.offers.values()):
            if other.agent != offer.agent:
                self.end_offer(call, other, Cause.PICKUP, counted=False)
        call.offers.clear()
        call.connected_party = offer.party
        call.handled_by = offer.agent
        call.enqueued_at = None
        self._connect(call)
        self.rr_last[call.queue_id] = offer.agent  # type: ignore[index]
        a = self.agents[offer.agent]
        a.stats.in_calls_answered += 1
        a.stats.queue(call.queue_id).answered += 1  # type: ignore[arg-type]

    def _connect(self, call: Call) -> None:
        call.move(CallState.CONNECTED)
        if call.connected_at is None:
            call.connected_at = self.now
        self.touch(call)

    def _on_remote_ringing(self, ev: RemoteRinging) -> None:
        call = self.calls.get(ev.uniqueid)
        if call is None or call.state not in (CallState.NEW, CallState.CONNECTING):
            return
        if call.target is not None:
            call.connected_party, call.target = call.target, None
        call.move(CallState.RINGING)
        self.touch(call)

    def _on_remote_answered(self, ev: RemoteAnswered) -> None:
        call = self.calls.get(ev.uniqueid)
        if call is None or call.state not in (
            CallState.NEW,
            CallState.CONNECTING,
            CallState.RINGING,
        ):
            return
        if call.target is not None:
            call.connected_party, call.target = call.target, None
        first = call.connected_at is None
        self._connect(call)
        caller = call.caller.user_id
        if first and call.outbound_id is not None and caller is not None:
            self._count_out(caller, call.outbound_id, answered=True)

    def _count_out(self, agent: AgentId, queue: QueueId, *, answered: bool) -> None:
        a = self.agents.get(agent)
        if a is None:
            return
        if answered:
            a.stats.out_calls_answered += 1
            a.stats.queue(queue).answered += 1
        else:
            a.stats.out_calls_unanswered += 1
            a.stats.queue(queue).unanswered += 1
        self._dirty.add(agent)

    def _on_remote_failed(self, ev: RemoteFailed) -> None:
        call = self.calls.get(ev.uniqueid)
        if call is None:
            return
        cause = ev.cause if ev.cause not in (Cause.NOT_SET,) else Cause.UNKNOWN
        self.end_call(call, cause)

    def _on_hung_up(self, ev: HungUp) -> None:
        call = self.calls.get(ev.uniqueid)
        if call is None:
            return
        if ev.line is not None:
            offer = next((o for o in call.offers.values() if o.line == ev.line), None)
            if offer is not None:  # the agent rejected a queue offer on the handset
                self.reject_offer(call, offer)
                return
        if ev.line is None:
            outside_is_caller = call.caller.type is PartyType.TRUNK
        else:
            outside_is_caller = call.caller.line_id == ev.line
        self.end_call(call, Cause.CALLER_HANGUP if outside_is_caller else Cause.CALLED_HANGUP)

    def _on_transferred(self, ev: Transferred) -> None:
        transfer.confirmed(self, ev)

    def _on_switch_failed(self, ev: SwitchFailed) -> None:
        transfer.failed(self, ev)

    def _on_reconfigure(self, ev: Reconfigure) -> None:
        d = ev.directory
        self.directory = d
        for cfg in d.agents.values():
            a = self.agents.get(cfg.id)
            if a is None:
                self.agents[cfg.id] = Agent(
                    config=cfg, since=self.now, status_since=self.now, available_since=self.now
                )
            else:
                a.config = cfg
                a.suspended &= {m.queue for m in cfg.memberships}
            self._dirty.add(cfg.id)
        for agent in [a for a in self.agents if a not in d.agents]:
            if agent in self.sessions and not self.agent_calls.get(agent):
                self.end_session(agent)
            if agent not in self.sessions:
                del self.agents[agent]
                self._dirty.discard(agent)
        for call in list(self.calls.values()):
            if call.queue_id is not None and call.queue_id not in d.queues and call.waiting:
                self.end_call(call, Cause.UNAVAILABLE)

    _EVENTS: ClassVar[dict[type, Callable[[Center, Any], None]]] = {
        Connect: _on_connect,
        Disconnect: _on_disconnect,
        Attach: _on_attach,
        TrunkCall: _on_trunk_call,
        Answered: _on_answered,
        RemoteRinging: _on_remote_ringing,
        RemoteAnswered: _on_remote_answered,
        RemoteFailed: _on_remote_failed,
        HungUp: _on_hung_up,
        Transferred: _on_transferred,
        SwitchFailed: _on_switch_failed,
        Reconfigure: _on_reconfigure,
    }

    # ------------------------------------------------------------------ offers and distribution

    def end_offer(self, call: Call, offer: Offer, cause: Cause, *, counted: bool) -> None:
        """Stop ringing one agent; an offer that ends unanswered counts as unanswered."""
        call.offers.pop(offer.agent, None)
        self._out.append(StopRinging(call.uniqueid, offer.line, cause))
        self.leave(call, offer.agent, cause)
        a = self.agents.get(offer.agent)
        if counted and a is not None and call.queue_id is not None:
            a.stats.in_calls_unanswered += 1
            a.stats.queue(call.queue_id).unanswered += 1
        self._dirty.add(offer.agent)
        if not call.offers and not call.ended and call.connected_party is None:
            call.move(CallState.CONNECTING)
        self.touch(call)

    def reject_offer(self, call: Call, offer: Offer) -> None:
        self.end_offer(call, offer, Cause.REJECTED, counted=True)

    def free(self, agent: AgentId) -> bool:
        """Free for a queue call: READY, phone confirmed, on no call and rung by none."""
        a = self.agents.get(agent)
        session = self.sessions.get(agent)
        return (
            a is not None
            and a.status is Status.READY
            and session is not None
            and session.phase is Phase.READY
            and session.line is not None
            and not self.agent_calls.get(agent)
        )

    def _distribute(self) -> None:
        if not self._queued:
            return
        waiting: list[acd.Waiting] = []
        for uid in self._queued:
            call = self.calls[uid]
            q = self.directory.queues.get(call.queue_id)  # type: ignore[arg-type]
            if q is None or (call.offers and q.strategy is not Strategy.RING_ALL):
                continue
            seq = int(uid.rsplit(".", 1)[-1]) if uid.rsplit(".", 1)[-1].isdigit() else 0
            waiting.append(acd.Waiting(uid, q.weight, call.enqueued_at or call.created, seq))
        available = {a for a in self.sessions if self.free(a)}
        for w in acd.order_waiting(waiting):
            if not available:
                return
            call = self.calls[w.uniqueid]
            queue_id: QueueId = call.queue_id  # type: ignore[assignment]
            q = self.directory.queues[queue_id]
            candidates = []
            for agent in self.directory.members(queue_id):
                a = self.agents.get(agent)
                if a is None or agent not in available or queue_id in a.suspended:
                    continue
                m = a.config.membership(queue_id)
                f = a.stats.queues.get(queue_id)
                candidates.append(
                    acd.Candidate(
                        agent=agent,
                        available_since=a.available_since if a.free else self.now,
                        priority=m.priority if m else 1,
                        answered=f.answered if f else 0,
                    )
                )
            if not candidates:
                continue
            fresh = [c for c in candidates if c.agent not in call.tried]
            if not fresh and not call.offers:
                call.tried.clear()
                fresh = candidates
            chosen = acd.pick(q.strategy, fresh, last=self.rr_last.get(queue_id))
            for agent in chosen:
                self._offer(call, agent, q.ring_timeout)
                available.discard(agent)

    def _offer(self, call: Call, agent: AgentId, ring_timeout: float) -> None:
        line = self.sessions[agent].line
        assert line is not None
        expires = self.now + ring_timeout if ring_timeout > 0 else None
        party = self.agent_party(agent, line)
        call.offers[agent] = Offer(agent, line, party, self.now, expires)
        call.tried.add(agent)
        if call.state is not CallState.RINGING:
            call.move(CallState.RINGING)
        if expires is not None:
            self._arm(expires, "offer", (call.uniqueid, agent, expires))
        self._out.append(Ring(call.uniqueid, line, call.caller))
        self.touch(call)

    # ------------------------------------------------------------------ timers

    def _arm(self, when: float, kind: str, key: Any) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (when, self._timer_seq, kind, key))

    def _timer_valid(self, entry: tuple[float, int, str, Any]) -> bool:
        _, _, kind, key = entry
        if kind == "offer":
            uid, agent, expires = key
            call = self.calls.get(uid)
            offer = call.offers.get(agent) if call is not None else None
            return offer is not None and offer.expires == expires
        if kind == "direct":
            uid, expires = key
            call = self.calls.get(uid)
            return call is not None and call.ring_expires == expires
        if kind == "acw":
            agent, until = key
            a = self.agents.get(agent)
            return a is not None and a.status is Status.ACW and a.acw_until == until
        return False

    def _fire(self, entry: tuple[float, int, str, Any]) -> None:
        _, _, kind, key = entry
        if kind == "offer":
            uid, agent, _ = key
            call = self.calls[uid]
            self.end_offer(call, call.offers[agent], Cause.UNAVAILABLE, counted=True)
        elif kind == "direct":
            self.end_call(self.calls[key[0]], Cause.UNAVAILABLE)
        elif kind == "acw":
            self.set_status(key[0], Status.READY, None)

    def _new_day(self, midnight: float) -> None:
        for agent in self.agents.values():
            agent.new_day(midnight)
            self._dirty.add(agent.config.id)
        self.midnight = next_midnight(midnight, self.tz)

    # ------------------------------------------------------------------ telling the clients

    def activity(self, agent: Agent) -> Activity:
        aid = AgentId(agent.config.id)
        ringing_in: QueueId | None = None
        talking_in: list[QueueId] = []
        ringing_out: list[QueueId] = []
        talking_out: list[QueueId] = []
        calls = self.calls_of(aid)
        for c in calls:
            if aid in c.offers and c.queue_id is not None:
                ringing_in = c.queue_id
            elif c.handled_by == aid and c.queue_id is not None and c.state in _LIVE:
                talking_in.append(c.queue_id)
            elif c.outbound_id is not None and c.caller.user_id == aid:
                if c.state in _LIVE:
                    talking_out.append(c.outbound_id)
                else:
                    ringing_out.append(c.outbound_id)
        logged_in = agent.status is not Status.OFFLINE
        return Activity(
            status=agent.status,
            reason=agent.reason,
            idle=agent.status is Status.READY and not calls,
            ringing_in=ringing_in,
            talking_in=tuple(talking_in),
            ringing_out=tuple(ringing_out),
            talking_out=tuple(talking_out),
            suspended=tuple(sorted(agent.suspended)) if logged_in else (),
        )

    def _publish(self) -> None:
        for (uid, agent), cause in self._left.items():
            call = self.calls.get(uid) or self.ended.get(uid)
            if call is not None:
                self._push_call(call, agent, cause)
        for uid in self._changed:
            call = self.calls.get(uid)
            if call is not None:
                for agent in sorted(call.agents()):
                    self._push_call(call, agent, None)
            else:
                self._linked.pop(uid, None)
        self._changed.clear()
        self._left.clear()
        for aid in sorted(self._dirty):
            a = self.agents.get(aid)
            if a is None:
                continue
            a.accrue(self.now)
            a.activity = self.activity(a)
            free = self.free(aid)
            if free and not a.free:
                a.available_since = self.now
            a.free = free
            if aid in self.sessions:
                body = {"user": user_wire(a, self.directory, self.sessions.get(aid), self.now)}
                self._out.append(Push(aid, "user.changed", body))
        self._dirty.clear()
        for aid in sorted(self._session_changed):
            if aid in self.sessions:
                body = session_wire(self.sessions[aid], self.agents[aid])
                self._out.append(Push(aid, "session.changed", body))
        self._session_changed.clear()

    def _push_call(self, call: Call, agent: AgentId, left: Cause | None) -> None:
        """Tell the agent's connections about the call, naming the moment (``what``)."""
        key = (call.uniqueid, agent)
        seen = self._seen.get(key)
        if left is not None:
            if seen is None:
                return  # never told about it: nothing to take back
            del self._seen[key]
            view = call.view(agent, self.now, left=(left, call.disconnected or self.now))
            what = "hangup"
        else:
            view = call.view(agent, self.now)
            offered = call.side_of(agent) == "offered"
            state = CallState.RINGING if offered else call.state
            if seen is None:
                seen = self._seen[key] = _Seen(state=-1, connected=False)
            if state == CallState.RINGING and seen.state != CallState.RINGING:
                what = "ringing"
            elif state == CallState.CONNECTED and not seen.connected:
                what = "connect"
                seen.connected = True
            else:
                what = "change"
            seen.state = int(state)
        if agent in self.sessions:
            self._out.append(Push(agent, "call.changed", {"what": what, "call": view}))
