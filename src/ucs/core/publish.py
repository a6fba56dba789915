"""The end of each step: statistics brought up to date, and every connection told what changed.

The ``Publisher`` consumes the step's ``Outbox`` (who left which call, the calls and agents
touched, the sessions changed) and owns what each agent's connections were told of each call
(``Seen``), so that each call message names its moment (``what``): ``ringing``, ``connect``,
``hangup`` or ``change``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ucs.core import dispositions
from ucs.core.agent import Activity, Agent
from ucs.core.call import Call
from ucs.core.callbook import CallBook
from ucs.core.directory import Directory
from ucs.core.effects import AgentRecord, Push
from ucs.core.ids import AgentId, QueueId, UniqueId
from ucs.core.model import CallState, Cause, Side, Status
from ucs.core.outbox import Outbox
from ucs.core.session import Session
from ucs.core.views import session_wire, user_wire

__all__ = ["Publisher", "Seen", "activity"]

_LIVE = (CallState.CONNECTED, CallState.SUSPENDED, CallState.HELD)


@dataclass(slots=True)
class Seen:
    """What an agent's connections were last told about one call."""

    state: int
    connected: bool
    told: dict[str, object] | None = None
    """The last ``call.changed`` body sent, so that a touch changing nothing visible (only
    ``now``) is not pushed again."""


def activity(book: CallBook, agent: Agent) -> Activity:
    """What the agent is doing now, as far as its statistics are concerned."""
    aid = AgentId(agent.config.id)
    ringing_in: QueueId | None = None
    talking_in: list[QueueId] = []
    ringing_out: list[QueueId] = []
    talking_out: list[QueueId] = []
    calls = book.calls_of(aid)
    for call in calls:
        if aid in call.offers and call.queue_id is not None:
            ringing_in = call.queue_id
        elif call.handled_by == aid and call.queue_id is not None and call.state in _LIVE:
            talking_in.append(call.queue_id)
        elif call.outbound_id is not None and call.caller.user_id == aid:
            if call.state in _LIVE:
                talking_out.append(call.outbound_id)
            else:
                ringing_out.append(call.outbound_id)
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


class Publisher:
    """Tells every connection what the step changed, from the step's ``Outbox``."""

    __slots__ = ("_agents", "_book", "_out", "_recorded", "_seen", "_sessions")

    def __init__(
        self,
        *,
        agents: Mapping[AgentId, Agent],
        sessions: Mapping[AgentId, Session],
        book: CallBook,
        out: Outbox,
    ) -> None:
        self._agents = agents
        self._sessions = sessions
        self._book = book
        self._out = out
        self._seen: dict[tuple[UniqueId, AgentId], Seen] = {}
        self._recorded: dict[UniqueId, tuple[object, ...]] = {}
        """What each live call's last live record said that its record's reader needs
        (``_on_record``): a change of nothing else (an offer, its ring timer) writes none."""

    def publish(
        self, directory: Directory, now: float, midnight: float, free: Callable[[AgentId], bool]
    ) -> None:
        """Consume the outbox's notes: call messages, statistics and availability, sessions."""
        out, book, agents, sessions = self._out, self._book, self._agents, self._sessions
        effects = out.effects
        for (uid, agent), cause in out.left.items():
            call = book.calls.get(uid) or book.ended.get(uid)
            if call is not None:
                self.push_call(call, agent, cause, now)
        for uid in out.calls_touched:
            call = book.calls.get(uid)
            if call is not None:
                for agent in sorted(call.agents()):
                    self.push_call(call, agent, None, now)
                on_record = _on_record(call)
                if self._recorded.get(uid) != on_record:
                    self._recorded[uid] = on_record
                    effects.append(book.record(call, live=True))
            else:
                self._recorded.pop(uid, None)
                book.forget(uid)
        out.calls_touched.clear()
        out.left.clear()
        for aid in sorted(out.agents_touched):
            a = agents.get(aid)
            if a is None:
                continue
            a.accrue(now)
            a.activity = activity(book, a)
            is_free = free(aid)
            if is_free and not a.free:
                a.available_since = now
            a.free = is_free
            effects.append(AgentRecord(aid, a.to_state(midnight)))
            if aid in sessions:
                body = {"user": user_wire(a, directory, sessions.get(aid), now)}
                effects.append(Push(aid, "user.changed", body))
        out.agents_touched.clear()
        for aid in sorted(out.sessions_touched):
            if aid in sessions:
                body = session_wire(sessions[aid], agents[aid])
                effects.append(Push(aid, "session.changed", body))
        out.sessions_touched.clear()

    def push_call(self, call: Call, agent: AgentId, left: Cause | None, now: float) -> None:
        """Tell the agent's connections about the call, naming the moment (``what``)."""
        key = (call.uniqueid, agent)
        seen = self._seen.get(key)
        if left is not None:
            if seen is None:
                return  # never told about it: nothing to take back
            del self._seen[key]
            view = call.view(agent, now, left=(left, call.disconnected or now))
            what = "hangup"
        else:
            view = call.view(agent, now)
            offered = call.side_of(agent) is Side.OFFERED
            state = CallState.RINGING if offered else call.state
            if seen is None:
                seen = self._seen[key] = Seen(state=-1, connected=False)
            if state == CallState.RINGING and seen.state != CallState.RINGING:
                what = "ringing"
            elif state == CallState.CONNECTED and not seen.connected:
                what = "connect"
                seen.connected = True
            else:
                what = "change"
            seen.state = int(state)
        if agent in self._sessions:
            # Beside the Call object: the account codes its agent may give it (dispositions).
            codes = dispositions.choices(call, self._book.directory.queues)
            body: dict[str, object] = {"what": what, "call": view, "dispositions": codes}
            if seen is not None:
                if what == "change" and _same(seen.told, body):
                    return
                seen.told = body
            self._out.effects.append(Push(agent, "call.changed", body))


def _on_record(call: Call) -> tuple[object, ...]:
    """What a live call's record must keep up with: a server that dies ends the call as its
    last live record says (``Store.end_live_calls``), and the reports, the metrics and the
    recorder read these."""
    party = call.connected_party
    return (
        call.state,
        call.queue_id,
        call.handled_by,
        call.agents_on_record(),
        None if party is None else (party.type, party.number, party.user_id),
        call.recorded,
        call.name,
        call.external_id,
        len(call.account_codes),
        len(call.data),
    )


def _same(told: dict[str, object] | None, body: dict[str, object]) -> bool:
    """Whether ``body`` says what ``told`` said, but for the moment it was said."""
    if told is None or told["dispositions"] != body["dispositions"]:
        return False
    before, view = told["call"], body["call"]
    assert isinstance(before, dict) and isinstance(view, dict)
    return {**view, "now": before["now"]} == before
