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
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, ClassVar

from sortedcontainers import SortedList

from ucs.core import distribution, methods, publish, reconfigure, telephony, transfer, views
from ucs.core.agent import Agent
from ucs.core.call import Call
from ucs.core.directory import AgentConfig, Directory, LineConfig
from ucs.core.effects import (
    CallRecord,
    Effect,
    Hangup,
    Refuse,
    Reply,
    Send,
    SessionRecord,
    StatusRecord,
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
    PhoneCall,
    Reconfigure,
    Registration,
    Registrations,
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

__all__ = [
    "DIRECT_RING_TIMEOUT",
    "SWITCH_FAILURE",
    "Center",
    "PasswordCheck",
    "last_midnight",
    "next_midnight",
]

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


def last_midnight(now: float, tz: tzinfo) -> float:
    """The local midnight that began the day of ``now`` (days are 23 or 25 h long at DST)."""
    today = datetime.fromtimestamp(now, tz).date()
    return datetime.combine(today, time(0), tzinfo=tz).timestamp()


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
        self.registered: set[LineId] | None = None
        """Phones that can be rung, when the switch tells (``Registrations``); None: all."""
        self.seq = first_seq
        self.midnight = next_midnight(now, tz)
        self.now = now
        self._next_id = 1
        self._live_ids: set[int] = set()
        # Distribution's indexes, brought up to date at the end of each step (``reconcile``).
        self._free: dict[AgentId, float] = {}
        """Free agents, each with the time it became free (longest idle first in the order)."""
        self._free_order: SortedList[tuple[float, AgentId]] = SortedList()
        self._waiting: dict[QueueId, SortedList[distribution.WaitEntry]] = {}
        self._wait_key: dict[UniqueId, tuple[QueueId, distribution.WaitEntry]] = {}
        self._reindex = False
        self._linked: dict[UniqueId, set[AgentId]] = {}
        self._participants: dict[UniqueId, set[AgentId]] = {}
        self._seen: dict[tuple[UniqueId, AgentId], publish.Seen] = {}
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

    def restore(
        self,
        agents: Mapping[AgentId, Mapping[str, Any]],
        sessions: Mapping[AgentId, Mapping[str, Any]],
        now: float,
    ) -> list[Effect]:
        """Take back the agents and sessions saved before a restart (``AgentRecord`` and
        ``SessionRecord``): everyone logged in before is logged in after, with the same phone,
        status and today's statistics. Connections come back with ``Attach``."""
        self._begin(now)
        for aid, state in agents.items():
            a = self.agents.get(aid)
            if a is not None:
                a.restore(state, self.now)
                if a.status is Status.ACW and a.acw_until is not None:
                    self._arm(a.acw_until, "acw", (aid, a.acw_until))
                self._dirty.add(aid)
        for aid, saved in sessions.items():
            if aid not in self.agents or saved.get("phase") is None:
                continue
            line = saved.get("line")
            session = Session(
                phase=Phase(saved["phase"]),
                identifier=saved.get("identifier"),
                line=LineId(line) if line is not None else None,
                last_identifier=saved.get("last_identifier"),
                ringing_sound=saved.get("ringing_sound") or "default",
                theme=saved.get("theme") or "default",
            )
            if session.line is not None and session.line not in self.directory.lines:
                session.phase, session.identifier, session.line = Phase.IDENTIFY, None, None
            self.sessions[aid] = session
            if session.line is not None:
                self.line_owner[session.line] = aid
            self._dirty.add(aid)
        return self._finish()

    # ------------------------------------------------------------------ the three steps

    def _begin(self, now: float) -> None:
        self.now = max(now, self.now)
        self._out = []
        while self.now >= self.midnight:
            self._new_day(self.midnight)

    def _finish(self) -> list[Effect]:
        distribution.distribute(self)
        publish.publish(self)
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
        self.detach(ev.client)
        del self.clients[ev.client]

    def _on_attach(self, ev: Attach) -> None:
        if ev.agent in self.sessions:
            self.join(ev.client, ev.agent)
            self._out.append(Send(ev.client, "session.joined", views.welcome(self, ev.agent)))
        else:
            self.detach(ev.client)
            self._out.append(Send(ev.client, "session.ended", {}))

    def detach(self, client: ClientId) -> None:
        """The connection leaves whatever session it was in; it is in CREDENTIALS after."""
        agent = self.clients.get(client)
        session = self.sessions.get(agent) if agent is not None else None
        if session is not None:
            session.clients.discard(client)
        self.clients[client] = None

    def require(self, agent: AgentId | None) -> AgentId:
        if agent is None or agent not in self.sessions:  # bind() refuses these before
            raise InvalidState("not logged in")
        return agent

    def join(self, client: ClientId, agent: AgentId) -> None:
        """Attach a connection to the agent's session, opening the session if there is none."""
        self.detach(client)
        session = self.sessions.get(agent)
        if session is None:
            session = self.sessions[agent] = Session()
            self._record_session(agent)
            self._dirty.add(agent)
        session.clients.add(client)
        self.clients[client] = agent

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
        self._out.append(
            SessionRecord(
                agent, s.phase, s.identifier, s.line, s.last_identifier, s.ringing_sound, s.theme
            )
        )

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
        """The next call ``id`` in 1–65535 that no live call has (ids rotate)."""
        while True:
            cid = self._next_id
            self._next_id = cid % 65535 + 1
            if cid not in self._live_ids:
                self._live_ids.add(cid)
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
            if call.side_of(agent) != "offered":
                self._withdraw_offers(agent, but=uid)
        self._dirty.update(before | now_on)
        self._linked[uid] = now_on
        self._participants.setdefault(uid, set()).update(now_on)
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

    def _withdraw_offers(self, agent: AgentId, but: UniqueId) -> None:
        """Another call reached the agent's phone (dialled to it, transferred to it): a queue
        call ringing there goes back to its queue for someone free, uncounted."""
        for uid in list(self.agent_calls.get(agent, ())):
            other = self.calls.get(uid)
            if uid != but and other is not None and agent in other.offers:
                distribution.end_offer(
                    self, other, other.offers[agent], Cause.UNAVAILABLE, counted=False
                )

    def leave(self, call: Call, agent: AgentId, cause: Cause) -> None:
        """``agent`` leaves a call that goes on without them."""
        self._left[(call.uniqueid, agent)] = cause

    def end_call(self, call: Call, cause: Cause, *, hangup: bool = True) -> None:
        """End the whole call, drop it on the switch, record it, and wrap up its agents."""
        if call.ended:
            return
        for offer in list(call.offers.values()):
            distribution.end_offer(self, call, offer, cause, counted=True)
        agents_on = call.agents()
        call.end(cause, self.now)
        if hangup:
            self._out.append(Hangup(call.uniqueid, cause))
        if call.outbound_id is not None and call.connected_at is None:
            caller = call.caller.user_id
            if caller is not None and caller in self.agents:
                telephony.count_out(self, caller, call.outbound_id, answered=False)
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
        self._live_ids.discard(call.id)
        self.ended[call.uniqueid] = call
        while len(self.ended) > _RECENT_CALLS:
            old, _ = self.ended.popitem(last=False)
            self._participants.pop(old, None)
        self._out.append(self.record(call))
        for agent in agents_on:
            if call.queue_id is not None and call.handled_by == agent:
                self.wrap_up(agent, call)

    def record(self, call: Call, *, live: bool = False) -> CallRecord:
        return CallRecord(
            call=call.view(None, self.now),
            account_codes=tuple((a.code, a.sub) for a in call.account_codes),
            queue_id=call.queue_id,
            live=live,
        )

    def calls_of(self, agent: AgentId) -> list[Call]:
        """The agent's live calls, oldest first."""
        found = [self.calls[u] for u in self.agent_calls.get(agent, ()) if u in self.calls]
        # Same second: the shorter uniqueid is the older ("….9" before "….10").
        return sorted(found, key=lambda c: (c.created, len(c.uniqueid), c.uniqueid))

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

    def _on_transferred(self, ev: Transferred) -> None:
        transfer.confirmed(self, ev)

    def _on_switch_failed(self, ev: SwitchFailed) -> None:
        transfer.failed(self, ev)

    def _on_registrations(self, ev: Registrations) -> None:
        before = self.registered
        self.registered = set(ev.lines)
        for line, agent in self.line_owner.items():
            if before is None or (line in before) != (line in self.registered):
                self._dirty.add(agent)

    def _on_registration(self, ev: Registration) -> None:
        if self.registered is None:
            return  # the switch said nothing of registrations: every phone can be rung
        if ev.registered:
            self.registered.add(ev.line)
        else:
            self.registered.discard(ev.line)
        agent = self.line_owner.get(ev.line)
        if agent is not None:
            self._dirty.add(agent)

    _EVENTS: ClassVar[dict[type, Callable[[Center, Any], None]]] = {
        Connect: _on_connect,
        Disconnect: _on_disconnect,
        Attach: _on_attach,
        TrunkCall: telephony.on_trunk_call,
        PhoneCall: telephony.on_phone_call,
        Answered: telephony.on_answered,
        RemoteRinging: telephony.on_remote_ringing,
        RemoteAnswered: telephony.on_remote_answered,
        RemoteFailed: telephony.on_remote_failed,
        HungUp: telephony.on_hung_up,
        Transferred: _on_transferred,
        SwitchFailed: _on_switch_failed,
        Registrations: _on_registrations,
        Registration: _on_registration,
        Reconfigure: reconfigure.on_reconfigure,
    }

    # ------------------------------------------------------------------ offers and distribution

    def free(self, agent: AgentId) -> bool:
        """Free for a queue call: READY, phone confirmed and registered (when the switch tells),
        on no call and rung by none."""
        a = self.agents.get(agent)
        session = self.sessions.get(agent)
        return (
            a is not None
            and a.status is Status.READY
            and session is not None
            and session.phase is Phase.READY
            and session.line is not None
            and (self.registered is None or session.line in self.registered)
            and not self.agent_calls.get(agent)
        )

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
            distribution.end_offer(self, call, call.offers[agent], Cause.UNAVAILABLE, counted=True)
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
