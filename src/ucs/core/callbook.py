"""The calls' bookkeeping of the ``Center``: making and ending calls, who is on which, the
focus of an agent's buttons, and the parties (``Party``) that calls name.

A mixin of ``Center`` (whose state it uses, declared below); everything here runs inside a
``Center`` step.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, cast

from ucs.core import distribution, telephony
from ucs.core.agent import Agent
from ucs.core.call import Call
from ucs.core.directory import Directory, LineConfig
from ucs.core.effects import CallRecord, Effect, Hangup
from ucs.core.ids import AgentId, LineId, UniqueId
from ucs.core.model import CallState, Cause, Direction, Party, PartyType
from ucs.core.numbers import normalize

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["DIRECT_RING_TIMEOUT", "CallBook"]

DIRECT_RING_TIMEOUT = 30.0
"""Seconds one of our phones rings with a direct call (not a queue's) before cause 6."""
_RECENT_CALLS = 10_000
"""Ended calls kept (for account codes in wrap-up and the agents' recent calls)."""


class CallBook:
    """Calls: made, indexed by agent, ended and recorded."""

    directory: Directory
    agents: dict[AgentId, Agent]
    calls: dict[UniqueId, Call]
    ended: OrderedDict[UniqueId, Call]
    line_owner: dict[LineId, AgentId]
    agent_calls: dict[AgentId, set[UniqueId]]
    seq: int
    now: float
    _next_id: int
    _live_ids: set[int]
    _linked: dict[UniqueId, set[AgentId]]
    _participants: dict[UniqueId, set[AgentId]]
    _out: list[Effect]
    _dirty: set[AgentId]
    _changed: dict[UniqueId, None]
    _left: dict[tuple[UniqueId, AgentId], Cause]

    @property
    def _center(self) -> Center:
        return cast("Center", self)  # a CallBook is only ever the Center it is mixed into

    if TYPE_CHECKING:  # the Center's, used here

        def wrap_up(self, agent: AgentId, call: Call) -> None: ...

        def _arm(self, when: float, kind: str, key: Any) -> None: ...

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
                    self._center, other, other.offers[agent], Cause.UNAVAILABLE, counted=False
                )

    def leave(self, call: Call, agent: AgentId, cause: Cause) -> None:
        """``agent`` leaves a call that goes on without them."""
        self._left[(call.uniqueid, agent)] = cause

    def end_call(self, call: Call, cause: Cause, *, hangup: bool = True) -> None:
        """End the whole call, drop it on the switch, record it, and wrap up its agents."""
        if call.ended:
            return
        for offer in list(call.offers.values()):
            distribution.end_offer(self._center, call, offer, cause, counted=True)
        agents_on = call.agents()
        call.end(cause, self.now)
        if hangup:
            self._out.append(Hangup(call.uniqueid, cause))
        if call.outbound_id is not None and call.connected_at is None:
            caller = call.caller.user_id
            if caller is not None and caller in self.agents:
                telephony.count_out(self._center, caller, call.outbound_id, answered=False)
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
