"""The whole contact center as one aggregate: ``handle(event, now) -> effects``.

Everything is decided here, with time passed in; nothing here waits, reads a clock or does IO.
Timers come back as deadlines: ``next_deadline()`` says when to call ``on_deadline(now)``
(ring timeouts, the end of wrap-up, the day's roll-over at local midnight).

Each ``handle`` runs in three steps: carry out the event (commands are refused before anything
changes), offer waiting callers to free agents, then bring the touched agents' statistics up to
date and tell every connection what changed. The calls' bookkeeping is ``callbook.py``'s,
mixed in.
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
from ucs.core.callbook import DIRECT_RING_TIMEOUT, CallBook
from ucs.core.directory import AgentConfig, Directory
from ucs.core.effects import (
    Effect,
    LoginLocked,
    Push,
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
from ucs.core.model import Cause, Phase, Status
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


def next_midnight(now: float, tz: tzinfo) -> float:
    """The first local midnight after ``now``."""
    today = datetime.fromtimestamp(now, tz).date()
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz).timestamp()


def last_midnight(now: float, tz: tzinfo) -> float:
    """The local midnight that began the day of ``now`` (days are 23 or 25 h long at DST)."""
    today = datetime.fromtimestamp(now, tz).date()
    return datetime.combine(today, time(0), tzinfo=tz).timestamp()


class Center(CallBook):
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
            # A failed login that locked its username: the adapter logs it (docs/security.md).
            self._out.extend(LoginLocked(u, s) for u, s in self.throttle.take_locks())
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
                self.warn_unregistered(agent)

    def _on_registration(self, ev: Registration) -> None:
        """Said again at every refresh of a registration: only a change changes anything."""
        if self.registered is None:
            return  # the switch said nothing of registrations: every phone can be rung
        if (ev.line in self.registered) == ev.registered:
            return
        if ev.registered:
            self.registered.add(ev.line)
        else:
            self.registered.discard(ev.line)
        agent = self.line_owner.get(ev.line)
        if agent is not None:
            self._dirty.add(agent)
            self.warn_unregistered(agent)

    def warn_unregistered(self, agent: AgentId) -> None:
        """Tell the agent (``error``, ``SWITCH_FAILURE``) when the phone it works with is not
        registered: no queue call reaches it, whatever its availability says."""
        session = self.sessions.get(agent)
        if (
            self.registered is None
            or session is None
            or session.phase is not Phase.READY
            or session.line is None
            or session.line in self.registered
        ):
            return
        message = (
            f"phone {session.identifier} is not registered: "
            "no queue calls reach it until it registers"
        )
        body = {
            "code": SWITCH_FAILURE,
            "message": message,
            "reason": "unregistered",  # for the component to say it in the agent's language
            "identifier": session.identifier,
        }
        self._out.append(Push(agent, "error", body))

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
            self._ring_no_answer(agent, call)
        elif kind == "direct":
            self.end_call(self.calls[key[0]], Cause.UNAVAILABLE)
        elif kind == "acw":
            self.set_status(key[0], Status.READY, None)

    def _ring_no_answer(self, agent: AgentId, call: Call) -> None:
        """The agent let a queue call ring out: with the queue's ``rona_reason``, a READY agent
        goes to AUX (the desk is likely empty; the next callers go to others)."""
        q = self.directory.queues.get(call.queue_id) if call.queue_id is not None else None
        a = self.agents.get(agent)
        if q is None or q.rona_reason is None or a is None or a.status is not Status.READY:
            return
        self.set_status(agent, Status.AUX, q.rona_reason)

    def _new_day(self, midnight: float) -> None:
        for agent in self.agents.values():
            agent.new_day(midnight)
            self._dirty.add(agent.config.id)
        self.midnight = next_midnight(midnight, self.tz)

    # ------------------------------------------------------------------ telling the clients
