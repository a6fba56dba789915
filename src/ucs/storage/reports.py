"""The queries behind the reports over time (``/api/reports/…``, docs/reports.md).

They read the rollup (``rollup.py``), which the writer keeps in step with the records: the
queue report one row per queue and 15-minute slot of the period (``queue_slots``), the agent
report per agent the sums of the period's days (``agent_call_days``, ``agent_days``) and the
status each agent is in now, which no row has closed yet. ``ucs.core.periods`` turns the sums
into figures. Both SQLite and PostgreSQL run them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import Engine, func, select

from ucs.core.periods import AgentSums, QueueSums
from ucs.storage import schema as t

__all__ = ["agent_sums", "queue_slots"]


def queue_slots(
    engine: Engine, slots: range, queues: Collection[int] | None
) -> dict[tuple[int, int], QueueSums]:
    """Per (queue, slot) of ``slots``: the sums of the queue calls created in it that have
    ended (``queues``: only these; None: all)."""
    s = t.queue_slots.c
    query = select(
        s.queue_id,
        s.slot,
        s.offered,
        s.answered,
        s.abandoned,
        s.abandoned_short,
        s.within,
        s.wait,
        s.handle,
        s.max_wait,
    ).where(s.slot >= slots.start, s.slot < slots.stop)
    if queues is not None:
        query = query.where(s.queue_id.in_(sorted(queues)))
    found: dict[tuple[int, int], QueueSums] = {}
    with engine.connect() as conn:
        rows = conn.execute(query).all()  # at once: a row at a time costs more than the query
        for qid, slot, offered, ans, aband, short, within, wait, handle, most in rows:
            found[(qid, slot)] = QueueSums(
                offered=offered,
                answered=ans,
                abandoned=aband,
                abandoned_short=short,
                within=within,
                wait=wait,
                handle=handle,
                max_wait=max(0.0, most or 0.0),
            )
    return found


def agent_sums(
    engine: Engine,
    days: tuple[date, date],
    start: float,
    end: float,
    agents: Collection[int],
) -> dict[int, AgentSums]:
    """Per agent of ``agents``: queue calls answered, talk time and offers missed of the days
    ``days`` (first and last, inclusive; ``start`` is the first's midnight), and time per
    status and reason: the spans the status log closed in those days, and the status still
    going on, from when it began (or ``start``) to ``end`` (now, or the period's end)."""
    wanted = sorted(agents)
    sums = {a: AgentSums() for a in wanted}
    if not wanted or end <= start:
        return sums
    first, last = days
    c, d, s = t.agent_call_days.c, t.agent_days.c, t.status_log.c
    with engine.connect() as conn:
        calls = (
            select(c.agent_id, func.sum(c.answered), func.sum(c.talk), func.sum(c.missed))
            .where(c.day >= first, c.day <= last, c.agent_id.in_(wanted))
            .group_by(c.agent_id)
        )
        for aid, answered, talk, missed in conn.execute(calls):
            sums[aid].answered = int(answered or 0)
            sums[aid].talk = float(talk or 0.0)
            sums[aid].missed = int(missed or 0)
        times = (
            select(d.agent_id, d.status, d.reason, func.sum(d.seconds))
            .where(d.day >= first, d.day <= last, d.agent_id.in_(wanted))
            .group_by(d.agent_id, d.status, d.reason)
        )
        for aid, status, reason, seconds in conn.execute(times):
            sums[aid].add_time(status, reason or None, float(seconds or 0.0))
        # Each agent's last row opens the span still going on (found per agent by the index
        # status_log_agent_at, in one statement): it counts up to ``end`` if it began before.
        latest = (
            select(s.id)
            .where(s.agent_id == t.agents.c.id)
            .order_by(s.at.desc(), s.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        ids = [
            i
            for (i,) in conn.execute(select(latest).where(t.agents.c.id.in_(wanted)))
            if i is not None
        ]
        if ids:
            rows = select(s.agent_id, s.status, s.reason, s.at).where(s.id.in_(ids))
            for aid, status, reason, at in conn.execute(rows):
                if status != "OFFLINE" and at < end:
                    sums[aid].add_time(status, reason, end - max(float(at), start))
    return sums
