"""Reports over time (CONTRACT §11): the period asked for, its intervals, and the figures.

Pure: the queries (``ucs.storage.reports``) hand over sums per queue and 15-minute slot, and
per agent; this module cuts the period into the server's local hours or days and turns the
sums into the figures of docs/reports.md.

- ``period(from, to, interval, tz, today)`` checks what a request asks (dates ``YYYY-MM-DD``,
  ``from`` not after ``to``, at most ``MAX_DAYS`` days, ``hour`` or ``day``) and raises
  ``InvalidArgument`` with a message saying what is wrong;
- ``Period.intervals`` are the period's local hours (each instant at which the local clock
  shows a whole hour, so a day with a DST change has 23 or 25 of them, and one whose clocks
  move by half an hour an hour of 90 minutes) or days (local midnight to local
  midnight);
- ``queue_rows`` and ``agent_rows`` give the figures.

The rollup the reports read (``ucs.storage.rollup``) keeps calls per **slot**: 15 minutes of
Unix time (``slot_of``). Every local hour and midnight of every time zone since 1972 begins on
one, since all their offsets from UTC are whole quarters of an hour. It keeps an agent's time
per local **day**: ``split_days`` cuts a span of time at local midnights.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Literal

from ucs.core.errors import InvalidArgument
from ucs.core.queueday import ABANDONED_SHORT

__all__ = [
    "ABANDONED_SHORT",
    "MAX_DAYS",
    "SLOT",
    "AgentSums",
    "Interval",
    "Period",
    "QueueSums",
    "agent_rows",
    "day_of",
    "midnight",
    "period",
    "queue_rows",
    "slot_of",
    "split_days",
]

MAX_DAYS = 366
"""The longest period one report covers, in days."""

SLOT = 900
"""Seconds in a slot of the rollup: every local hour of every time zone begins on one."""

Kind = Literal["hour", "day"]


def slot_of(moment: float) -> int:
    """The slot ``moment`` is in: ``n`` with ``n * SLOT <= moment < (n + 1) * SLOT``, exactly
    (the division alone can round a moment a hair before a slot into it)."""
    n = math.floor(moment / SLOT)
    if n * SLOT > moment:
        return n - 1
    if (n + 1) * SLOT <= moment:
        return n + 1
    return n


@lru_cache(maxsize=4096)
def midnight(day: date, tz: tzinfo) -> float:
    """The local midnight that begins ``day``, in Unix seconds (remembered: the rollup asks
    for the same few days again and again)."""
    return datetime.combine(day, time(0), tzinfo=tz).timestamp()


def day_of(moment: float, tz: tzinfo) -> date:
    """The local day ``moment`` is in: the one whose ``midnight`` is the last not after it."""
    day = datetime.fromtimestamp(moment, tz).date()
    if moment < midnight(day, tz):  # a zone whose clocks skip midnight
        return day - timedelta(days=1)
    if moment >= midnight(day + timedelta(days=1), tz):
        return day + timedelta(days=1)
    return day


def split_days(since: float, until: float, tz: tzinfo) -> list[tuple[date, float]]:
    """The seconds of [``since``, ``until``) in each local day, in order. A span that runs
    backwards (a clock set back) is one negative part, in the day of ``until``: the reports
    count a span in the period in which it ended."""
    if until <= since:
        return [(day_of(until, tz), until - since)] if until < since else []
    parts = []
    day = day_of(since, tz)
    while True:
        nxt = day + timedelta(days=1)
        end = midnight(nxt, tz)
        if until <= end:
            parts.append((day, until - since))
            return parts
        parts.append((day, end - since))
        day, since = nxt, end


@dataclass(frozen=True, slots=True)
class Interval:
    start: float
    end: float
    label: str
    """The local start in ISO 8601 with its offset (``2026-10-25T02:00:00+01:00``)."""


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date
    interval: Kind
    tz: tzinfo
    start: float
    """Local midnight that begins ``first``, in Unix seconds."""
    end: float
    """Local midnight after ``last``."""

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=d) for d in range((self.last - self.first).days + 1)]

    @property
    def slots(self) -> range:
        """The rollup's slots of the period."""
        return range(slot_of(self.start), slot_of(self.end))

    def intervals(self) -> list[Interval]:
        starts = []
        for day in self.days:
            begin = midnight(day, self.tz)
            starts += [begin] if self.interval == "day" else _hours(begin, day, self.tz)
        ends = [*starts[1:], self.end]
        return [Interval(s, e, self.label(s)) for s, e in zip(starts, ends, strict=True)]

    def label(self, moment: float) -> str:
        return datetime.fromtimestamp(moment, self.tz).isoformat(timespec="seconds")


def _hours(begin: float, day: date, tz: tzinfo) -> list[float]:
    """The instants of ``day`` (from its midnight ``begin``) at which the local clock shows a
    whole hour."""
    end = midnight(day + timedelta(days=1), tz)
    offset = datetime.fromtimestamp(begin, tz).utcoffset()
    if end - begin == 86400 and datetime.fromtimestamp(end - 1, tz).utcoffset() == offset:
        return [begin + 3600.0 * h for h in range(24)]
    # A day whose clocks change: the whole hours among its 15-minute steps.
    found = [begin]
    moment = begin + SLOT
    while moment < end:
        local = datetime.fromtimestamp(moment, tz)
        if local.minute == 0 and local.second == 0:
            found.append(moment)
        moment += SLOT
    return found


