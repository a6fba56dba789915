"""The whole contact center as one aggregate: ``handle(event, now) -> effects``.

Everything is decided here, with time passed in; nothing here waits, reads a clock or does IO.
Timers come back as deadlines: ``next_deadline()`` says when to call ``on_deadline(now)``
(ring timeouts, the end of wrap-up, the day's roll-over at local midnight).

Each ``handle`` runs in three steps: carry out the event (commands are refused before anything
changes), offer waiting callers to free agents, then bring the touched agents' statistics up to
date and tell every connection what changed.

The ``Center`` owns the agents, the sessions and connections, the phones in use and the
registrations, and holds the owners of the rest, each keeping its own state (DESIGN.md §15):

- ``book`` (``CallBook``): the calls, who is on which, the queue offers;
- ``distributor`` (``Distributor``): the free agents and waiting callers, and who rings next;
- ``out`` (``Outbox``): what the current step produces and what it changed;
- ``timers`` (``Timers``): the typed timers, fired here in one ``match`` (``_fire``);
- ``lookups`` (``Lookups``): caller lookup in the CRM, the calls waiting for it, the answers;
- ``publisher`` (``Publisher``): what each agent's connections were told of each call;
- ``throttle`` (``Throttle``) and ``replay`` (``ReplayMemory``): failed logins, used SSO tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, ClassVar

from ucs.core import (
    callback,
    figures,
    methods,
    monitoring,
    phonehold,
    reconfigure,
    recording,
    registration,
    supervision,
    telephony,
    transfer,
    views,
    waiting,
)
from ucs.core.agent import Agent
from ucs.core.call import Call
from ucs.core.callbook import DIRECT_RING_TIMEOUT, CallBook
from ucs.core.directory import AgentConfig, Directory
from ucs.core.distribution import Distributor
from ucs.core.effects import (
    Effect,
    LoginLocked,
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
    AudioAnchored,
    CallbackRequested,
    Command,
    Connect,
    Disconnect,
    Dtmf,
    Event,
    HungUp,
    Kept,
    LookedUp,
    LookupSettings,
    MediaStatus,
    MonitorLeft,
    PhoneCall,
    PhoneHeld,
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
from ucs.core.figures import Figures
from ucs.core.ids import AgentId, ClientId, LineId, QueueId, UniqueId
from ucs.core.keeping import Keeping
from ucs.core.lookup import Lookups
from ucs.core.model import Cause, Phase, Status
from ucs.core.outbox import Outbox
from ucs.core.presence import GRACE, Deserted
from ucs.core.publish import Publisher
from ucs.core.queueday import QueueDay, QueueDays
from ucs.core.restore import saved_session
from ucs.core.session import Session, Throttle, bind, canonical
from ucs.core.softphone import is_softphone
from ucs.core.sso import DEFAULT_WINDOW, ReplayMemory
from ucs.core.teamwatch import TeamWatch
from ucs.core.timers import (
    AnnounceDue,
    CallerLeaves,
    DayEnds,
    DirectRingExpires,
    KeepExpires,
    LookupExpires,
    OfferExpires,
    SoftphoneDeserted,
    TeamTick,
    Timer,
    Timers,
    WrapUpEnds,
)
from ucs.core.waiting import QueueWaits

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
        softphone_grace: float = GRACE,
        uniqueid_prefix: str = "",
        keep_wait: float | None = None,
    ) -> None:
        """``uniqueid_prefix``: begins the uniqueids this center makes, so that the centers of
        a cluster's partitions, which count from the same number, never make the same one."""
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
        self.line_owner: dict[LineId, AgentId] = {}
        """The agent holding each phone in use."""
        self.registered: set[LineId] | None = None
        """Phones that can be rung, when the switch tells (``Registrations``); None: all."""
        self.media_available = False
        """A media engine is up: the softphone may be paired (``MediaStatus``)."""
        self.recording_available = False
        """Calls can be recorded: an engine is up and the recording tools are there."""
        self.phones_audio = False
        """The switch anchors desk phones' calls in the engine (``MediaStatus.phones``) and
        says per call whether it could (``AudioAnchored``, ``Call.anchored``)."""
        self.queue_waits = QueueWaits()
        """How long each queue's answered callers waited (the expected wait announced)."""
        self.midnight = next_midnight(now, tz)
        self.now = now
        self.out = Outbox()
        self.timers = Timers()
        self.lookups = Lookups()
        self.keeping = Keeping(keep_wait)
        """New calls whose record is not known to be kept yet ring nobody (``keeping.py``)."""
        self.deserted = Deserted(softphone_grace)
        self.book = CallBook(
            directory=directory,
            agents=self.agents,
            line_owner=self.line_owner,
            out=self.out,
            timers=self.timers,
            wrap_up=self.wrap_up,
            now=now,
            first_seq=first_seq,
            uniqueid_prefix=uniqueid_prefix,
        )
        # The book's, for reading: its calls, the recently ended ones, each agent's calls.
        self.calls = self.book.calls
        self.ended = self.book.ended
        self.agent_calls = self.book.agent_calls
        self.distributor = Distributor(
            agents=self.agents,
            sessions=self.sessions,
            calls=self.calls,
            is_free=self.free,
            offer=self._offer,
            unkept=self.keeping,
        )
        self.publisher = Publisher(
            agents=self.agents, sessions=self.sessions, book=self.book, out=self.out
        )
        self.queue_days = QueueDays()
        self.team_watch = TeamWatch()
        self.teams = supervision.Teams(directory)
        self.monitors: dict[AgentId, monitoring.Monitoring] = {}
        """Supervisors listening to (or barging into) a call, by supervisor."""

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
        first = self.timers.next(self._stands)
        return self.midnight if first is None else min(first, self.midnight)

    def on_deadline(self, now: float) -> list[Effect]:
        """Fire every timer due at ``now``: ring timeouts, end of wrap-up, roll-over."""
        self._begin(now)
        timers = self.timers
        while (timer := timers.pop_due(now)) is not None:
            if self._stands(timer):
                self._fire(timer)
        return self._finish()

    def restore(
        self,
        agents: Mapping[AgentId, Mapping[str, Any]],
        sessions: Mapping[AgentId, Mapping[str, Any]],
        now: float,
        queue_days: Mapping[QueueId, QueueDay] | None = None,
    ) -> list[Effect]:
        """Take back the agents and sessions saved before a restart (``AgentRecord`` and
        ``SessionRecord``): everyone logged in before is logged in after, with the same phone,
        status and today's statistics; and today's figures of the queues (``queue_days``,
        recounted from the call records). Connections come back with ``Attach``."""
        self._begin(now)
        if queue_days is not None:
            self.queue_days.restore(queue_days)
        for aid, state in agents.items():
            a = self.agents.get(aid)
            if a is not None:
                a.restore(state, self.now)
                if a.status is Status.ACW and a.acw_until is not None:
                    self.timers.arm(a.acw_until, WrapUpEnds(aid, a.acw_until))
                self.out.agents_touched.add(aid)
        for aid, saved in sessions.items():
            if aid not in self.agents:
                continue
            session = saved_session(saved, self.directory.lines)
            if session is None:
                continue
            self.sessions[aid] = session
            if session.line is not None:
                self.line_owner[session.line] = aid
            self.out.agents_touched.add(aid)
        return self._finish()

    # ------------------------------------------------------------------ the three steps

    def _begin(self, now: float) -> None:
        self.now = self.book.now = max(now, self.now)
        self.out.effects = []
        while self.now >= self.midnight:
            self._fire(DayEnds(self.midnight))

    def _finish(self) -> list[Effect]:
        out = self.out
        self.distributor.distribute(
            self.directory,
            self.now,
            (out.agents_touched, out.sessions_touched),
            out.calls_touched,
        )
        book, days = self.book, self.queue_days
        watching = self.teams.watched(self.sessions)
        watch = self.team_watch
        for uid in out.calls_touched:
            call = book.calls.get(uid) or book.ended.get(uid)
            if call is None:
                continue
            q = self.directory.queues.get(call.queue_id) if call.queue_id is not None else None
            days.see(call, ended=call.ended, target=q.service_level_target if q else None)
            if watching:
                home = call.home_queue
                watch.note(call.agents(), () if home is None else (home,))
        if self.monitors:
            monitoring.sweep(self)
        if watching:  # (a session's change: its phone, in the team view too)
            watch.note(out.agents_touched, ())
            watch.note(out.sessions_touched, ())
            if (due := watch.arm(self.now)) is not None:
                self.timers.arm(due, TeamTick(due))
        self.publisher.publish(self.directory, self.now, self.midnight, self.free)
        return out.take()

    def _command(self, ev: Command) -> None:
        if ev.client not in self.clients:
            self.clients[ev.client] = None
        agent = self.clients[ev.client]
        session = self.sessions.get(agent) if agent is not None else None
        phase = session.phase if session is not None else Phase.CREDENTIALS
        effects = self.out.effects
        mark = len(effects)
        try:
            args = bind(ev.method, ev.args, phase)
            name = canonical(ev.method)
            handler = (
                methods.HANDLERS.get(name)
                or supervision.HANDLERS.get(name)
                or recording.HANDLERS.get(name)
                or monitoring.HANDLERS[name]
            )
            result = handler(self, ev.client, agent, args)
        except UcsError as err:
            del effects[mark:]
            effects.append(Refuse(ev.client, ev.request, err.code, err.message))
            # A failed login that locked its username: the adapter logs it (docs/security.md).
            effects.extend(LoginLocked(u, s) for u, s in self.throttle.take_locks())
            return
        effects.append(Reply(ev.client, ev.request, result))

    # ------------------------------------------------------------------ clients

    def _on_connect(self, ev: Connect) -> None:
        self.clients.setdefault(ev.client, None)

    def _on_disconnect(self, ev: Disconnect) -> None:
        self.detach(ev.client)
        del self.clients[ev.client]

    def _on_media_status(self, ev: MediaStatus) -> None:
        # Paired softphones stay paired while the engine restarts: their calls end with a
        # cause (the media adapter hangs them up), the next ones ring again.
        self.media_available = ev.available
        self.recording_available = ev.available and ev.recording
        self.phones_audio = ev.available and ev.phones

    def _on_attach(self, ev: Attach) -> None:
        if ev.agent in self.sessions:
            self.join(ev.client, ev.agent)
            self.out.effects.append(Send(ev.client, "session.joined", self.welcome(ev.agent)))
        else:
            self.detach(ev.client)
            self.out.effects.append(Send(ev.client, "session.ended", {}))

    def welcome(self, agent: AgentId) -> dict[str, Any]:
        """The snapshot of the agent's session (``login``, ``sso``, ``session.joined``)."""
        a, session = self.agents[agent], self.sessions.get(agent)
        current, coached = monitoring.current(self, agent), monitoring.coached(self, agent)
        return views.welcome(a, session, self.directory, self.book, self.now, current, coached)

    def detach(self, client: ClientId) -> None:
        """The connection leaves whatever session it was in; it is in CREDENTIALS after."""
        agent = self.clients.get(client)
        session = self.sessions.get(agent) if agent is not None else None
        if session is not None and agent is not None:
            session.clients.discard(client)
            if not session.clients and is_softphone(session.line):
                due = self.deserted.left(agent, self.now)
                self.timers.arm(due, SoftphoneDeserted(agent, due))
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
            self.out.agents_touched.add(agent)
        session.clients.add(client)
        self.clients[client] = agent
        self.deserted.back(agent)

    def end_session(self, agent: AgentId, by: Mapping[str, Any] | None = None) -> None:
        """Log the agent out: availability OFFLINE, phone released, every connection told
        (``by``: the supervisor who did it, as the connections are told)."""
        session = self.sessions.pop(agent)
        self.deserted.back(agent)
        self.set_status(agent, Status.OFFLINE, None, by=AgentId(by["id"]) if by else None)
        if session.line is not None and self.line_owner.get(session.line) == agent:
            del self.line_owner[session.line]
        for client in session.clients:
            self.clients[client] = None
            self.out.effects.append(Send(client, "session.ended", {"by": dict(by)} if by else {}))
        self.out.sessions_touched.discard(agent)
        self.out.effects.append(SessionRecord(agent, None, None, None))
        self.out.agents_touched.add(agent)

    def session_changed(self, agent: AgentId) -> None:
        self.out.sessions_touched.add(agent)
        self._record_session(agent)

    def _record_session(self, agent: AgentId) -> None:
        s = self.sessions[agent]
        self.out.effects.append(
            SessionRecord(
                agent, s.phase, s.identifier, s.line, s.last_identifier, s.ringing_sound, s.theme
            )
        )

    # ------------------------------------------------------------------ availability

    def set_status(
        self,
        agent: AgentId,
        status: Status,
        reason: str | None,
        acw_until: float | None = None,
        *,
        by: AgentId | None = None,
        call: UniqueId | None = None,
    ) -> None:
        a = self.agents[agent]
        if a.status is status and a.reason == reason and a.acw_until == acw_until:
            return
        wrapped = None
        if a.acw_call is not None:  # an automatic wrap-up ends: its seconds go to its call
            wrapped = (str(a.acw_call), max(0.0, self.now - a.status_since))
        previous = None
        if a.status is not Status.OFFLINE:
            previous = (a.status, a.reason, a.status_since)
        a.status, a.reason, a.status_since, a.acw_until = status, reason, self.now, acw_until
        a.acw_call = call
        if acw_until is not None:
            self.timers.arm(acw_until, WrapUpEnds(agent, acw_until))
        self.out.effects.append(
            StatusRecord(agent, status, reason, self.now, by, wrapped, previous)
        )
        self.out.agents_touched.add(agent)
        if agent in self.sessions:
            self.out.sessions_touched.add(agent)

    def wrap_up(self, agent: AgentId, call: Call) -> None:
        """After the agent's part of a queue call: automatic ACW for the queue's wrap-up time."""
        a = self.agents.get(agent)
        q = self.directory.queues.get(call.queue_id) if call.queue_id is not None else None
        if a is None or q is None or q.wrapup <= 0 or a.status is not Status.READY:
            return
        self.set_status(agent, Status.ACW, None, acw_until=self.now + q.wrapup, call=call.uniqueid)

    def _on_lookup_settings(self, ev: LookupSettings) -> None:
        self.lookups.configure(ev.timeout)

    # ------------------------------------------------------------------ switch events

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
        Transferred: transfer.confirmed,
        SwitchFailed: transfer.failed,
        MediaStatus: _on_media_status,
        AudioAnchored: recording.on_audio_anchored,
        MonitorLeft: monitoring.on_monitor_left,
        Registrations: registration.on_registrations,
        Registration: registration.on_registration,
        Reconfigure: reconfigure.on_reconfigure,
        LookedUp: telephony.on_looked_up,
        Kept: telephony.on_kept,
        LookupSettings: _on_lookup_settings,
        CallbackRequested: callback.on_callback_requested,
        Dtmf: callback.on_dtmf,
        PhoneHeld: phonehold.on_phone_held,
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
            and self.reachable(session.line)
            and not self.agent_calls.get(agent)
        )

    def reachable(self, line: LineId) -> bool:
        """The switch can ring ``line``: it said nothing of registrations, or the phone is
        registered; a softphone rings in its browser, whatever the switch."""
        return self.registered is None or line in self.registered or is_softphone(line)

    # ------------------------------------------------------------------ questions from the edges

    def agent_of(self, client: ClientId) -> AgentId | None:
        """The agent whose session the connection is in (None: none, or not connected)."""
        return self.clients.get(client)

    def logged_in(self, agent: AgentId) -> bool:
        return agent in self.sessions

    def connections_of(self, agent: AgentId) -> frozenset[ClientId] | None:
        """The connections in the agent's session; None when the agent is not logged in."""
        session = self.sessions.get(agent)
        return frozenset(session.clients) if session is not None else None

    def team_view(
        self, now: float | None = None, supervisor: AgentId | None = None
    ) -> dict[str, Any]:
        """The whole center as a superuser's ``team()`` has it (every queue and agent), or
        ``supervisor``'s team and queues as their ``team()`` has them, at ``now`` (the
        clock's time between steps): for the wallboard (``/api/team``)."""
        at = self.now if now is None else max(now, self.now)
        if supervisor is not None:
            team, queues = self.teams.of(supervisor)
            return supervision.view(self, sorted(team), list(queues), at)
        return supervision.view(self, sorted(self.agents), sorted(self.directory.queues), at)

    def figures(self, now: float | None = None) -> Figures:
        """The live figures of the center, for a monitor (``/metrics``), at ``now`` (the
        clock's time between steps; the last step's by default)."""
        return figures.count(
            self.sessions,
            self.calls.values(),
            self.directory.queues,
            self.free,
            self.registered,
            (a.status for a in self.agents.values()),
            self.now if now is None else max(now, self.now),
        )

    def calls_of(self, agent: AgentId) -> list[Call]:
        """The agent's live calls, oldest first (the call book's answer)."""
        return self.book.calls_of(agent)

    def _offer(self, call: Call, agent: AgentId, ring_timeout: float) -> None:
        """Ring a free agent's phone with a waiting caller (the ``Distributor`` chose it)."""
        line = self.sessions[agent].line
        assert line is not None
        # A callback rings no phone: the agent's answer() dials the number.
        self.book.offer(call, agent, line, ring_timeout, ring=call.callback_to is None)

    def set_directory(self, directory: Directory) -> None:
        """The configuration changed (``reconfigure``): everyone reads the new one."""
        self.directory = self.book.directory = directory
        self.distributor.rebuild()  # strategies, weights, members and agents may all have changed
        self.teams = supervision.Teams(directory)

    # ------------------------------------------------------------------ timers

    def _stands(self, timer: Timer) -> bool:
        """The timer still means what it did when armed (else it is stale, and skipped)."""
        match timer:
            case OfferExpires(uid, agent, expires):
                call = self.calls.get(uid)
                offer = call.offers.get(agent) if call is not None else None
                return offer is not None and offer.expires == expires
            case DirectRingExpires(uid, expires):
                call = self.calls.get(uid)
                return call is not None and call.ring_expires == expires
            case WrapUpEnds(agent, until):
                a = self.agents.get(agent)
                return a is not None and a.status is Status.ACW and a.acw_until == until
            case AnnounceDue(uid, _):
                return waiting.waits(self.calls.get(uid))
            case LookupExpires(uid, expires):
                return self.lookups.holds(uid, expires)
            case CallerLeaves(uid, _):
                call = self.calls.get(uid)
                return call is not None and call.callback_left is not None
            case KeepExpires(uid, expires):
                return self.keeping.holds(uid, expires)
            case TeamTick(due):
                return self.team_watch.due == due
            case SoftphoneDeserted(agent, due):
                return self.deserted.holds(agent, due)
            case DayEnds():
                return True

    def _fire(self, timer: Timer) -> None:
        match timer:
            case OfferExpires(uid, agent, _):
                call = self.calls[uid]
                self.book.end_offer(call, call.offers[agent], Cause.UNAVAILABLE, counted=True)
                self._ring_no_answer(agent, call)
            case DirectRingExpires(uid, _):
                self.book.end_call(self.calls[uid], Cause.UNAVAILABLE)
            case WrapUpEnds(agent, _):
                self.set_status(agent, Status.READY, None)
            case AnnounceDue(uid, _):
                waiting.announce(self, self.calls[uid])
            case LookupExpires(uid, _):
                telephony.lookup_expired(self, uid)
            case CallerLeaves(uid, _):
                callback.caller_leaves(self, self.calls[uid])
            case KeepExpires(uid, _):
                telephony.keep_expired(self, uid)
            case TeamTick():
                supervision.tick(self)
            case SoftphoneDeserted(agent, _):
                self.deserted.back(agent)
                self.set_status(agent, Status.OFFLINE, None)
            case DayEnds(midnight):
                if self.teams.watched(self.sessions):  # today's figures begin again: told
                    self.team_watch.note((), list(self.queue_days.days))
                self.queue_days.new_day()
                for a in self.agents.values():
                    a.new_day(midnight)
                    self.out.agents_touched.add(a.config.id)
                self.midnight = next_midnight(midnight, self.tz)

    def _ring_no_answer(self, agent: AgentId, call: Call) -> None:
        """The agent let a queue call ring out: with the queue's ``rona_reason``, a READY agent
        goes to AUX (the desk is likely empty; the next callers go to others)."""
        q = self.directory.queues.get(call.queue_id) if call.queue_id is not None else None
        a = self.agents.get(agent)
        if q is None or q.rona_reason is None or a is None or a.status is not Status.READY:
            return
        self.set_status(agent, Status.AUX, q.rona_reason)
