"""Reports over time (CONTRACT §11): the period asked for, its intervals, and the figures.

Pure: the queries (``ucs.storage.reports``) hand over sums per queue and hour, and per agent;
this module cuts the period into the server's local hours or days and turns the sums into
the figures of docs/reports.md.

- ``period(from, to, interval, tz, today)`` checks what a request asks (dates ``YYYY-MM-DD``,
  ``from`` not after ``to``, at most ``MAX_DAYS`` days, ``hour`` or ``day``) and raises
  ``InvalidArgument`` with a message saying what is wrong;
- ``Period.hours`` are the period's hours as instants: local midnight of ``from`` to local
  midnight after ``to``, an hour apart (a day with a DST change has 23 or 25 of them);
- ``Period.intervals`` are the hours, or the days (local midnight to local midnight);
- ``queue_rows`` and ``agent_rows`` give the figures.

Hours are whole hours of Unix time from local midnight: right in every time zone whose
offsets differ by whole hours (all but a handful, such as Lord Howe Island's half-hour DST).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from ucs.core.errors import InvalidArgument
from ucs.core.queueday import ABANDONED_SHORT

__all__ = [
    "ABANDONED_SHORT",
    "MAX_DAYS",
    "AgentSums",
    "Interval",
    "Period",
    "QueueSums",
    "agent_rows",
    "period",
    "queue_rows",
]

MAX_DAYS = 366
"""The longest period one report covers, in days."""

Kind = Literal["hour", "day"]


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
    def hours(self) -> int:
        return round((self.end - self.start) / 3600)

    def intervals(self) -> list[Interval]:
        if self.interval == "hour":
            starts = [self.start + 3600.0 * h for h in range(self.hours)]
        else:
            days = (self.last - self.first).days + 1
            starts = [_midnight(self.first + timedelta(days=d), self.tz) for d in range(days)]
        ends = [*starts[1:], self.end]
        return [Interval(s, e, self.label(s)) for s, e in zip(starts, ends, strict=True)]

    def label(self, moment: float) -> str:
        return datetime.fromtimestamp(moment, self.tz).isoformat(timespec="seconds")

    def index(self, intervals: list[Interval]) -> list[int]:
        """For each hour of the period, the interval it is in."""
        found, at = [], 0
        for h in range(self.hours):
            moment = self.start + 3600.0 * h
            while at + 1 < len(intervals) and intervals[at + 1].start <= moment:
                at += 1
            found.append(at)
        return found


def _midnight(day: date, tz: tzinfo) -> float:
    return datetime.combine(day, time(0), tzinfo=tz).timestamp()


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
    start, end = _midnight(a, tz), _midnight(b + timedelta(days=1), tz)
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
    hours: Mapping[tuple[int, int], QueueSums],
) -> list[dict[str, Any]]:
    """Per queue (``queues``: id → name, in order) and interval, the figures of the hours
    (``hours``: (queue, hour of the period) → sums)."""
    intervals = p.intervals()
    where = p.index(intervals)
    ends = [*(iv.label for iv in intervals[1:]), p.label(p.end)]
    rows = []
    for qid, name in queues.items():
        sums = [QueueSums() for _ in intervals]
        for h, at in enumerate(where):
            found = hours.get((qid, h))
            if found is not None:
                sums[at].add(found)
        for iv, end, s in zip(intervals, ends, sums, strict=True):
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
        key = (status, reason if status == "AUX" else None)
        self.times[key] = self.times.get(key, 0.0) + max(0.0, seconds)


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
