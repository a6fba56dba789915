"""An agent's availability and the time accounting behind every User statistic.

Time is accounted by accrual: each agent carries the set of buckets it is in right now (its
``Activity``) and the moment it was last brought up to date. ``accrue(now)`` adds the elapsed
time to those buckets; the aggregate calls it after every event that touched the agent, then
sets the new activity. The status buckets (ready, aux, acw, offline) partition time exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ucs.core.directory import AgentConfig, Membership, QueueType
from ucs.core.errors import InvalidArgument
from ucs.core.ids import QueueId, UniqueId
from ucs.core.model import Status

__all__ = ["Activity", "Agent", "DayStats", "QueueFigures", "check_status"]


@dataclass(slots=True)
class QueueFigures:
    """An agent's figures in one queue for the current day."""

    answered: int = 0
    unanswered: int = 0
    ringtime: float = 0.0
    talktime: float = 0.0
    transferred: int = 0
    transferred_external: int = 0
    suspendtime: float = 0.0


@dataclass(slots=True)
class DayStats:
    """Everything counted for the current day; reset at local midnight."""

    readytime: float = 0.0
    idletime: float = 0.0
    auxtime: float = 0.0
    acwtime: float = 0.0
    offlinetime: float = 0.0
    auxtimes: dict[str, float] = field(default_factory=dict)
    in_ringtime: float = 0.0
    in_talktime: float = 0.0
    out_ringtime: float = 0.0
    out_talktime: float = 0.0
    in_calls_answered: int = 0
    in_calls_unanswered: int = 0
    out_calls_answered: int = 0
    out_calls_unanswered: int = 0
    transferred: int = 0
    transferred_external: int = 0
    queues: dict[QueueId, QueueFigures] = field(default_factory=dict)

    def queue(self, queue: QueueId) -> QueueFigures:
        figures = self.queues.get(queue)
        if figures is None:
            figures = self.queues[queue] = QueueFigures()
        return figures


@dataclass(frozen=True, slots=True)
class Activity:
    """What an agent is doing right now, as far as the statistics are concerned."""

    status: Status = Status.OFFLINE
    reason: str | None = None
    idle: bool = False
    """READY with no call at all: ringing, talking or held."""
    ringing_in: QueueId | None = None
    """An incoming call of this queue rings the agent."""
    talking_in: tuple[QueueId, ...] = ()
    """Incoming queue calls the agent is on (connected, held or consulting)."""
    ringing_out: tuple[QueueId, ...] = ()
    """Campaign calls the agent dialled that are not answered yet."""
    talking_out: tuple[QueueId, ...] = ()
    """Campaign calls the agent is on."""
    suspended: tuple[QueueId, ...] = ()
    """Queues the agent is suspended in while logged in."""


_STAT_NAMES = tuple(n for n in DayStats.__dataclass_fields__ if n not in ("auxtimes", "queues"))
_FIGURE_NAMES = tuple(QueueFigures.__dataclass_fields__)


def _flat(obj: object, names: tuple[str, ...]) -> dict[str, Any]:
    """The plain fields of a statistics dataclass (``asdict`` is far slower, and this is done
    at every change)."""
    return {n: getattr(obj, n) for n in names}


def _split(stats: DayStats, queues: tuple[QueueId, ...], figure: str, dt: float) -> None:
    """Share ``dt`` out among the queues of the calls the agent is on at once, so that the
    queues' figures add up to the agent's (time on two calls is still time once)."""
    distinct = set(queues)
    share = dt / len(distinct)
    for q in distinct:
        f = stats.queue(q)
        setattr(f, figure, getattr(f, figure) + share)


def _accrue(stats: DayStats, act: Activity, dt: float) -> None:
    if act.status is Status.READY:
        stats.readytime += dt
        if act.idle:
            stats.idletime += dt
    elif act.status is Status.AUX:
        stats.auxtime += dt
        key = act.reason or ""
        stats.auxtimes[key] = stats.auxtimes.get(key, 0.0) + dt
    elif act.status is Status.ACW:
        stats.acwtime += dt
    else:
        stats.offlinetime += dt
    if act.ringing_in is not None:
        stats.in_ringtime += dt
        stats.queue(act.ringing_in).ringtime += dt
    if act.talking_in:
        stats.in_talktime += dt
        _split(stats, act.talking_in, "talktime", dt)
    if act.ringing_out:
        stats.out_ringtime += dt
        _split(stats, act.ringing_out, "ringtime", dt)
    if act.talking_out:
        stats.out_talktime += dt
        _split(stats, act.talking_out, "talktime", dt)
    for q in act.suspended:
        stats.queue(q).suspendtime += dt


def _secs(x: float) -> int:
    return round(x)


