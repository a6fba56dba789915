"""Reports over time (CONTRACT §11, docs/reports.md): ``GET /api/reports/queues`` and
``GET /api/reports/agents``, as JSON or CSV (``format=csv``).

The period is whole local days of the server's time zone, ``from`` to ``to`` inclusive (both
``YYYY-MM-DD``, today by default); the queue report cuts it into hours or days
(``interval``). The admin token and a superuser's session read every queue and agent, a
supervisor's session their own queues and team (``ucs.web.api.readers``). The sums are read
from the rollup, off the event loop (``ucs.storage.reports``), the figures made by
``ucs.core.periods``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from ucs.core.periods import Period, agent_rows, period, queue_rows
from ucs.storage import reports as queries
from ucs.web.api.auth import ERRORS
from ucs.web.api.readers import Reader, require_reader
from ucs.web.api.spreadsheet import BOM, csv_cell

__all__ = ["AGENT_COLUMNS", "QUEUE_COLUMNS", "router"]

router = APIRouter(
    prefix="/api/reports",
    tags=["reports"],
    responses={
        **ERRORS,
        403: {"description": "A supervisor who supervises no queue any more."},
        422: {"description": "A bad date, `from` after `to`, or more than 366 days."},
    },
)

QUEUE_COLUMNS = [
    "queue_id",
    "name",
    "start",
    "end",
    "offered",
    "answered",
    "abandoned",
    "answered_within_target",
    "service_level",
    "asa",
    "aht",
    "max_wait",
]
"""The queue report's fields, in the CSV's order."""
AGENT_COLUMNS = [
    "id",
    "username",
    "displayname",
    "answered",
    "missed",
    "talktime",
    "acwtime",
    "auxtime",
    "auxtimes",
    "readytime",
    "loggedtime",
    "occupancy",
]
"""The agent report's fields, in the CSV's order (``auxtimes`` is a column per reason)."""

_FROM = Query(None, alias="from", max_length=40, description="First day, YYYY-MM-DD (today).")
_TO = Query(None, max_length=40, description="Last day, YYYY-MM-DD, inclusive (today).")
_FORMAT = Query("json", description="json, or csv for a spreadsheet.")
_CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {}, "text/csv": {}}}}


def _period(request: Request, first: str | None, last: str | None, interval: str) -> Period:
    tz = request.app.state.server.center.tz
    today = datetime.fromtimestamp(time.time(), tz).date()
    return period(first, last, interval, tz, today)


@router.get("/queues", response_model=None, responses=_CSV)
async def queue_report(
    request: Request,
    first: str | None = _FROM,
    to: str | None = _TO,
    interval: str = Query("hour", max_length=10, description="hour or day."),
    format: Literal["json", "csv"] = _FORMAT,
    reader: Reader = Depends(require_reader),
) -> Response:
    """Per queue and interval: calls `offered`, `answered`, `abandoned`,
    `answered_within_target`, `service_level` (percent), `asa`, `aht`, `max_wait` (seconds);
    docs/reports.md defines each."""
    p = _period(request, first, to, interval)
    server = request.app.state.server
    names = {
        qid: q.name
        for qid, q in sorted(server.center.directory.queues.items())
        if reader.queues is None or qid in reader.queues
    }
    slots = await asyncio.to_thread(
        queries.queue_slots, server.store.engine, p.slots, reader.queues
    )
    for qid, _ in sorted(slots):  # a queue removed since: its calls still count
        if qid not in names and (reader.queues is None or qid in reader.queues):
            names[qid] = f"#{qid}"
    rows = queue_rows(p, names, slots)
    if format == "csv":
        return _csv(rows, QUEUE_COLUMNS, f"queues-{p.first}-{p.last}-{p.interval}.csv")
    return JSONResponse(rows)


@router.get("/agents", response_model=None, responses=_CSV)
async def agent_report(
    request: Request,
    first: str | None = _FROM,
    to: str | None = _TO,
    format: Literal["json", "csv"] = _FORMAT,
    reader: Reader = Depends(require_reader),
) -> Response:
    """Per agent: queue calls `answered`, offers `missed`, `talktime`, `acwtime`, `auxtime`
    (and `auxtimes` per reason), `readytime`, `loggedtime` (seconds) and `occupancy`
    (percent); docs/reports.md defines each."""
    p = _period(request, first, to, "day")
    server = request.app.state.server
    agents = [
        (aid, a.username, a.name)
        for aid, a in sorted(server.center.directory.agents.items())
        if reader.agents is None or aid in reader.agents
    ]
    stop = min(p.end, time.time())
    sums = await asyncio.to_thread(
        queries.agent_sums,
        server.store.engine,
        (p.first, p.last),
        p.start,
        stop,
        [a for a, _, _ in agents],
    )
    rows = agent_rows(agents, sums)
    if format == "csv":
        reasons = sorted({r for row in rows for r in row["auxtimes"]})
        flat = [{**row, **{f"aux:{r}": row["auxtimes"].get(r, 0) for r in reasons}} for row in rows]
        columns = [c for c in AGENT_COLUMNS if c != "auxtimes"] + [f"aux:{r}" for r in reasons]
        return _csv(flat, columns, f"agents-{p.first}-{p.last}.csv")
    return JSONResponse(rows)


def _csv(rows: list[dict[str, Any]], columns: list[str], filename: str) -> Response:
    """``rows`` as CSV for a spreadsheet (``ucs.web.api.spreadsheet``: a byte-order mark,
    no formulas); a figure that is null is an empty cell."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow([csv_cell(c) for c in columns])  # an AUX reason's column is typed text
    for row in rows:
        writer.writerow([csv_cell(row.get(k)) for k in columns])
    return Response(
        out.getvalue().encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
