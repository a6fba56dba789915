"""A whole contact center on a virtual clock: the core and the simulated switch wired together.

No asyncio and no real time: ``advance(seconds)`` jumps from deadline to deadline, so a day of a
contact center runs in a moment. The tests use it; so can anyone asking "what if" of a queue
configuration.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from ucs.core.center import Center
from ucs.core.directory import AgentConfig, Directory
from ucs.core.effects import (
    AgentRecord,
    CallRecord,
    Created,
    Effect,
    Push,
    Refuse,
    Reply,
    Send,
    SessionRecord,
    StatusRecord,
    SwitchEffect,
)
from ucs.core.errors import ERROR_CODES, UcsError
from ucs.core.events import Command, Connect, Event, HungUp, PhoneCall, TrunkCall
from ucs.core.ids import AgentId, ClientId, LineId, QueueId, RequestId, UniqueId
from ucs.core.model import Cause
from ucs.core.session import Throttle
from ucs.core.views import state_object
from ucs.switch.simulated import SimulatedSwitch

__all__ = ["VirtualCenter"]


def _plain_passwords(passwords: dict[str, str]) -> Callable[[AgentConfig, str], bool]:
    def check(agent: AgentConfig, password: str) -> bool:
        return passwords.get(agent.username) == password

    return check


class VirtualCenter:
    """The core and the simulated switch, with a clock that only moves when told to."""

    def __init__(
        self,
        directory: Directory,
        *,
        start: float,
        passwords: dict[str, str],
        sso_secret: str = "",
        tz: Any = None,
        switch: SimulatedSwitch | None = None,
        throttle: Throttle | None = None,
        store: Callable[[Effect], None] | None = None,
    ) -> None:
        """``store``, when given, gets every storage effect (call records, the status log,
        agents' state, sessions), as the store's writer does in a server."""
        from datetime import UTC

        self.now = start
        self.center = Center(
            directory,
            start,
            passwords=_plain_passwords(passwords),
            sso_secret=sso_secret,
            tz=tz or UTC,
            throttle=throttle,
        )
        self.switch = switch or SimulatedSwitch(region=directory.region)
        self.store = store
        self.effects: list[Effect] = []
        """Every effect the core produced, in order."""
        self.inbox: dict[ClientId, list[tuple[str, dict[str, Any]]]] = {}
        """Messages each connection received (pushes to its agent and sends to it)."""
        self.records: dict[UniqueId, CallRecord] = {}
        """The call records of finished calls."""
        self.live_records: dict[UniqueId, CallRecord] = {}
        """The last record of each call in progress."""
        self.status_log: list[StatusRecord] = []
        self._replies: dict[RequestId, Reply | Refuse] = {}
        self._request = 0
        self._client = 0

    # --- feeding the core --------------------------------------------------------------------

    def feed(self, event: Event) -> list[Effect]:
        """Give one event to the core and carry out every consequence that is immediate."""
        produced: list[Effect] = []
        queue: deque[Event] = deque([event])
        while queue:
            ev = queue.popleft()
            effects = self.center.handle(ev, self.now)
            produced.extend(effects)
            queue.extend(self._carry_out(effects))
        return produced

    def _carry_out(self, effects: Iterable[Effect]) -> list[Event]:
        follow: list[Event] = []
        for eff in effects:
            self.effects.append(eff)
            if self.store is not None and isinstance(
                eff, CallRecord | StatusRecord | AgentRecord | SessionRecord
            ):
                self.store(eff)
            if isinstance(eff, SwitchEffect):
                follow.extend(self.switch.apply(eff, self.now))
            elif isinstance(eff, Reply | Refuse):
                self._replies[eff.request] = eff
            elif isinstance(eff, Push):
                session = self.center.sessions.get(eff.agent)
                for client in session.clients if session else ():
                    self.inbox.setdefault(client, []).append((eff.type, dict(eff.body)))
            elif isinstance(eff, Send):
                self.inbox.setdefault(eff.client, []).append((eff.type, dict(eff.body)))
            elif isinstance(eff, CallRecord):
                uid = UniqueId(str(eff.call["uniqueid"]))
                if eff.live:
                    self.live_records[uid] = eff
                else:
                    self.records[uid] = eff
                    self.live_records.pop(uid, None)
            elif isinstance(eff, StatusRecord):
                self.status_log.append(eff)
        return follow

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, firing every deadline on the way in order."""
        until = self.now + seconds
        while True:
            core = self.center.next_deadline()
            sw = self.switch.next_deadline()
            nxt = min(core, sw) if sw is not None else core
            if nxt > until:
                break
            self.now = max(self.now, nxt)
            if sw is not None and sw <= core:
                for ev in self.switch.on_deadline(self.now):
                    self.feed(ev)
            else:
                effects = self.center.on_deadline(self.now)
                for ev in self._carry_out(effects):
                    self.feed(ev)
        self.now = until

    # --- what a client does ------------------------------------------------------------------

    def connect(self) -> ClientId:
        self._client += 1
        client = ClientId(self._client)
        self.feed(Connect(client))
        return client

    def call(self, client: ClientId, method: str, *args: Any) -> Any:
        """Call a method as a client would; a refusal raises the matching ``UcsError``."""
        self._request += 1
        request = RequestId(str(self._request))
        self.feed(Command(client, request, method, list(args)))
        answer = self._replies.pop(request)
        if isinstance(answer, Refuse):
            raise ERROR_CODES.get(answer.code, UcsError)(answer.message)
        return answer.result

    def agent_ready(self, username: str, password: str, identifier: str) -> ClientId:
        """Log in, pair and confirm a phone, and go READY: a working agent."""
        client = self.connect()
        self.call(client, "login", username, password)
        self.call(client, "selectIdentifier", identifier)
        self.call(client, "provision")
        self.call(client, "changeStatus", "READY")
        return client

    def ready(self, n: int) -> ClientId:
        """``agent{n}`` logged in on ``phone{n}`` (password ``agent{n}-pass``, as in the demo
        center and the tests' own), READY."""
        return self.agent_ready(f"agent{n}", f"agent{n}-pass", f"phone{n}")

    def user(self, client: ClientId) -> dict[str, Any]:
        """The User object the connection's agent gets from ``state()`` now."""
        user: dict[str, Any] = self.call(client, "state")["user"]
        return user

    def caller(self, queue: int, number: str = "+420601123456", **kw: Any) -> UniqueId:
        """An outside caller rings into a queue; returns the call's uniqueid."""
        effects = self.feed(TrunkCall(number=number, queue=QueueId(queue), **kw))
        return next(e.uniqueid for e in effects if isinstance(e, Created))

    def caller_hangs_up(self, uid: UniqueId) -> None:
        self.feed(self.switch.caller_hangup(uid))

    def phone_dials(self, line: int, number: str) -> UniqueId:
        """The phone on ``line`` dials ``number`` itself (handset); returns the call's uniqueid."""
        effects = self.feed(PhoneCall(LineId(line), number))
        return next(e.uniqueid for e in effects if isinstance(e, Created))

    def phone_hangs_up(self, uid: UniqueId, line: int) -> None:
        """The phone on ``line`` puts its handset down (or rejects the call ringing there)."""
        self.feed(HungUp(uid, LineId(line)))

    def messages(self, client: ClientId, type_: str | None = None) -> list[dict[str, Any]]:
        return [body for t, body in self.inbox.get(client, []) if type_ is None or t == type_]

    def calls_seen(self, client: ClientId) -> list[tuple[str, dict[str, Any]]]:
        """``(what, call)`` of every call message the connection got."""
        return [(b["what"], b["call"]) for b in self.messages(client, "call.changed")]

    def seen(self, client: ClientId, uid: str) -> list[tuple[str, dict[str, Any]]]:
        """``(what, call)`` of every message the connection got about one call."""
        return [(w, c) for w, c in self.calls_seen(client) if c["uniqueid"] == uid]

    def last_call(self, client: ClientId, uid: str) -> tuple[str, dict[str, Any]]:
        """``(what, call)`` of the last message the connection got about the call; an
        ``AssertionError`` if it got none."""
        seen = self.seen(client, uid)
        assert seen, f"the connection was never told about call {uid}"
        return seen[-1]

    def state_object(self, agent: AgentId) -> dict[str, Any]:
        """The agent's state object as the core has it now (what ``state()`` answers)."""
        c = self.center
        return state_object(c.agents[agent], c.sessions.get(agent), c.directory, c.book, c.now)

    def cause_of(self, uid: UniqueId) -> Cause:
        return Cause(int(self.records[uid].call["cause"]))
