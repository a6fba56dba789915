"""A call: states 0–5, causes −1…8, who is on it, and how it looks to each agent.

A call has a *caller* and, once someone is rung or connected, a *connected* party. An incoming
queue call may ring several agents at once (``offers``, the hunt group). Each agent sees the call
from its own side: ``INCOMING`` when it is the called side, ``OUTGOING`` when it placed the call.

Legal moves of ``state`` (anything else raises ``InvalidState`` naming the state and the move)::

    NEW ─► CONNECTING ─► RINGING ─► CONNECTED ◄─► HELD
               ▲            │           │  ▲
               └────────────┘           ▼  │
              (ring timeout)         SUSPENDED
    CONNECTED / HELD / SUSPENDED ─► RINGING or CONNECTING   (transferred to a new party)
    every state ─► ended (cause ≠ −1, ``disconnected`` set)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ucs.core.errors import InvalidState
from ucs.core.ids import AgentId, LineId, QueueId, UniqueId
from ucs.core.model import CallState, Cause, Direction, Party, Side

__all__ = ["TRANSITIONS", "AccountCode", "Call", "Offer"]

TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    CallState.NEW: frozenset({CallState.CONNECTING, CallState.RINGING}),
    CallState.CONNECTING: frozenset({CallState.RINGING, CallState.CONNECTED}),
    CallState.RINGING: frozenset({CallState.CONNECTING, CallState.CONNECTED}),
    CallState.CONNECTED: frozenset(
        {CallState.HELD, CallState.SUSPENDED, CallState.RINGING, CallState.CONNECTING}
    ),
    CallState.HELD: frozenset(
        {CallState.CONNECTED, CallState.SUSPENDED, CallState.RINGING, CallState.CONNECTING}
    ),
    CallState.SUSPENDED: frozenset({CallState.CONNECTED, CallState.RINGING, CallState.CONNECTING}),
}
"""Moves between live states. From a call in progress, RINGING or CONNECTING is a transfer:
the caller is put through to a new party that rings (our line) or is being dialled (outside)."""


@dataclass(frozen=True, slots=True)
class AccountCode:
    code: str
    sub: str | None = None
    label: str | None = None
    """The label of ``code`` on the list of the call's queue when it was given (its
    dispositions); None: a code of the agent's own."""

    def wire(self) -> dict[str, str | None]:
        """``{accountCode, subAccountCode}``, and ``label`` when the code is from a list."""
        wire = {"accountCode": self.code, "subAccountCode": self.sub}
        if self.label is not None:
            wire["label"] = self.label
        return wire


@dataclass(frozen=True, slots=True)
class Offer:
    """A queue call ringing one agent's phone."""

    agent: AgentId
    line: LineId
    party: Party
    started: float
    expires: float | None