def _date(name: str, text: str | None, default: date) -> date:
    if text is None or text == "":
        return default
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"{name}: {text[:40]!r} is not a date YYYY-MM-DD") from None


def period(
    first: str | None, last: str | None, interval: str | None, tz: tzinfo, today: date
) -> Period:
    """The period a request asks for (``from``/``to`` default to ``today``, ``interval`` to
    ``hour``), or ``InvalidArgument`` saying what is wrong."""
    kind = interval or "hour"
    if kind not in ("hour", "day"):
        raise InvalidArgument(f"interval: {kind[:40]!r} is neither hour nor day")
    a, b = _date("from", first, today), _date("to", last, today)
    if a > b:
        raise InvalidArgument(f"from {a.isoformat()} is after to {b.isoformat()}")
    if (b - a).days + 1 > MAX_DAYS:
        raise InvalidArgument(
            f"from {a.isoformat()} to {b.isoformat()} is {(b - a).days + 1} days; "
            f"a report covers at most {MAX_DAYS}"
        )
    start, end = midnight(a, tz), midnight(b + timedelta(days=1), tz)
    return Period(a, b, "hour" if kind == "hour" else "day", tz, start, end)


@dataclass(slots=True)
class QueueSums:
    """One queue's calls of one hour (or more), as the query sums them."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    abandoned_short: int = 0
    within: int = 0
    wait: float = 0.0
    """Seconds answered callers waited, summed."""
    handle: float = 0.0
    """Seconds of talk (hold included) and wrap-up of answered calls, summed."""
    max_wait: float = 0.0

    def add(self, other: QueueSums) -> None:
        self.offered += other.offered
        self.answered += other.answered
        self.abandoned += other.abandoned
        self.abandoned_short += other.abandoned_short
        self.within += other.within
        self.wait += other.wait
        self.handle += other.handle
        self.max_wait = max(self.max_wait, other.max_wait)

    def figures(self) -> dict[str, Any]:
        counted = self.offered - self.abandoned_short
        answered = self.answered
        return {
            "offered": self.offered,
            "answered": answered,
            "abandoned": self.abandoned,
            "answered_within_target": self.within,
            "service_level": round(100.0 * self.within / counted, 1) if counted > 0 else None,
            "asa": round(self.wait / answered, 1) if answered else None,
            "aht": round(self.handle / answered, 1) if answered else None,
            "max_wait": round(self.max_wait, 1),
        }


def queue_rows(
    p: Period,
    queues: Mapping[int, str],
    slots: Mapping[tuple[int, int], QueueSums],
) -> list[dict[str, Any]]:
    """Per queue (``queues``: id → name, in order) and interval, the figures of its slots
    (``slots``: (queue, slot) → sums; a slot counts in the interval its start is in)."""
    intervals = p.intervals()
    starts = [iv.start for iv in intervals]
    ends = [*(iv.label for iv in intervals[1:]), p.label(p.end)]
    per_queue: dict[int, list[QueueSums]] = {q: [QueueSums() for _ in intervals] for q in queues}
    for (qid, slot), found in slots.items():
        sums = per_queue.get(qid)
        at = bisect_right(starts, slot * SLOT) - 1
        if sums is not None and 0 <= at and slot * SLOT < p.end:
            sums[at].add(found)
    rows = []
    for qid, name in queues.items():
        for iv, end, s in zip(intervals, ends, per_queue[qid], strict=True):
            rows.append(
                {
                    "queue_id": qid,
                    "name": name,
                    "start": iv.label,
                    "end": end,
                    **s.figures(),
                }
            )
    return rows


@dataclass(slots=True)
class AgentSums:
    """One agent's figures over the period, as the queries sum them."""

    answered: int = 0
    missed: int = 0
    talk: float = 0.0
    times: dict[tuple[str, str | None], float] = field(default_factory=dict)
    """Seconds per (status, reason) in the status log, clipped to the period."""

    def add_time(self, status: str, reason: str | None, seconds: float) -> None:
        """Seconds in a status; none (a status entered and left at once, a span cut to
        nothing by the period, a clock set back) leave no trace."""
        if seconds > 0:
            key = (status, reason if status == "AUX" else None)
            self.times[key] = self.times.get(key, 0.0) + seconds


def agent_rows(
    agents: Iterable[tuple[int, str, str]], sums: Mapping[int, AgentSums]
) -> list[dict[str, Any]]:
    """Per agent (id, username, display name), the figures of docs/reports.md."""
    rows = []
    for aid, username, displayname in agents:
        s = sums.get(aid) or AgentSums()
        auxtimes: dict[str, float] = {}
        ready = acw = 0.0
        for (status, reason), seconds in sorted(s.times.items(), key=lambda kv: str(kv[0])):
            if status == "AUX":
                name = reason or ""
                auxtimes[name] = auxtimes.get(name, 0.0) + seconds
            elif status == "READY":
                ready += seconds
            elif status == "ACW":
                acw += seconds
        aux = sum(auxtimes.values())
        logged_in = ready + aux + acw
        busy = s.talk + acw
        rows.append(
            {
                "id": aid,
                "username": username,
                "displayname": displayname,
                "answered": s.answered,
                "missed": s.missed,
                "talktime": round(s.talk),
                "acwtime": round(acw),
                "auxtime": round(aux),
                "auxtimes": {k: round(v) for k, v in auxtimes.items()},
                "readytime": round(ready),
                "loggedtime": round(logged_in),
                "occupancy": round(min(100.0, 100.0 * busy / logged_in), 1)
                if logged_in > 0
                else None,
            }
        )
    return rows
