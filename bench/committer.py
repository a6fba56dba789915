"""The committer's CPU and time a batch, measured apart from the rest of the server.

    UCS_BENCH_POSTGRES_URL=postgresql://… .venv/bin/python -m bench.committer record
    UCS_BENCH_POSTGRES_URL=postgresql://… .venv/bin/python -m bench.committer replay [PAIRS]

``record``: one worker of ``bench.workers`` (900 agents, two queues, PostgreSQL) at 100 calls/s
for five steps, its committer keeping every batch it writes (``UCS_COMMITTER_TAP``) in
``bench/results/committer-batches.pkl``.

``replay``: those batches written again into a fresh database (migrated, a partition owned, so
every transaction checks its fence as a cluster's do), one after the other by a
``LocalCommitter`` in this process, each statement waiting for its answer (``plain``) or the
writes sent in psycopg's pipeline mode (``pipeline``, what the server's committer does),
alternately, PAIRS pairs (3). The first 1,200 batches (sign-ins, set-up) are written before
the clock starts. Printed and kept in ``bench/results/committer.json``: the process's CPU
(``time.process_time``) and the wall time a batch, and each pair's ratio: a shared machine
moves both modes of a pair alike, so the ratios are what to compare.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.run import RESULTS, machine
from bench.workers import fresh_database, measure
from ucs.storage.committer import LocalCommitter, Mark, make_engine
from ucs.storage.journal import Record
from ucs.storage.lease import Fence
from ucs.storage.store import Store, database_url

TAPE = RESULTS / "committer-batches.pkl"
SET_UP = 1200
"""Batches written before the clock starts: the agents signing in, the first calls."""
MODES = {"plain": False, "pipeline": True}


def record(pg: str) -> None:
    TAPE.unlink(missing_ok=True)
    os.environ["UCS_COMMITTER_TAP"] = str(TAPE)
    workdir = RESULTS / "workers-logs"
    workdir.mkdir(parents=True, exist_ok=True)
    measure(1, pg, mp.get_context("spawn"), workdir, rates=(100.0,) * 5)
    print(f"{len(batches())} batches in {TAPE}")


def batches() -> list[tuple[list[Record], Mark]]:
    out = []
    with TAPE.open("rb") as tape:
        while True:
            try:
                out.append(pickle.load(tape))
            except EOFError:
                return out


def replay(pg: str, tape: list[tuple[list[Record], Mark]], pipeline: bool) -> dict[str, float]:
    """CPU and wall time a batch, in µs, of writing ``tape`` after its set-up."""
    with fresh_database(pg) as db:
        url = database_url(db)
        store = Store(url)
        store.migrate()
        store.engine.dispose()
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO partition_owner (partition, node, epoch, backend, expires) "
                    "VALUES ('main', 'bench', 1, 0, 1e12)"
                )
            )
        committer = LocalCommitter(engine, Fence("main", 1), hold=True, pipeline=pipeline)
        for batch, mark in tape[:SET_UP]:
            committer.commit(batch, mark)
        cpu, wall = time.process_time(), time.perf_counter()
        for batch, mark in tape[SET_UP:]:
            committer.commit(batch, mark)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        committer.close()
        engine.dispose()
    n = len(tape) - SET_UP
    return {"cpu_us": round(cpu / n * 1e6, 1), "wall_us": round(wall / n * 1e6, 1)}


def main() -> int:
    pg = os.environ.get("UCS_BENCH_POSTGRES_URL")
    if not pg or sys.argv[1:2] not in (["record"], ["replay"]):
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "record":
        record(pg)
        return 0
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    tape = batches()
    results: dict[str, Any] = {"machine": machine(), "batches": len(tape) - SET_UP, "pairs": []}
    for i in range(pairs):
        order = list(MODES) if i % 2 == 0 else list(reversed(MODES))
        pair = {mode: replay(pg, tape, MODES[mode]) for mode in order}
        pair["cpu_ratio"] = round(pair["pipeline"]["cpu_us"] / pair["plain"]["cpu_us"], 3)
        pair["wall_ratio"] = round(pair["pipeline"]["wall_us"] / pair["plain"]["wall_us"], 3)
        results["pairs"].append(pair)
        print(json.dumps(pair), flush=True)
    for what in ("cpu_ratio", "wall_ratio"):
        ratios = [p[what] for p in results["pairs"]]
        results[what] = round(math.exp(sum(map(math.log, ratios)) / len(ratios)), 3)
    Path(RESULTS / "committer.json").write_text(json.dumps(results, indent=2))
    print(json.dumps({k: results[k] for k in ("batches", "cpu_ratio", "wall_ratio")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
