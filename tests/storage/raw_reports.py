"""The reports' sums computed straight from the records, as ucs did before the rollup
(``storage/reports.py`` until migration 0015, with the queue calls grouped per 15-minute
slot instead of per hour): the reference ``tests/storage/test_rollup.py`` compares the
rollup with. A call record's columns and the status log rows are read one by one, summed by
the database."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    Engine,
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    select,
)

from ucs.core.model import Cause
from ucs.core.periods import ABANDONED_SHORT, SLOT, AgentSums, QueueSums
from ucs.core.queueday import SERVICE_LEVEL_TARGET
from ucs.storage import schema as t

__all__ = ["agent_sums", "queue_slots"]


def _slot(conn: Any) -> Any:
    """The 15-minute slot a call record's ``created`` falls in (exact for the tests' times,
    which are whole eighths of a second)."""
    offset = t.cdr.c.created / literal(float(SLOT), Float)
    if conn.dialect.name == "postgresql":
        return cast(func.floor(offset), Integer)
    return cast(offset, Integer)  # SQLite truncates toward zero: right for offset >= 0


def queue_slots(
    engine: Engine, start: float, end: float, queues: Collection[int] | None
) -> dict[tuple[int, int], QueueSums]:
    """Per (queue, slot): the sums of the queue calls created in [``start``, ``end``) that
    have ended (``queues``: only these; None: all)."""
    c, q = t.cdr.c, t.queues.c
    answered = c.answered.is_not(None)
    abandoned = and_(c.answered.is_(None), c.cause == int(Cause.CALLER_HANGUP))
    waited = c.answered - c.waited_from
    target = func.coalesce(q.service_level_target, SERVICE_LEVEL_TARGET)
    with engine.connect() as conn:
        hour = _slot(conn).label("slot")
        query = (
            select(
                c.queue_id,
                hour,
                func.count(),
                func.count(c.answered),
                func.sum(case((abandoned, 1), else_=0)),
                func.sum(
                    case((and_(abandoned, c.ended - c.waited_from <= ABANDONED_SHORT), 1), else_=0)
                ),
                func.sum(case((and_(answered, waited <= target), 1), else_=0)),
                func.sum(case((answered, waited), else_=0.0)),
                func.sum(
                    case((answered, c.ended - c.answered + func.coalesce(c.acw, 0.0)), else_=0.0)
                ),
                func.max(func.coalesce(c.answered, c.ended) - c.waited_from),
            )
            .select_from(t.cdr.outerjoin(t.queues, q.id == c.queue_id))
            .where(
                c.live.is_(False),
                c.queue_id.is_not(None),
                c.created >= start,
                c.created < end,
            )
            .group_by(c.queue_id, hour)
        )
        if queues is not None:
            query = query.where(c.queue_id.in_(sorted(queues)))
        found: dict[tuple[int, int], QueueSums] = {}
        for row in conn.execute(query):
            qid, h, offered, ans, aband, short, within, wait, handle, most = row
            found[(int(qid), int(h))] = QueueSums(
                offered=int(offered),
                answered=int(ans),
                abandoned=int(aband or 0),
                abandoned_short=int(short or 0),
                within=int(within or 0),
                wait=float(wait or 0.0),
                handle=float(handle or 0.0),
                max_wait=max(0.0, float(most or 0.0)),
            )
    return found


def agent_sums(
    engine: Engine, start: float, end: float, agents: Collection[int]
) -> dict[int, AgentSums]:
    """Per agent of ``agents``: queue calls answered and talk time (call records created in
    [``start``, ``end``)), offers missed, and time per status and reason (the status log,
    clipped to [``start``, ``end``); ``end`` no later than now)."""
    wanted = sorted(agents)
    sums = {a: AgentSums() for a in wanted}
    if not wanted or end <= start:
        return sums
    c, m, s = t.cdr.c, t.missed_offers.c, t.status_log.c
    in_period = (c.live.is_(False), c.created >= start, c.created < end)
    with engine.connect() as conn:
        calls = (
            select(
                c.agent_id,
                func.sum(case((and_(c.handled_by == c.agent_id, c.answered.is_not(None)), 1))),
                func.sum(case((c.answered.is_not(None), c.ended - c.answered), else_=0.0)),
            )
            .where(*in_period, c.agent_id.in_(wanted))
            .group_by(c.agent_id)
        )
        for aid, answered, talk in conn.execute(calls):
            sums[aid].answered = int(answered or 0)
            sums[aid].talk = float(talk or 0.0)
        missed = (
            select(m.agent_id, func.count())
            .where(m.at >= start, m.at < end, m.agent_id.in_(wanted))
            .group_by(m.agent_id)
        )
        for aid, n in conn.execute(missed):
            sums[aid].missed = int(n)
        # Time per status: each row in the period closes the span of the status before it
        # (``prev_*``, clipped to ``start``) ...
        since = case((s.prev_since < start, start), else_=s.prev_since)
        spans = (
            select(s.agent_id, s.prev_status, s.prev_reason, func.sum(s.at - since))
            .where(s.at >= start, s.at < end, s.agent_id.in_(wanted), s.prev_status.is_not(None))
            .group_by(s.agent_id, s.prev_status, s.prev_reason)
        )
        for aid, status, reason, seconds in conn.execute(spans):
            sums[aid].add_time(status, reason, float(seconds or 0.0))
        # ... and each agent's last row before ``end`` opens the span still going on then
        # (found per agent by the index status_log_agent_at, in one statement).
        last = (
            select(s.id)
            .where(s.agent_id == t.agents.c.id, s.at < end)
            .order_by(s.at.desc(), s.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        ids = [
            i
            for (i,) in conn.execute(select(last).where(t.agents.c.id.in_(wanted)))
            if i is not None
        ]
        if ids:
            rows = select(s.agent_id, s.status, s.reason, s.at).where(s.id.in_(ids))
            for aid, status, reason, at in conn.execute(rows):
                if status != "OFFLINE":
                    sums[aid].add_time(status, reason, end - max(float(at), start))
    return sums
