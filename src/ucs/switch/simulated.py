"""The built-in simulated switch (CONTRACT §7) as a pure state machine.

It carries out the core's switch effects and answers with the events a real switch would send,
some at once and some later (``next_deadline`` / ``on_deadline``, like the core). An asyncio
driver, the benchmarks and the tests all run this same logic.

Outside numbers an agent dials answer after 1 s, except numbers ending in ``0001`` (busy, cause 1),
``0002`` (no answer: rings 30 s, then cause 6) and ``0003`` (rejected, cause 5); a number that is
not valid for the region ends with cause 2. Our own lines ring until someone answers through the
API (or at once for lines set to auto-answer, as the benchmarks use).

``Originate`` is the same whether an agent dialled (click-to-dial: the simulator does not ring the
agent's phone first) or a phone dialled by itself (``PhoneCall``: the phone is off-hook already):
only the number is called.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from ucs.core.effects import (
    Hangup,
    Originate,
    PickUp,
    Redirect,
    Ring,
    StopRinging,
    SwitchEffect,
    Transfer,
)
from ucs.core.events import (
    OPERATION_OF,
    Answered,
    Event,
    HungUp,
    Operation,
    RemoteAnswered,
    RemoteFailed,
    RemoteRinging,
    SwitchFailed,
    Transferred,
)
from ucs.core.ids import LineId, UniqueId
from ucs.core.model import Cause
from ucs.core.numbers import normalize

__all__ = ["OPERATIONS", "SimulatedSwitch"]

OPERATIONS: dict[type, Operation] = {
    t: op for t, op in OPERATION_OF.items() if t not in (StopRinging, Hangup)
}
"""The operations the simulator can be told to fail (``fail()``)."""


@dataclass(slots=True)
class SimulatedSwitch:
    region: str = "CZ"
    answer_delay: float = 1.0
    """Seconds before an outside number answers."""
    no_answer_after: float = 30.0
    """Seconds a ``…0002`` number rings before it gives up."""
    auto_answer: dict[LineId, float] = field(default_factory=dict)
    """Lines whose phone answers by itself, after that many seconds."""
    ringing: dict[UniqueId, set[LineId]] = field(default_factory=dict)
    _timers: list[tuple[float, int, UniqueId, Event]] = field(default_factory=list)
    _seq: int = 0
    _failing: dict[Operation, int] = field(default_factory=dict)

    # --- what the tests and the simulator API do -------------------------------------------

    def fail(self, operation: Operation | str, times: int = 1) -> None:
        """Make the next ``times`` operations of this kind fail (chaos testing)."""
        if operation not in OPERATIONS.values():
            raise ValueError(f"unknown operation {operation!r}")
        op = Operation(operation)
        self._failing[op] = self._failing.get(op, 0) + times

    def caller_hangup(self, uniqueid: UniqueId) -> HungUp:
        """The outside party hangs up."""
        self._cancel(uniqueid)
        return HungUp(uniqueid, None)

    # --- the driver's side -------------------------------------------------------------------

    def apply(self, effect: SwitchEffect, now: float) -> list[Event]:
        """Carry out one effect of the core; return the events that follow at once."""
        op = OPERATIONS.get(type(effect))
        if op is not None and self._failing.get(op):
            self._failing[op] -= 1
            return [SwitchFailed(effect.uniqueid, op, "simulated failure")]
        if isinstance(effect, Ring):
            self.ringing.setdefault(effect.uniqueid, set()).add(effect.line)
            delay = self.auto_answer.get(effect.line)
            if delay is not None:
                self._at(now + delay, effect.uniqueid, Answered(effect.uniqueid, effect.line))
        elif isinstance(effect, StopRinging):
            self._stop_ringing(effect.uniqueid, effect.line)
        elif isinstance(effect, PickUp):
            if effect.line not in self.ringing.get(effect.uniqueid, ()):
                return [SwitchFailed(effect.uniqueid, Operation.ANSWER, "the phone is not ringing")]
            self._stop_ringing(effect.uniqueid, effect.line)
            return [Answered(effect.uniqueid, effect.line)]
        elif isinstance(effect, Originate):
            if effect.queue is not None:  # it waits in the queue: the core rings its agents
                return []
            return self._dial(effect.uniqueid, effect.number, effect.target, now)
        elif isinstance(effect, Transfer):
            # Whatever the consultation was waiting for now happens to the transferred call.
            self._rename(effect.consultation, effect.uniqueid)
            return [Transferred(effect.uniqueid, effect.consultation)]
        elif isinstance(effect, Redirect):
            self._cancel(effect.uniqueid)
            events: list[Event] = [Transferred(effect.uniqueid, None)]
            if effect.queue is not None:  # the caller waits in the queue: nothing to dial
                return events
            return events + self._dial(effect.uniqueid, effect.number, effect.target, now)
        elif isinstance(effect, Hangup):
            self._cancel(effect.uniqueid)
        return []

    def next_deadline(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def on_deadline(self, now: float) -> list[Event]:
        due: list[Event] = []
        while self._timers and self._timers[0][0] <= now:
            _, _, uid, event = heapq.heappop(self._timers)
            if isinstance(event, Answered):
                self._stop_ringing(uid, event.line)
            due.append(event)
        return due

    # --- inside ------------------------------------------------------------------------------

    def _dial(self, uid: UniqueId, number: str, target: LineId | None, now: float) -> list[Event]:
        if target is not None:
            self.ringing.setdefault(uid, set()).add(target)
            delay = self.auto_answer.get(target)
            if delay is not None:
                self._at(now + delay, uid, Answered(uid, target))
            return [RemoteRinging(uid)]
        if normalize(number, self.region) is None:
            return [RemoteFailed(uid, Cause.INVALID_NUMBER)]
        if number.endswith("0001"):
            return [RemoteFailed(uid, Cause.BUSY)]
        if number.endswith("0003"):
            return [RemoteFailed(uid, Cause.REJECTED)]
        if number.endswith("0002"):
            self._at(now + self.no_answer_after, uid, RemoteFailed(uid, Cause.UNAVAILABLE))
        else:
            self._at(now + self.answer_delay, uid, RemoteAnswered(uid))
        return [RemoteRinging(uid)]

    def _at(self, when: float, uid: UniqueId, event: Event) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (when, self._seq, uid, event))

    def _stop_ringing(self, uid: UniqueId, line: LineId) -> None:
        lines = self.ringing.get(uid)
        if lines is not None:
            lines.discard(line)
            if not lines:
                del self.ringing[uid]
        self._drop(e for e in self._timers if e[2] == uid and _answers(e[3], line))

    def _cancel(self, uid: UniqueId) -> None:
        self.ringing.pop(uid, None)
        self._drop(e for e in self._timers if e[2] == uid)

    def _rename(self, old: UniqueId, new: UniqueId) -> None:
        moved = [e for e in self._timers if e[2] == old]
        self._drop(moved)
        for when, _, _, event in moved:
            self._at(when, new, _retarget(event, new))
        if old in self.ringing:
            self.ringing.setdefault(new, set()).update(self.ringing.pop(old))

    def _drop(self, entries: Iterable[tuple[float, int, UniqueId, Event]]) -> None:
        gone = {e[1] for e in entries}
        if gone:
            self._timers = [e for e in self._timers if e[1] not in gone]
            heapq.heapify(self._timers)


def _answers(event: Event, line: LineId) -> bool:
    return isinstance(event, Answered) and event.line == line


def _retarget(event: Event, uid: UniqueId) -> Event:
    if isinstance(event, Answered):
        return Answered(uid, event.line)
    if isinstance(event, RemoteAnswered):
        return RemoteAnswered(uid)
    if isinstance(event, RemoteFailed):
        return RemoteFailed(uid, event.cause)
    return event
