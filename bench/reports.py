"""How long the reports over time take on a month of calls (issue 18): 200,000 queue calls
over 30 days in 10 queues answered by 200 agents, with their status log (READY, wrap-up
after each answered call, AUX a few times a day) and missed offers, written straight into a
migrated database, and the rollup the reports read made from them once (``Store.roll_up``,
as a server does at its first start after migration 0015: timed too); then
``GET /api/reports/queues`` (hourly and daily) and ``GET /api/reports/agents`` over the whole
month, as their routes run them (``ucs.storage.reports`` and ``ucs.core.periods``), each timed
three times (the best and the worst).

    .venv/bin/python -m bench.reports [calls]

SQLite always (a file in a temporary directory); PostgreSQL too when ``UCS_BENCH_POSTGRES_URL``
names a database it may empty (never the tests' own). Prints the figures as JSON;
``bench.run`` puts them in its report.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, insert

from ucs.core.model import Cause
from ucs.core.periods import agent_rows, period, queue_rows
from ucs.storage import reports as queries
from ucs.storage import schema as t
from ucs.storage.store import Store

__all__ = ["compare", "fill", "run"]

CALLS = 200_000
DAYS = 30
QUEUES = 10
AGENTS = 200
TZ = ZoneInfo("Europe/Prague")
FIRST = date(2026, 10, 1)  # the month has the DST change of 25 October in it
_BATCH = 5000


def _call_object(uid: str, created: float, answered: float | None, ended: float) -> dict[str, Any]:
    """A Call object of the size a real record has (about 700 bytes of JSON)."""
    return {
        "uniqueid": uid,
        "id": 1,
        "created": created,
        "connected": answered,
        "disconnected": ended,
        "cause": int(Cause.CALLED_HANGUP if answered else Cause.CALLER_HANGUP),
        "direction": "INCOMING",
        "state": 3,
        "caller_number": "+420601123456",
        "caller_number_norm": "+420601123456",
        "caller_name": None,
        "caller_type": "trunk",
        "called_number": "100",
        "called_name": "Support",
        "connected_number": "1001" if answered else None,
        "connected_type": "line" if answered else None,
        "data": {"crmUrl": "https://crm.example.com/contacts/123456", "ticket": "T-123456"},
        "recorded": False,
        "subcalls": 0,
        "now": ended,
    }


def fill(engine: Engine, calls: int = CALLS, seed: int = 18) -> dict[str, int]:
    """``calls`` calls over ``DAYS`` days from ``FIRST``, between 07:00 and 19:00 local, with
    their status log and missed offers; answers what was written."""
    rng = random.Random(seed)
    start = period(FIRST.isoformat(), FIRST.isoformat(), "day", TZ, FIRST).start
    with engine.begin() as conn:
        for table in (
            t.cdr,
            t.status_log,
            t.missed_offers,
            t.memberships,
            t.queues,
            t.agents,
            t.queue_slots,
            t.agent_days,
            t.agent_call_days,
        ):
            conn.execute(delete(table))
        conn.execute(
            insert(t.queues),
            [
                {"id": q, "name": f"Queue {q}", "type": 1, "strategy": "longest-idle"}
                | {"ring_timeout": 15.0, "wrapup": 10.0, "service_level_target": 20}
                for q in range(1, QUEUES + 1)
            ],
        )
        conn.execute(
            insert(t.agents),
            [
                {"id": a, "username": f"agent{a}", "password_hash": "-", "data": {}}
                for a in range(1, AGENTS + 1)
            ],
        )
    cdr: list[dict[str, Any]] = []
    log: list[dict[str, Any]] = []
    missed: list[dict[str, Any]] = []
    written = {"calls": 0, "status_rows": 0, "missed": 0}

    def flush() -> None:
        with engine.begin() as conn:
            for table, rows in ((t.cdr, cdr), (t.status_log, log), (t.missed_offers, missed)):
                if rows:
                    conn.execute(insert(table), rows)
                    written[
                        {"cdr": "calls", "status_log": "status_rows"}.get(table.name, "missed")
                    ] += len(rows)
                    rows.clear()

    per_day = calls // DAYS
    for day in range(DAYS):
        midnight = start + 86400.0 * day
        changes: list[tuple[int, float, str, str | None]] = []
        for a in range(1, AGENTS + 1):  # a working day: READY 07:00, lunch, OFFLINE 19:30
            lunch = midnight + 41400 + rng.uniform(0, 3600)
            changes += [
                (a, midnight + 25200, "READY", None),
                (a, lunch, "AUX", "Lunch"),
                (a, lunch + 1800, "READY", None),
                (a, midnight + 70200, "OFFLINE", None),
            ]
        for n in sorted(rng.uniform(25200, 68000) for _ in range(per_day)):
            created = midnight + n
            uid = f"{created:.1f}.{len(cdr)}-{day}"
            queue = rng.randint(1, QUEUES)
            wait = rng.expovariate(1 / 15)
            answered = rng.random() < 0.9
            agent = rng.randint(1, AGENTS)
            if answered:
                talk = rng.uniform(30, 400)
                ended = created + wait + talk
                acw = 10.0
                changes += [(agent, ended, "ACW", None), (agent, ended + acw, "READY", None)]
            else:
                ended, acw = created + wait, None
            if rng.random() < 0.1:
                missed.append(
                    {"uniqueid": uid, "agent_id": rng.randint(1, AGENTS), "queue_id": queue}
                    | {"at": created + 15}
                )
            cdr.append(
                {
                    "uniqueid": uid,
                    "seq": len(cdr),
                    "queue_id": queue,
                    "created": created,
                    "live": False,
                    "call": _call_object(uid, created, created + wait if answered else None, ended),
                    "account_codes": [],
                    "agents": f" {agent}:agent{agent} " if answered else None,
                    "waited_from": created,
                    "answered": created + wait if answered else None,
                    "ended": ended,
                    "cause": int(Cause.CALLED_HANGUP if answered else Cause.CALLER_HANGUP),
                    "agent_id": agent if answered else None,
                    "handled_by": agent if answered else None,
                    "acw": acw,
                }
            )
            if len(cdr) >= _BATCH:
                flush()
        log.extend(_spans(changes))
    flush()
    return written


def _spans(changes: list[tuple[int, float, str, str | None]]) -> list[dict[str, Any]]:
    """Status log rows, each with the span of the status it ends (what the core writes)."""
    rows, before = [], {}
    for agent, at, status, reason in sorted(changes, key=lambda c: (c[0], c[1])):
        prev = before.get(agent)
        rows.append(
            {"agent_id": agent, "status": status, "reason": reason, "at": at}
            | {
                "prev_status": prev[0] if prev else None,
                "prev_reason": prev[1] if prev else None,
                "prev_since": prev[2] if prev else None,
            }
        )
        before[agent] = (status, reason, at) if status != "OFFLINE" else None
    return rows


def _timed(what: Callable[[], Any]) -> dict[str, Any]:
    """Wall time (best and worst of three) and this process's CPU time (best): on a busy
    machine the CPU time tells what SQLite, which runs in this process, takes by itself."""
    times, cpu, result = [], [], None
    for _ in range(3):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = what()
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return {
        "best_ms": round(min(times) * 1000, 1),
        "worst_ms": round(max(times) * 1000, 1),
        "cpu_ms": round(min(cpu) * 1000, 1),
        "rows": len(result) if isinstance(result, list) else None,
    }


def run(url: str, workdir: Path, calls: int = CALLS) -> dict[str, Any]:
    """Fill the database at ``url`` and time the three reports over the month."""
    store = Store(url, journal=str(workdir / "bench.ucs-journal"), tz=TZ)
    store.migrate()
    engine = store.engine
    began = time.perf_counter()
    written = fill(engine, calls)
    filled_s = round(time.perf_counter() - began, 1)
    began = time.perf_counter()
    store.roll_up(force=True)
    rollup_s = round(time.perf_counter() - began, 1)
    last = FIRST + timedelta(days=DAYS - 1)
    names = {q: f"Queue {q}" for q in range(1, QUEUES + 1)}
    agents = [(a, f"agent{a}", f"agent{a}") for a in range(1, AGENTS + 1)]

    def queues(interval: str) -> Callable[[], list[dict[str, Any]]]:
        def report() -> list[dict[str, Any]]:
            p = period(FIRST.isoformat(), last.isoformat(), interval, TZ, FIRST)
            return queue_rows(p, names, queries.queue_slots(engine, p.slots, None))

        return report

    def agent_report() -> list[dict[str, Any]]:
        p = period(FIRST.isoformat(), last.isoformat(), "day", TZ, FIRST)
        ids = [a for a, _, _ in agents]
        sums = queries.agent_sums(engine, (p.first, p.last), p.start, p.end, ids)
        return agent_rows(agents, sums)

    figures = {
        "database": engine.dialect.name,
        **written,
        "fill_s": filled_s,
        "rollup_s": rollup_s,
        "queues_hourly": _timed(queues("hour")),
        "queues_daily": _timed(queues("day")),
        "agents": _timed(agent_report),
    }
    engine.dispose()
    return figures


def compare(calls: int = CALLS) -> list[dict[str, Any]]:
    """The figures on SQLite, and on PostgreSQL when a database is named for it."""
    found = []
    with tempfile.TemporaryDirectory(prefix="ucs-bench-reports-") as tmp:
        found.append(run(f"sqlite:///{Path(tmp) / 'reports.db'}", Path(tmp), calls))
        pg = os.environ.get("UCS_BENCH_POSTGRES_URL")
        if pg:
            found.append(run(pg, Path(tmp), calls))
    return found


def main() -> int:
    print(json.dumps(compare(int(sys.argv[1]) if len(sys.argv) > 1 else CALLS), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
