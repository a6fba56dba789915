"""Reports: the call records (``/api/cdr``) and today's statistics (``/api/stats/…``).

The call records come in pages (``limit``, at most ``MAX_PAGE``), and a page is read, encoded
and sent ``_CHUNK`` records at a time, off the event loop: a record may carry 16 KiB of data, and
no request holds more than a chunk of them. The CSV is written for spreadsheets
(``ucs.web.api.spreadsheet``: a byte-order mark, ISO 8601 times, durations, cause names, no
formulas).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import tzinfo
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse

from ucs.core.center import last_midnight
from ucs.core.model import CallState
from ucs.core.views import user_wire
from ucs.web.api.auth import ERRORS, require_admin
from ucs.web.api.spreadsheet import csv_rows, parse_time

__all__ = ["MAX_PAGE", "router"]

router = APIRouter(
    prefix="/api",
    tags=["reports"],
    dependencies=[Depends(require_admin)],
    responses=ERRORS,
)

MAX_PAGE = 10_000
"""Most call records one request answers (``limit``); the default is 1000."""
_CHUNK = 200
"""Records read and encoded at a time."""
_TIME = (
    "Unix seconds, or ISO 8601: a date (its midnight) or a date and time, in the server's "
    "time zone unless an offset is given"
)

Rows = list[dict[str, Any]]


def _moment(name: str, text: str | None, tz: tzinfo) -> float | None:
    if text is None:
        return None
    try:
        moment = parse_time(text, tz)
    except ValueError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name}: {err}") from None
    if not 0 <= moment <= 1e11:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name}: out of range")
    return moment


@router.get(
    "/cdr",
    response_model=None,
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def call_records(
    request: Request,
    format: Literal["json", "csv"] = "json",
    since: str | None = Query(None, max_length=64, description=f"Created at or after: {_TIME}."),
    until: str | None = Query(None, max_length=64, description=f"Created before: {_TIME}."),
    queue: int | None = Query(None, gt=0, le=2_147_483_647),
    agent: int | None = Query(
        None, gt=0, le=2_147_483_647, description="Calls with this agent (id) on them."
    ),
    limit: int = Query(1000, ge=1, le=MAX_PAGE, description="Records in this page."),
    offset: int = Query(0, ge=0, le=1_000_000_000, description="Records skipped before it."),
) -> StreamingResponse:
    """Finished calls as Call objects with their account codes, oldest first, a page at a
    time: ask for the next with ``offset`` increased by the records received."""
    server = request.app.state.server
    store, tz = server.store, server.center.tz
    start, end = _moment("since", since, tz), _moment("until", until, tz)
    where = {"until": end, "queue_id": queue, "agent_id": agent}
    first = min(_CHUNK, limit)
    # The first chunk is read before the answer starts, so that a database that cannot be
    # read gets its 503 (server.py), not a broken answer.
    rows = await asyncio.to_thread(store.cdr, since=start, limit=first, offset=offset, **where)
    chunks = _chunks(store, rows, first, where=where, limit=limit)
    if format == "json":
        return StreamingResponse(_json(chunks), media_type="application/json")
    return StreamingResponse(
        _csv(chunks, tz),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cdr.csv"'},
    )


async def _chunks(
    store: Any, rows: Rows, asked: int, *, where: dict[str, Any], limit: int
) -> AsyncIterator[Rows]:
    """The page's records a chunk at a time. After the first, each chunk starts right after
    the last record sent (found by its ``created`` and ``uniqueid``, not by counting), so that
    records written meanwhile neither repeat nor push a record out of the page."""
    sent = 0
    while True:
        yield rows
        sent += len(rows)
        if len(rows) < asked or sent >= limit:
            return
        last = rows[-1]
        ties = sum(1 for r in rows if r["created"] == last["created"])
        asked = min(_CHUNK, limit - sent)
        rows = await _after(store, last, ties, asked, where)


async def _after(
    store: Any,
    last: dict[str, Any],
    ties: int,
    asked: int,
    where: dict[str, Any],
) -> Rows:
    """Up to ``asked`` records after ``last``. ``ties`` records of its instant (itself
    included) are known to come up to it; more may (earlier chunks, the page's offset): then
    the window grows until it is found."""
    window = ties + asked
    while True:
        got = await asyncio.to_thread(
            store.cdr, since=last["created"], limit=window, offset=0, **where
        )
        at = next((i for i, r in enumerate(got) if r["uniqueid"] == last["uniqueid"]), None)
        if at is not None:
            return list(got[at + 1 : at + 1 + asked])
        if len(got) < window:  # it is gone (never, for a record): what came after its instant
            return [r for r in got if r["created"] > last["created"]][:asked]
        window *= 2  # more records of its instant than known


def _json_chunk(rows: Rows, first: bool) -> bytes:
    # The JSON is the Call objects and their account codes, exactly (the CSV adds ``agents``).
    text = ",".join(
        json.dumps(
            {k: v for k, v in row.items() if k != "agents"},
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        )
        for row in rows
    )
    return (("" if first or not text else ",") + text).encode()


async def _json(chunks: AsyncIterator[Rows]) -> AsyncIterator[bytes]:
    yield b"["
    first = True
    async for rows in chunks:
        if rows:
            yield await asyncio.to_thread(_json_chunk, rows, first)
            first = False
    yield b"]"


async def _csv(chunks: AsyncIterator[Rows], tz: tzinfo) -> AsyncIterator[bytes]:
    header = True
    async for rows in chunks:
        text = await asyncio.to_thread(csv_rows, rows, tz, header=header)
        yield text.encode()
        header = False


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
