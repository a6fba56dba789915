"""Today's figures of each queue: calls offered, answered (and within the service-level
target), abandoned (and within the first seconds), as a supervisor's team view shows them;
for an outgoing queue (a campaign), the calls dialled under it, answered by the called party
and ended unanswered.

``QueueDays`` owns them. The ``Center`` shows it each call a step touched (live, or ended in
that step); it counts a call once for each thing that happens to it, keeps only the live
queue and campaign calls it has seen, and starts again at local midnight (``new_day``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ucs.core.call import Call
from ucs.core.ids import QueueId, UniqueId
from ucs.core.model import Cause

__all__ = ["ABANDONED_SHORT", "SERVICE_LEVEL_TARGET", "QueueDay", "QueueDays", "recount"]

SERVICE_LEVEL_TARGET = 20.0
"""Seconds within which an answer counts toward the service level when the queue names none
(CONTRACT §11's default; each queue has its ``service_level_target``)."""
ABANDONED_SHORT = 5.0
"""Callers who hang up within this many seconds are left out of the service level."""


@dataclass(slots=True)
class QueueDay:
    offered: int = 0
    answered: int = 0
    answered_within_target: int = 0
    abandoned: int = 0
    abandoned_short: int = 0
    open: int = 0
    """Calls offered that are neither answered nor ended yet (callers waiting; in a
    campaign, calls still ringing the called party)."""
    unanswered: int = 0
    """A campaign's calls that ended before the called party answered."""

    @property
    def service_level(self) -> float | None:
        """Percent of today's calls answered within the target, of those that were answered
        or ended (callers still waiting are not judged yet), callers who hung up within
        ``ABANDONED_SHORT`` seconds left out; None before any such call."""
        counted = self.offered - self.open - self.abandoned_short
        if counted <= 0:
            return None
        return round(100.0 * self.answered_within_target / counted, 1)


@dataclass(slots=True)
class _Seen:
    queue: QueueId
    answered: bool = False


class QueueDays:
    def __init__(self) -> None:
        self.days: dict[QueueId, QueueDay] = {}
        self._seen: dict[UniqueId, _Seen] = {}
        """The live queue calls counted as offered, and whether counted as answered."""

    def day(self, queue: QueueId) -> QueueDay:
        return self.days.get(queue) or QueueDay()

    def see(self, call: Call, ended: bool, target: float | None = None) -> None:
        """Count what happened to ``call`` (``ended``: in the step that saw it end);
        ``target``: its queue's service-level target in seconds."""
        if call.queue_id is None and call.outbound_id is not None:
            self._see_dialled(call, call.outbound_id, ended)
            return
        queue = call.queue_id
        seen = self._seen.get(call.uniqueid)
        if queue is not None and (seen is None or seen.queue != queue):
            if seen is not None and not seen.answered:
                self._day(seen.queue).open -= 1  # moved to another queue: offered there
            seen = self._seen[call.uniqueid] = _Seen(queue)
            day = self._day(queue)
            day.offered += 1
            day.open += 1
        if seen is None:
            return
        if call.enqueued_at is not None:
            waited_from = call.enqueued_at
        else:
            waited_from = call.requeued_at if call.requeued_at is not None else call.created
        # A call a transfer put in this queue was answered before: answered here once it no
        # longer waits in it (``queue_answer``).
        requeued = call.requeued_at is not None and call.enqueued_at is not None
        if call.connected_at is not None and not seen.answered and not requeued:
            seen.answered = True
            day = self._day(seen.queue)
            day.answered += 1
            day.open -= 1
            limit = SERVICE_LEVEL_TARGET if target is None else target
            if call.connected_at - waited_from <= limit:
                day.answered_within_target += 1
        if ended:
            del self._seen[call.uniqueid]
            if not seen.answered:
                self._day(seen.queue).open -= 1
            if not seen.answered and call.cause is Cause.CALLER_HANGUP:
                day = self._day(seen.queue)
                day.abandoned += 1
                end = call.disconnected if call.disconnected is not None else waited_from
                if end - waited_from <= ABANDONED_SHORT:
                    day.abandoned_short += 1

    def _see_dialled(self, call: Call, campaign: QueueId, ended: bool) -> None:
        """A call dialled under ``campaign``: dialled once, answered once the called party
        answers, unanswered if it ends before."""
        seen = self._seen.get(call.uniqueid)
        if seen is None or seen.queue != campaign:
            if seen is not None and not seen.answered:
                self._day(seen.queue).open -= 1  # counted elsewhere before
            seen = self._seen[call.uniqueid] = _Seen(campaign)
            day = self._day(campaign)
            day.offered += 1
            day.open += 1
        if call.connected_at is not None and not seen.answered:
            seen.answered = True
            day = self._day(campaign)
            day.answered += 1
            day.open -= 1
        if ended:
            del self._seen[call.uniqueid]
            if not seen.answered:
                day = self._day(campaign)
                day.open -= 1
                day.unanswered += 1

    def restore(self, days: Mapping[QueueId, QueueDay]) -> None:
        """After a restart: today's figures as the call records tell them (``recount``)."""
        self.days = {q: dataclasses.replace(day) for q, day in days.items()}

    def new_day(self) -> None:
        """Local midnight: today's figures start again; callers still waiting count as
        offered today."""
        open_calls = {q: d.open for q, d in self.days.items() if d.open}
        self.days = {q: QueueDay(offered=n, open=n) for q, n in open_calls.items()}

    def _day(self, queue: QueueId) -> QueueDay:
        day = self.days.get(queue)
        if day is None:
            day = self.days[queue] = QueueDay()
        return day


def recount(
    records: Iterable[tuple[QueueId, Mapping[str, Any]]],
    targets: Mapping[QueueId, float] | None = None,
    dialled: Iterable[tuple[QueueId, Mapping[str, Any]]] = (),
) -> dict[QueueId, QueueDay]:
    """Today's figures from the day's call records of ended queue calls (a Call object each,
    as ``/api/cdr`` has them) and of ended calls ``dialled`` under a campaign (with its
    queue): what ``QueueDays`` counted before a restart. ``targets``: each queue's
    service-level target (``SERVICE_LEVEL_TARGET`` for a queue not in it)."""
    days: dict[QueueId, QueueDay] = {}
    targets = targets or {}
    for queue, call in dialled:
        day = days.get(queue) or days.setdefault(queue, QueueDay())
        day.offered += 1
        if call.get("connected") is None:
            day.unanswered += 1
        else:
            day.answered += 1
    for queue, call in records:
        day = days.get(queue) or days.setdefault(queue, QueueDay())
        day.offered += 1
        created = float(call.get("created") or 0.0)
        connected = call.get("connected")
        if connected is not None:
            day.answered += 1
            if float(connected) - created <= targets.get(queue, SERVICE_LEVEL_TARGET):
                day.answered_within_target += 1
        elif call.get("cause") == int(Cause.CALLER_HANGUP):
            day.abandoned += 1
            ended = call.get("disconnected")
            if ended is not None and float(ended) - created <= ABANDONED_SHORT:
                day.abandoned_short += 1
    return days
