"""The call book: every live call and the recently ended ones, who is on which, the queue offers
ringing, the focus of an agent's buttons, and the parties (``Party``) that calls name.

The ``CallBook`` is a member of the ``Center``, not a base: it owns the calls (``calls``,
``ended``), the index of each agent's calls (``agent_calls``) and who has ever been on each
(``participated``), the short call ids (``CallIds``) and the uniqueid sequence (``seq``). It
writes what it does into the step's ``Outbox`` and arms its timers (an offer or a direct ring
expiring) in the ``Timers`` it is given; the one thing it asks of the ``Center`` is to wrap up
an agent after a queue call (``wrap_up``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping

from ucs.core import softphone
from ucs.core.agent import Agent
from ucs.core.call import Call, Offer
from ucs.core.directory import Directory, LineConfig
from ucs.core.effects import CallRecord, Hangup, Ring, StopRinging
from ucs.core.ids import AgentId, LineId, QueueId, UniqueId
from ucs.core.model import CallState, Cause, Direction, Party, PartyType, Side
from ucs.core.numbers import normalize
from ucs.core.outbox import Outbox
from ucs.core.softphone import is_softphone
from ucs.core.timers import DirectRingExpires, OfferExpires, Timers

__all__ = ["DIRECT_RING_TIMEOUT", "CallBook", "CallIds"]

DIRECT_RING_TIMEOUT = 30.0
"""Seconds one of our phones rings with a direct call (not a queue's) before cause 6."""
_RECENT_CALLS = 10_000
"""Ended calls kept (for account codes in wrap-up and the agents' recent calls)."""


class CallIds:
    """The short call ``id`` of live calls: 1–65535, rotating, never one a live call has."""

    __slots__ = ("_live", "_next")

    def __init__(self) -> None:
        self._next = 1
        self._live: set[int] = set()

    def take(self) -> int:
        while True:
            cid = self._next
            self._next = cid % 65535 + 1
            if cid not in self._live:
                self._live.add(cid)
                return cid

    def release(self, cid: int) -> None:
        self._live.discard(cid)

    def skip_to(self, cid: int) -> None:
        """Go on from ``cid`` (a test of what happens when the ids come round)."""
        self._next = cid


class CallBook:
    """Calls: made, indexed by agent, offered, ended and recorded."""

    def __init__(
        self,
        *,
        directory: Directory,
        agents: Mapping[AgentId, Agent],
        line_owner: Mapping[LineId, AgentId],
        out: Outbox,
        timers: Timers,
        wrap_up: Callable[[AgentId, Call], None],
        now: float,
        first_seq: int = 1,
        uniqueid_prefix: str = "",
    ) -> None:
        """``agents`` and ``line_owner`` are the ``Center``'s, read as they change; the
        ``Center`` keeps ``directory`` and ``now`` current (``reconfigure``, each step)."""
        self.directory = directory
        self.now = now
        self.seq = first_seq
        """The sequence that makes the uniqueids of calls the switch gave none."""
        self.uniqueid_prefix = uniqueid_prefix
        """What those uniqueids begin with (a partition's, in a cluster)."""
        self.calls: dict[UniqueId, Call] = {}
        self.ended: OrderedDict[UniqueId, Call] = OrderedDict()
        self.agent_calls: dict[AgentId, set[UniqueId]] = {}
        """Each agent's live calls (on it, or ringing it)."""
        self.ids = CallIds()
        self._agents = agents
        self._line_owner = line_owner
        self._out = out
        self._timers = timers
        self._wrap_up = wrap_up
        self._linked: dict[UniqueId, set[AgentId]] = {}
        """Who was on each call when it last changed (``touch`` tells joins from leaves)."""
        self._participants: dict[UniqueId, set[AgentId]] = {}
        """Everyone who has been on each live or recently ended call."""

    # ------------------------------------------------------------------ making and changing calls

    def new_call(
        self, *, origin: Direction, caller: Party, called_number: str, uid: str | None
    ) -> Call:
        if uid is None or uid in self.calls or uid in self.ended:
            uid = f"{self.uniqueid_prefix}{int(self.now)}.{self.seq}"
            self.seq += 1
        call = Call(
            uniqueid=UniqueId(uid),
            id=self.ids.take(),
            origin=origin,
            created=self.now,
            caller=caller,
            called_number=called_number,
        )
        self.calls[call.uniqueid] = call
        self._participants[call.uniqueid] = set()
        self.touch(call)
        return call

    def touch(self, call: Call) -> None:
        """Note that ``call`` changed: re-index who is on it; tell them at the end of the step."""
        uid = call.uniqueid
        out = self._out
        now_on = set() if call.ended else call.agents()
        before = self._linked.get(uid, set())
        for agent in before - now_on:
            self.agent_calls.get(agent, set()).discard(uid)
            out.left.setdefault((uid, agent), call.cause if call.ended else Cause.UNKNOWN)
        for agent in now_on - before:
            self.agent_calls.setdefault(agent, set()).add(uid)
            if call.side_of(agent) is not Side.OFFERED:
                self._withdraw_offers(agent, but=uid)
        out.agents_touched.update(before | now_on)
        self._linked[uid] = now_on
        self._participants.setdefault(uid, set()).update(now_on)
        out.calls_touched[uid] = None
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
            self._timers.arm(call.ring_expires, DirectRingExpires(uid, call.ring_expires))

    def forget(self, uid: UniqueId) -> None:
        """The ended call's last change was told: nobody is on it any more."""
        self._linked.pop(uid, None)

    def _withdraw_offers(self, agent: AgentId, but: UniqueId) -> None:
        """Another call reached the agent's phone (dialled to it, transferred to it): a queue
        call ringing there goes back to its queue for someone free, uncounted."""
        for uid in list(self.agent_calls.get(agent, ())):
            other = self.calls.get(uid)
            if uid != but and other is not None and agent in other.offers:
                self.end_offer(other, other.offers[agent], Cause.UNAVAILABLE, counted=False)

    def leave(self, call: Call, agent: AgentId, cause: Cause) -> None:
        """``agent`` leaves a call that goes on without them."""
        self._out.left[(call.uniqueid, agent)] = cause

    def end_call(self, call: Call, cause: Cause, *, hangup: bool = True) -> None:
        """End the whole call, drop it on the switch, record it, and wrap up its agents."""
        if call.ended:
            return
        for offer in list(call.offers.values()):
            self.end_offer(call, offer, cause, counted=True)
        agents_on = call.agents()
        call.end(cause, self.now)
        if hangup:
            self._out.effects.append(Hangup(call.uniqueid, cause))
        if call.outbound_id is not None and call.connected_at is None:
            caller = call.caller.user_id
            if caller is not None and caller in self._agents:
                self.count_out(caller, call.outbound_id, answered=False)
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
        self.ids.release(call.id)
        self.ended[call.uniqueid] = call
        while len(self.ended) > _RECENT_CALLS:
            old, _ = self.ended.popitem(last=False)
            self._participants.pop(old, None)
        self._out.effects.append(self.record(call))
        for agent in agents_on:
            if call.queue_id is not None and call.handled_by == agent:
                self._wrap_up(agent, call)

    def count_out(self, agent: AgentId, queue: QueueId, *, answered: bool) -> None:
        """An outgoing campaign's call of the agent was answered, or ended unanswered."""
        a = self._agents.get(agent)
        if a is None:
            return
        if answered:
            a.stats.out_calls_answered += 1
            a.stats.queue(queue).answered += 1
        else:
            a.stats.out_calls_unanswered += 1
            a.stats.queue(queue).unanswered += 1
        self._out.agents_touched.add(agent)

    # ------------------------------------------------------------------ queue offers

    def offer(
        self, call: Call, agent: AgentId, line: LineId, ring_timeout: float, *, ring: bool = True
    ) -> None:
        """Ring the agent's phone on ``line`` with the queue call (``ring`` False: offer it to
        the agent without ringing the phone, as a callback request is)."""
        now = self.now
        expires = now + ring_timeout if ring_timeout > 0 else None
        party = self.agent_party(agent, line, call.uniqueid)
        call.offers[agent] = Offer(agent, line, party, now, expires)
        call.tried.add(agent)
        if call.state is not CallState.RINGING:
            call.move(CallState.RINGING)
        if expires is not None:
            self._timers.arm(expires, OfferExpires(call.uniqueid, agent, expires))
        if ring:
            self._out.effects.append(Ring(call.uniqueid, line, call.caller))
        self.touch(call)

    def take_offer(self, call: Call, offer: Offer) -> None:
        """The agent of ``offer`` took the call: the other offers stop ringing (picked up
        elsewhere, not counted against their agents) and the agent becomes its party."""
        for other in list(call.offers.values()):
            if other.agent != offer.agent:
                self.end_offer(call, other, Cause.PICKUP, counted=False)
        call.offers.clear()
        call.connected_party = offer.party
        call.handled_by = offer.agent

    def end_offer(self, call: Call, offer: Offer, cause: Cause, *, counted: bool) -> None:
        """Stop ringing one agent; an offer that ends unanswered counts as unanswered."""
        call.offers.pop(offer.agent, None)
        if call.callback_to is None:  # a callback's offer rang no phone
            self._out.effects.append(StopRinging(call.uniqueid, offer.line, cause))
        self.leave(call, offer.agent, cause)
        a = self._agents.get(offer.agent)
        if counted and a is not None and call.queue_id is not None:
            call.missed_by.append((offer.agent, self.now))
            a.stats.in_calls_unanswered += 1
            a.stats.queue(call.queue_id).unanswered += 1
        self._out.agents_touched.add(offer.agent)
        if not call.offers and not call.ended and call.connected_party is None:
            call.move(CallState.CONNECTING)
        self.touch(call)

    def reject_offer(self, call: Call, offer: Offer) -> None:
        self.end_offer(call, offer, Cause.REJECTED, counted=True)

    # ------------------------------------------------------------------ questions

    def record(self, call: Call, *, live: bool = False, again: bool = False) -> CallRecord:
        return CallRecord(
            call=call.view(None, self.now),
            account_codes=tuple(call.account_codes),
            queue_id=call.queue_id,
            live=live,
            agents=call.agents_on_record(),
            enqueued=call.enqueued_at,
            handled_by=call.handled_by,
            missed=tuple(call.missed_by),
            again=again,
        )

    def calls_of(self, agent: AgentId) -> list[Call]:
        """The agent's live calls, oldest first."""
        found = [self.calls[u] for u in self.agent_calls.get(agent, ()) if u in self.calls]
        # Same second: the shorter uniqueid is the older ("….9" before "….10").
        return sorted(found, key=lambda c: (c.created, len(c.uniqueid), c.uniqueid))

    def busy(self, agent: AgentId) -> bool:
        """The agent is on a call, or rung by one."""
        return bool(self.agent_calls.get(agent))

    def participated(self, agent: AgentId, uid: UniqueId) -> Call | None:
        """A live or recently ended call the agent has been on."""
        if agent not in self._participants.get(uid, ()):
            return None
        return self.calls.get(uid) or self.ended.get(uid)

    def focus(self, agent: AgentId) -> Call | None:
        """The call the agent's buttons act on: talking, then dialling, ringing, waiting, held."""

        def rank(c: Call) -> tuple[int, float]:
            side = c.side_of(agent)
            if c.state is CallState.CONNECTED and side is not Side.OFFERED:
                r = 0
            elif side is Side.CALLER and c.state in (
                CallState.NEW,
                CallState.CONNECTING,
                CallState.RINGING,
            ):
                r = 1
            elif c.state is CallState.RINGING or side is Side.OFFERED:
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

    # ------------------------------------------------------------------ parties

    def agent_party(self, agent: AgentId, line: LineId, uid: str | None = None) -> Party:
        cfg = self._agents[agent].config
        ln = self.directory.lines.get(line)
        if is_softphone(line):
            return Party(
                type=PartyType.LINE,
                number=str(cfg.primary_extension or ""),
                number_norm=None,
                name=cfg.name,
                line_id=line,
                user_id=cfg.id,
                username=cfg.username,
                group_id=cfg.group_id,
                channel=softphone.channel(cfg.username, uid),
            )
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
        owner = self._line_owner.get(line.id)
        if owner is not None and owner in self._agents:
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
