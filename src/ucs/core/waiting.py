"""What waiting callers hear (CONTRACT §10), decided in the core: the greeting and music of the
queue when a caller enters it, and every ``announce_every`` seconds its place and, with
``announce_wait``, the expected wait. The media adapter plays them (``Greet``, ``Announce``).

``QueueWaits`` owns the figure behind the expected wait: how long the last ``KEEP`` callers each
queue answered had waited. The expected wait of the caller at place *n* is *n* times their mean;
none is told before a caller of the queue has been answered.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ucs.core.call import Call
from ucs.core.directory import QueueConfig
from ucs.core.effects import Announce, Greet
from ucs.core.ids import QueueId
from ucs.core.timers import AnnounceDue

if TYPE_CHECKING:
    from ucs.core.center import Center

__all__ = ["KEEP", "QueueWaits", "announce", "enter", "waits"]

KEEP = 20


@dataclass(slots=True)
class QueueWaits:
    _waits: dict[QueueId, deque[float]] = field(default_factory=dict)

    def answered(self, queue: QueueId, waited: float) -> None:
        self._waits.setdefault(queue, deque(maxlen=KEEP)).append(max(0.0, waited))

    def expected(self, queue: QueueId, place: int) -> float | None:
        waits = self._waits.get(queue)
        if not waits:
            return None
        return place * sum(waits) / len(waits)


def enter(c: Center, call: Call, queue: QueueConfig) -> None:
    """A caller entered ``queue``: what it hears while it waits."""
    if not queue.plays_to_waiting:
        return
    offer = queue.callback_offer and call.callback_to is None
    if queue.greeting or queue.music or offer:
        c.out.effects.append(
            Greet(call.uniqueid, queue.greeting, queue.music, queue.language, offer)
        )
    if queue.announce_every > 0:
        at = c.now + queue.announce_every
        c.timers.arm(at, AnnounceDue(call.uniqueid, at))


def waits(call: Call | None) -> bool:
    """The call still waits in its queue (no agent has answered it, it has not ended, its
    caller has not left a callback request; its caller may still be being looked up)."""
    return (
        call is not None
        and not call.ended
        and call.queue_id is not None
        and call.connected_party is None
        and call.callback_left is None
    )


def announce(c: Center, call: Call) -> None:
    """Tell the waiting caller its place, and arm the next announcement."""
    queue = c.directory.queues.get(call.queue_id) if call.queue_id is not None else None
    if queue is None or queue.announce_every <= 0:
        return
    place = c.distributor.place(call)
    if place is not None:
        wait = c.queue_waits.expected(queue.id, place) if queue.announce_wait else None
        offer = queue.callback_offer and call.callback_to is None
        c.out.effects.append(Announce(call.uniqueid, place, wait, queue.language, offer))
    at = c.now + queue.announce_every
    c.timers.arm(at, AnnounceDue(call.uniqueid, at))