@dataclass(slots=True)
class Agent:
    """One agent's live state: availability, suspensions, and today's statistics."""

    config: AgentConfig
    since: float
    """When the statistics were last brought up to date (``accrue``)."""
    status: Status = Status.OFFLINE
    reason: str | None = None
    status_since: float = 0.0
    acw_until: float | None = None
    """End of automatic wrap-up; ``None`` for a manual ACW or no ACW at all."""
    acw_call: UniqueId | None = None
    """The call the automatic wrap-up follows (its seconds go to the call's record)."""
    available_since: float = 0.0
    """When the agent last became free for queue calls (longest-idle strategy)."""
    free: bool = False
    """Free for a queue call at the end of the last step (see ``Center.free``)."""
    suspended: set[QueueId] = field(default_factory=set)
    stats: DayStats = field(default_factory=DayStats)
    activity: Activity = field(default_factory=Activity)

    @property
    def id(self) -> int:
        return self.config.id

    def accrue(self, now: float) -> None:
        """Add the time since the last accrual to the buckets of the current activity."""
        dt = now - self.since
        if dt > 0:
            _accrue(self.stats, self.activity, dt)
            self.since = now

    def stats_at(self, now: float) -> DayStats:
        """Today's statistics as of ``now``, without changing anything."""
        dt = now - self.since
        if dt <= 0:
            return self.stats
        copy = DayStats(
            **_flat(self.stats, _STAT_NAMES),
            auxtimes=dict(self.stats.auxtimes),
            queues={
                q: QueueFigures(**_flat(f, _FIGURE_NAMES)) for q, f in self.stats.queues.items()
            },
        )
        _accrue(copy, self.activity, dt)
        return copy

    def new_day(self, now: float) -> None:
        """Start a new day of statistics at ``now`` (local midnight)."""
        self.accrue(now)
        self.stats = DayStats()
        self.since = now

    def to_state(self, day_end: float) -> dict[str, Any]:
        """What must survive a restart; ``day_end`` is when these statistics expire."""
        stats: dict[str, Any] = _flat(self.stats, _STAT_NAMES)
        stats["auxtimes"] = dict(self.stats.auxtimes)
        stats["queues"] = {str(q): _flat(f, _FIGURE_NAMES) for q, f in self.stats.queues.items()}
        return {
            "status": self.status.value,
            "reason": self.reason,
            "status_since": self.status_since,
            "acw_until": self.acw_until,
            "acw_call": self.acw_call,
            "available_since": self.available_since,
            "suspended": sorted(self.suspended),
            "since": self.since,
            "day_end": day_end,
            "stats": stats,
        }

    def restore(self, state: Mapping[str, Any], now: float) -> None:
        """Take back what ``to_state`` saved. Statistics of an earlier day are dropped; the
        time the server was down counts for the status the agent had."""
        self.status = Status(state["status"])
        self.reason = state.get("reason")
        self.status_since = float(state.get("status_since") or now)
        acw_until = state.get("acw_until")
        self.acw_until = float(acw_until) if acw_until is not None else None
        acw_call = state.get("acw_call")
        self.acw_call = UniqueId(str(acw_call)) if acw_call is not None else None
        self.available_since = float(state.get("available_since") or now)
        self.suspended = {QueueId(int(q)) for q in state.get("suspended", ())}
        if float(state.get("day_end") or 0) > now:
            raw = dict(state["stats"])
            queues = {
                QueueId(int(q)): QueueFigures(**f) for q, f in dict(raw.pop("queues")).items()
            }
            self.stats = DayStats(**raw, queues=queues)
            self.since = min(float(state["since"]), now)
        else:
            self.stats = DayStats()
            self.since = now
        self.activity = Activity(status=self.status, reason=self.reason)

    def queue_wire(self, m: Membership, qtype: QueueType, stats: DayStats) -> dict[str, object]:
        f = stats.queues.get(m.queue) or QueueFigures()
        wire: dict[str, object] = {
            "answered": f.answered,
            "priorities": m.priority,
            "queue_id": m.queue,
            "ringtime": _secs(f.ringtime),
            "supervisor": m.supervisor,
            "suspended": m.queue in self.suspended,
            "suspendtime": _secs(f.suspendtime),
            "talktime": _secs(f.talktime),
            "team_id": m.team_id,
            "transferred": f.transferred,
            "transferred_external": f.transferred_external,
            "type": int(qtype),
            "unanswered": f.unanswered,
        }
        return wire


def check_status(status: Status, reason: str | None, aux_reasons: Sequence[str]) -> None:
    """Refuse a status an agent cannot be put in: AUX without one of ``aux_reasons``, or a
    reason with another status (``InvalidArgument``)."""
    if status is Status.AUX:
        if reason is None:
            raise InvalidArgument(f"AUX needs a reason: one of {', '.join(aux_reasons)}")
        if reason not in aux_reasons:
            raise InvalidArgument(f"unknown AUX reason {reason!r}: one of {', '.join(aux_reasons)}")
    elif reason is not None:
        raise InvalidArgument(f"only AUX takes a reason, not {status.value}")
