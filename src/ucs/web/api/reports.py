"""Reports: the call records (``/api/cdr``) and today's statistics (``/api/stats/…``)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ucs.core.center import last_midnight
from ucs.core.model import CALL_FIELDS, CallState
from ucs.core.views import user_wire
from ucs.web.api.auth import ERRORS, require_admin

__all__ = ["router"]

router = APIRouter(
    prefix="/api",
    tags=["reports"],
    dependencies=[Depends(require_admin)],
    responses=ERRORS,
)

_CSV_FIELDS = [*sorted(CALL_FIELDS), "account_codes"]


@router.get("/cdr", response_model=None)
async def call_records(
    request: Request,
    format: Literal["json", "csv"] = "json",
    since: float | None = Query(None, ge=0, le=1e11, description="Created at or after (Unix)."),
    until: float | None = Query(None, ge=0, le=1e11, description="Created before (Unix time)."),
    queue: int | None = Query(None, gt=0, le=2_147_483_647),
    limit: int = Query(1000, ge=1, le=100_000),
    offset: int = Query(0, ge=0, le=1_000_000_000),
) -> Any:
    """Finished calls as Call objects with their account codes, oldest first."""
    store = request.app.state.server.store
    rows = await asyncio.to_thread(
        store.cdr, since=since, until=until, queue_id=queue, limit=limit, offset=offset
    )
    if format == "json":
        return rows
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        flat = {
            k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
            for k, v in row.items()
        }
        writer.writerow(flat)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cdr.csv"'},
    )


@router.get("/stats/agents")
async def agent_stats(request: Request) -> list[dict[str, Any]]:
    """Every agent's User object with today's statistics."""
    server = request.app.state.server
    c = server.center
    now = max(c.now, server.engine.clock())
    return [
        user_wire(a, c.directory, c.sessions.get(aid), now) for aid, a in sorted(c.agents.items())
    ]


@router.get("/stats/queues")
async def queue_stats(request: Request) -> list[dict[str, Any]]:
    """Per queue: callers waiting now, agents, and today's totals over its members."""
    server = request.app.state.server
    c = server.center
    now = max(c.now, server.engine.clock())
    day_start = last_midnight(now, c.tz)
    abandoned = await asyncio.to_thread(server.store.abandoned_since, day_start)
    result = []
    for qid, q in sorted(c.directory.queues.items()):
        waiting = [
            call
            for call in c.calls.values()
            if call.queue_id == qid and call.connected_party is None and not call.ended
        ]
        members = [a for a in c.agents.values() if a.config.membership(qid) is not None]
        totals = {
            k: 0
            for k in (
                "answered unanswered ringtime talktime transferred transferred_external".split()
            )
        }
        for a in members:
            f = a.stats_at(now).queues.get(qid)
            if f is not None:
                for k in totals:
                    totals[k] += getattr(f, k)
        result.append(
            {
                "queue_id": qid,
                "name": q.name,
                "type": int(q.type),
                "strategy": q.strategy.value,
                "waiting": len(waiting),
                "ringing": sum(1 for call in waiting if call.state is CallState.RINGING),
                "longest_wait": round(max((now - call.created for call in waiting), default=0)),
                "members": len(members),
                "logged_in": sum(1 for a in members if a.config.id in c.sessions),
                "free": sum(1 for a in members if c.free(a.config.id)),
                "abandoned": abandoned.get(qid, 0),
                **{k: round(v) for k, v in totals.items()},
            }
        )
    return result