@dataclass(slots=True)
class Call:
    uniqueid: UniqueId
    id: int
    origin: Direction
    """INCOMING when it came from outside (trunk), OUTGOING when one of our lines placed it."""
    created: float
    caller: Party
    called_number: str
    called_name: str | None = None
    called_number_norm: str | None = None
    connected_party: Party | None = None
    state: CallState = CallState.NEW
    cause: Cause = Cause.NOT_SET
    connected_at: float | None = None
    disconnected: float | None = None
    queue_id: QueueId | None = None
    """The incoming queue the call came through."""
    outbound_id: QueueId | None = None
    """The campaign an agent dialled it under."""
    data: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    external_id: str | None = None
    recorded: bool = False
    recording: bool = False
    """Its audio is being recorded now (``recorded`` stays true through a pause)."""
    anchored: bool | None = None
    """A desk phone's call with ``--switch sip``: its audio is in the media engine (True),
    cannot be (False), or the switch has not said yet (None; ``AudioAnchored``). A
    softphone's call is in the engine whatever this says."""
    account_codes: list[AccountCode] = field(default_factory=list)
    # distribution
    enqueued_at: float | None = None
    offers: dict[AgentId, Offer] = field(default_factory=dict)
    tried: set[AgentId] = field(default_factory=set)
    # transfer
    consult_for: UniqueId | None = None
    """This is a consultation call about that (suspended) call."""
    consultation: UniqueId | None = None
    """The consultation call made about this one."""
    handled_by: AgentId | None = None
    """The agent who answered it from the queue: its statistics and wrap-up are theirs."""
    ring_expires: float | None = None
    """When a phone rung directly (not by a queue) gives up: cause 6."""
    target: Party | None = None
    """Who the call is being put through to, until they ring or answer."""
    pending: Party | None = None
    """The target of a transfer asked of the switch and not yet confirmed."""
    pending_queue: QueueId | None = None
    """The queue a blind transfer puts the caller in, once the switch confirms."""
    requeued_at: float | None = None
    """When a transfer put the call, answered before, in its queue (``queue_id``): its
    answer there is the next one, not the first (``connected_at``)."""
    callback_to: Party | None = None
    """A callback request (CONTRACT §12): the number to call back. It waits in its queue like
    a caller, is offered to agents as ``OUTGOING`` without ringing their phone, and the
    agent's ``answer()`` makes the server dial it."""
    callback_returns: int = 0
    """Times the callback went back to its queue because its number did not answer."""
    callback_since: float | None = None
    """Where the callback waits among the queue's callers (its request's time, or when the
    caller who left it by pressing 1 began to wait): its place again after a try failed."""
    callback_left: UniqueId | None = None
    """The callback request this caller left by pressing 1: the call waits no more, its caller
    hears the confirmation and the server hangs up."""
    asked_by: AgentId | None = None
    """The agent whose last command on this call the switch is carrying out (answer, hold,
    mute, transfer …): the one told if the switch fails it."""
    missed_by: list[tuple[AgentId, float]] = field(default_factory=list)
    """Agents whose offer rang and ended unanswered (counted against them), and when."""
    former_agents: list[tuple[AgentId, str]] = field(default_factory=list)
    """Agents (id, username) who were on the call and left it by a transfer, in order: the
    call records name every agent of a transferred call."""

    def agents_on_record(self) -> tuple[tuple[AgentId, str], ...]:
        """Every agent who has been on the call (placed it, answered it, took it by a
        transfer), in order, each once."""
        seen: dict[AgentId, str] = {}
        for agent, username in self.former_agents:
            seen.setdefault(agent, username)
        for party in (self.caller, self.connected_party):
            if party is not None and party.user_id is not None:
                seen.setdefault(party.user_id, party.username or "")
        return tuple(seen.items())

    @property
    def ended(self) -> bool:
        return self.cause is not Cause.NOT_SET

    @property
    def home_queue(self) -> QueueId | None:
        """The queue the call belongs to: the one it came into (or was put in), else the
        campaign it was dialled under; None: neither."""
        return self.queue_id if self.queue_id is not None else self.outbound_id

    @property
    def waiting(self) -> bool:
        """Waiting in a queue for an agent (no one rings, no one talks)."""
        return (
            not self.ended
            and self.queue_id is not None
            and self.enqueued_at is not None
            and self.connected_party is None
            and not self.offers
        )

    def move(self, to: CallState) -> None:
        if self.ended:
            raise InvalidState(f"call {self.uniqueid} has ended (cause {int(self.cause)})")
        if to is self.state:
            return
        if to not in TRANSITIONS.get(self.state, frozenset()):
            raise InvalidState(
                f"call {self.uniqueid} cannot go from {self.state.name} to {to.name}"
            )
        self.state = to

    def end(self, cause: Cause, now: float) -> None:
        if self.ended:
            return
        if cause is Cause.NOT_SET:
            raise ValueError("a call cannot end with cause NOT_SET")
        self.cause = cause
        self.disconnected = now
        self.offers.clear()

    def side_of(self, agent: AgentId) -> Side | None:
        """Where the agent is on the call (``Side``); None for an agent not on it."""
        if self.caller.user_id == agent:
            return Side.CALLER
        if self.connected_party is not None and self.connected_party.user_id == agent:
            return Side.CONNECTED
        if agent in self.offers:
            return Side.OFFERED
        return None

    def agents(self) -> set[AgentId]:
        found = set(self.offers)
        for p in (self.caller, self.connected_party):
            if p is not None and p.user_id is not None:
                found.add(p.user_id)
        return found

    def view(
        self,
        viewer: AgentId | None,
        now: float,
        *,
        left: tuple[Cause, float] | None = None,
    ) -> dict[str, object]:
        """The Call object as ``viewer`` sees it (``None``: the record, as the caller placed it).

        ``left`` is ``(cause, when)`` for an agent who has just left a call that goes on
        without them (an offer that timed out or was picked up elsewhere, a transfer).
        """
        side = self.side_of(viewer) if viewer is not None else None
        connected = self.connected_party
        state = self.state
        if side is Side.OFFERED and viewer is not None:
            connected = self.offers[viewer].party
            state = CallState.RINGING
        if side is Side.CALLER or (side is None and self.origin is Direction.OUTGOING):
            direction = Direction.OUTGOING
        elif self.callback_to is not None and side is not None:
            direction = Direction.OUTGOING  # the agent calls the number back
        else:
            direction = Direction.INCOMING
        if self.callback_to is not None:
            number = self.callback_to.number
        elif direction is Direction.OUTGOING:
            number = self.called_number
        else:
            number = self.caller.number
        cause, disconnected = self.cause, self.disconnected
        if left is not None:
            cause, disconnected = left
        blank = Party(type=self.caller.type, number="")
        wire: dict[str, object] = {
            "called_name": self.called_name,
            "called_number": self.called_number,
            "called_number_norm": self.called_number_norm,
            **self.caller.wire("caller"),
            **(connected or blank).wire("connected"),
            "cause": int(cause),
            "connected": self.connected_at,
            "created": self.created,
            "data": self.data,
            "direction": direction.value,
            "disconnected": disconnected,
            "external_id": self.external_id,
            "id": self.id,
            "name": self.name,
            "now": now,
            "number": number,
            "outbound_id": self.outbound_id,
            "recorded": self.recorded,
            "state": int(state),
            "subcalls": len(self.offers),
            "uniqueid": self.uniqueid,
        }
        if connected is None:
            for key in ("internal", "muted"):
                wire[f"connected_{key}"] = False
            wire["connected_type"] = None
            wire["connected_number"] = None
        return wire
