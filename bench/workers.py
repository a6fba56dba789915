"""``make bench-workers``: call_load on ``ucs serve --cluster --workers 2`` against one worker.

    UCS_BENCH_POSTGRES_URL=postgresql://… .venv/bin/python -m bench.workers
    BENCH_QUICK=1 …                      # shorter steps, fewer agents
    … -m bench.workers failover [N]      # the failover alone, N agents (1,000) in north

Issue 19 (docs/deploy.md, "One machine, every core"). Each run has a fresh PostgreSQL database
(made beside ``UCS_BENCH_POSTGRES_URL``'s, dropped afterwards) seeded as call_load's (``seed.py``)
but for two queues whose agents are apart (half the agents in each, each in one queue):

- **one worker**: ``ucs serve --cluster --workers 1``, both queues in partition ``main``;
- **two workers**: ``ucs serve --cluster --workers 2`` (HAProxy in front), queue 2 and its agents
  in partition ``north``, so each worker runs one of them. The agents connect as the hand-off
  sends them, at ``/node/NAME/ws`` through HAProxy, and the callers post to
  ``/node/NAME/api/sim/calls``, NAME the worker that runs the queue's partition.

Each steps the rate of calls up (``RATES``, a few seconds each, after a warm-up step) until
calls are turned away or lost, and keeps the highest step whose offers (call posted → first
ring at an agent) have a p99 ≤ 25 ms with no call failing (on a machine too busy for any: the
highest step run, saying so), reporting calls/s, the server's CPU (all its processes: HAProxy,
workers, their writers; and HAProxy's alone) and the load generator's. Then, with two
workers, the failover: kill -9 of the worker that runs ``north``, the seconds until ``north``
is served again, and how long SDK clients of its agents took to resume (p50, p99); and the
same with a standby (three workers, two partitions). Results: ``bench/results/workers.json``
and ``workers.md``.

``failover [N]``: the failover alone, at scale: N agents (1,000 by default) in ``north`` and as
many in ``main``, an SDK client signed in for each of north's, then kill -9 of north's worker,
taken over by a standby (three workers), then (a new database) by the worker started again
(two); the seconds until north is served again and until every client has resumed (p50, p99),
and the echo baseline of the machine then. Results: ``bench/results/workers-failover.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.loadgen import AgentSpec, CallerSpec, agent_worker, caller_worker, sso_token
from bench.run import (
    HOST,
    RESULTS,
    Config,
    Workers,
    cpu_seconds,
    free_port,
    machine,
    pct,
    run_baseline,
    stop,
)
from bench.seed import ADMIN_TOKEN, SSO_SECRET, agent_name, phone_name, seed

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
AGENTS = 300 if QUICK else 900
RATES = (25, 50, 100) if QUICK else (50, 100, 150, 200, 250, 300, 350, 400)
STEP = 4.0 if QUICK else 8.0
"""Seconds of each step."""
TALK = (1.0, 2.0)
"""Shorter than call_load's, so that few agents take many calls a second."""
RESUMERS = 50 if QUICK else 200
"""SDK clients of north's agents that the failover measures."""
OFFER_P99_MS = 25.0
TIMEOUT = 300.0
"""Seconds the failover waits for every client to resume; then it says which did not, and why."""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] workers: {msg}", flush=True)


@contextlib.contextmanager
def fresh_database(base: str) -> Any:
    url = make_url(base)
    name = f"{url.database}_w_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def split(db: str, agents: int, partitioned: bool) -> None:
    """Half the agents in queue 1, half in queue 2; with ``partitioned``, queue 2 and its
    agents in partition ``north``."""
    engine = create_engine(db)
    half = agents // 2
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM memberships WHERE agent_id <= :h AND queue_id = 2"), {"h": half}
        )
        conn.execute(
            text("DELETE FROM memberships WHERE agent_id > :h AND queue_id = 1"), {"h": half}
        )
        if partitioned:
            conn.execute(text("UPDATE queues SET partition = 'north' WHERE id = 2"))
            conn.execute(text("UPDATE agents SET partition = 'north' WHERE id > :h"), {"h": half})
    engine.dispose()


def get(url: str, timeout: float = 5) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body: dict[str, Any] = json.loads(r.read())
            return body
    except (OSError, ValueError):
        return None


def owners(front: str, names: list[str]) -> dict[str, tuple[str, int]]:
    """``{partition: (worker, epoch)}`` as each worker's /healthz says, through the front."""
    found = {}
    for name in names:
        health = get(f"{front}/node/{name}/healthz", timeout=2)
        if health is not None and health.get("node") == name:
            found[health["partition"]] = (name, health["epoch"])
    return found


def worker_pid(supervisor: int, name: str) -> int | None:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            env = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) == supervisor and f"UCS_NODE={name}".encode() in env:
                return int(entry)
    return None


def haproxy_pid(supervisor: int) -> int | None:
    """The front's process, a child of the supervisor (none with one worker)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if stat.split(" (", 1)[1].startswith("haproxy)"):
                    if int(stat.rsplit(")", 1)[1].split()[1]) == supervisor:
                        return int(entry)
    return None


def measure(
    workers_n: int, pg: str, ctx: Any, workdir: Path, rates: tuple[float, ...] = RATES
) -> dict[str, Any]:
    """call_load on ``workers_n`` workers, step by step up ``rates``; with more than one, two
    partitions (the third worker, if any, a standby) and the failover."""
    out: dict[str, Any] = {"workers": workers_n, "agents": AGENTS, "steps": []}
    with fresh_database(pg) as db:
        seed(db, AGENTS)
        split(db, AGENTS, partitioned=workers_n > 1)
        with serving(workers_n, db, workdir) as (server, port, names, served):
            pool = Workers(ctx)
            try:
                steps(out, pool, server, port, names, served, rates)
            finally:
                pool.stop()
    return out


@contextlib.contextmanager
def serving(
    workers_n: int, db: str, workdir: Path
) -> Iterator[tuple[subprocess.Popen[bytes], int, list[str], dict[str, tuple[str, int]]]]:
    """``ucs serve --cluster --workers N`` on ``db``, once every partition is served: the
    process, its port, the workers' names (none with one) and ``{partition: (worker,
    epoch)}``. Stopped (SIGTERM) at the end."""
    port = free_port()
    front = f"http://{HOST}:{port}"
    cmd = [sys.executable, "-m", "ucs.cli", "serve", "--cluster", "--node", "bench"]
    cmd += ["--workers", str(workers_n), "--db", db, "--port", str(port), "--media", "off"]
    env = {**os.environ, "UCS_SSO_SECRET": SSO_SECRET, "UCS_ADMIN_TOKEN": ADMIN_TOKEN}
    logfile = (workdir / f"serve-{workers_n}.log").open("wb")
    server = subprocess.Popen(cmd, env=env, stdout=logfile, stderr=subprocess.STDOUT)
    names = [f"bench-{i}" for i in range(1, workers_n + 1)] if workers_n > 1 else []
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not serve"
            if names:
                served = owners(front, names)
                if {"main", "north"} <= set(served):
                    break
            elif get(f"{front}/healthz") is not None:
                served = {"main": ("bench", 1)}
                break
            time.sleep(0.2)
        yield server, port, names, served
    finally:
        stop(server, signal.SIGTERM, 60)
        logfile.close()


def steps(
    out: dict[str, Any],
    pool: Workers,
    server: subprocess.Popen[bytes],
    port: int,
    names: list[str],
    served: dict[str, tuple[str, int]],
    rates: tuple[float, ...],
) -> None:
    """call_load step by step up ``rates`` (into ``out``), then, with workers, the failover."""
    front = f"http://{HOST}:{port}"
    workers_n = len(names) or 1
    where = {q: served["north" if q == 2 and names else "main"][0] for q in (1, 2)}
    half = AGENTS // 2
    groups = {1: range(1, half + 1), 2: range(half + 1, AGENTS + 1)}
    agent_pipes, caller_pipes = [], []
    for q, ids in groups.items():
        prefix = f"/node/{where[q]}" if names else ""
        spec = AgentSpec(
            ws_url=f"ws://{HOST}:{port}{prefix}/ws",
            host=HOST,
            port=port,
            admin_token=ADMIN_TOKEN,
            sso_secret=SSO_SECRET,
            agents=[(agent_name(i), phone_name(i)) for i in ids],
            talk=TALK,
            seed=q,
            prefix=prefix,
        )
        agent_pipes.append(pool.start(agent_worker, spec))
        caller = CallerSpec(HOST, port, ADMIN_TOKEN, (q,), seed=q, prefix=prefix)
        caller_pipes.append(pool.start(caller_worker, caller))
    logins = pool.ask("login", pipes=agent_pipes)
    failures = [f for a in logins for f in a["failures"]]
    if failures:
        raise RuntimeError(f"{len(failures)} logins failed: {failures[:3]}")
    pool.ask("answer", True, pipes=agent_pipes)
    pool.ask("report", pipes=agent_pipes)  # forget the logins
    log(f"{workers_n} worker(s): {AGENTS} agents READY")
    if rates:  # a warm-up, not counted: the first calls of each agent
        one_step(pool, agent_pipes, caller_pipes, server.pid, rates[0])
    for rate in rates:
        step = one_step(pool, agent_pipes, caller_pipes, server.pid, rate)
        out["steps"].append(step)
        log(f"{workers_n} worker(s), {rate} calls/s: {step}")
        if step["failed"] or step["not_rung"]:
            break  # calls turned away or lost: past what it can take
    held = [s for s in out["steps"] if s["held"]]
    out["best"] = held[-1] if held else None
    whole = [s for s in out["steps"] if not (s["failed"] or s["not_rung"])]
    out["top"] = (whole or out["steps"] or [None])[-1]
    if names:
        usernames = [agent_name(half + 1 + i) for i in range(min(RESUMERS, AGENTS - half))]
        out["failover"] = failover(server.pid, front, names, served["north"][0], usernames)


def one_step(
    pool: Workers, agent_pipes: list[Any], caller_pipes: list[Any], server_pid: int, rate: float
) -> dict[str, Any]:
    share = rate / len(caller_pipes)
    front = haproxy_pid(server_pid)
    cpu_front = cpu_seconds(front) if front else 0.0
    cpu_all, cpu_server = cpu_seconds(os.getpid()), cpu_seconds(server_pid)
    started = time.monotonic()
    results = pool.ask("calls", share, STEP, f"r{rate}", pipes=caller_pipes)
    wall = time.monotonic() - started
    server_cpu = cpu_seconds(server_pid) - cpu_server
    front_cpu = (cpu_seconds(front) - cpu_front) if front else 0.0
    loadgen_cpu = cpu_seconds(os.getpid()) - cpu_all - server_cpu
    time.sleep(1.0)  # the last calls ring
    reports = pool.ask("report", pipes=agent_pipes)
    first: dict[str, float] = {}
    for report in reports:
        for uid, _, t in report["rings"]:
            first.setdefault(uid, t)
    sent = {r[0]: r[3] for res in results for r in res["records"] if r[5] == 201}
    offers = [(first[u] - t) * 1000 for u, t in sent.items() if u in first]
    failed = sum(len(r["failures"]) + r["not_sent"] + r["shed"] for r in results)
    shed = sum(r["shed"] for r in results)
    not_sent = sum(r["not_sent"] for r in results)
    unrung = len(sent) - len(offers)
    p99 = pct(offers, 99)
    return {
        "rate": rate,
        "calls_per_s": round(len(sent) / STEP, 1),
        "offer_p50_ms": _round(pct(offers, 50)),
        "offer_p99_ms": _round(p99),
        "failures": [f for r in results for f in r["failures"]][:3],
        "failed": failed,
        "shed": shed,
        "not_sent": not_sent,
        "not_rung": unrung,
        "server_cores": round(server_cpu / wall, 2),
        "haproxy_cores": round(front_cpu / wall, 3),
        "loadgen_cores": round(loadgen_cpu / wall, 2),
        "held": p99 is not None and p99 <= OFFER_P99_MS and failed == 0 and unrung == 0,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def failover(
    supervisor: int,
    front: str,
    names: list[str],
    north: str,
    usernames: list[str],
    db: str = "",
) -> dict[str, Any]:
    """Kill -9 of the worker that runs north: until north is served again, and until each SDK
    client, one for each of north's agents ``usernames``, has resumed (its ``state``
    answered); with ``db``, also until another node took north's lease (its row's epoch)."""
    from ucs.client import Operator, OperatorError

    async def run() -> dict[str, Any]:
        # Each agent's machine has an address of its own (127.0.0.2 …, a few clients each), as
        # behind HAProxy the nodes count connections without a session per client address.
        clients = [
            Operator(f"{front}/node/{north}/", source=f"127.0.0.{2 + n % 250}")
            for n in range(len(usernames))
        ]
        gate = asyncio.Semaphore(50)  # logins in flight at once

        async def signed_in(op: Operator, username: str) -> None:
            async with gate:
                await op.connect()
                await op.sso(username, sso_token(SSO_SECRET, username, int(time.time())))
                try:
                    await op.state()
                except OperatorError as err:  # a session of its own, not joined: its phone
                    if err.code != "INVALID_STATE":
                        raise
                    await op.select_identifier(phone_name(int(username.removeprefix("bench"))))
                    await op.provision()
                    await op.state()

        await asyncio.gather(*(signed_in(op, u) for op, u in zip(clients, usernames, strict=True)))
        await asyncio.sleep(1.0)  # the writer commits the last sign-ins' records (milliseconds)
        log(f"failover: {len(clients)} SDK clients of north's agents signed in; kill -9 {north}")
        epoch = owners(front, names)["north"][1]
        pid = worker_pid(supervisor, north)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()

        times: list[float] = []
        again: list[float] = []
        back: set[int] = set()
        lost: set[int] = set()
        """Clients whose session resumed without its phone: the node answered (INVALID_STATE),
        but the last change before the kill -9 (the phone chosen) was not written."""
        failing: dict[int, str] = {}
        """The last error of each client not resumed yet (what a run that timed out says)."""

        async def resumed(n: int, op: Operator) -> None:
            while True:
                try:
                    await op.state()
                    times.append(time.monotonic() - killed)
                    back.add(n)
                    failing.pop(n, None)
                    return
                except OperatorError as err:
                    if err.code == "INVALID_STATE":  # answered by its session: resumed
                        times.append(time.monotonic() - killed)
                        back.add(n)
                        lost.add(n)
                        failing.pop(n, None)
                        return
                    failing[n] = err.code
                    await asyncio.sleep(0.05)

        async def leased() -> None:
            engine = create_engine(db)
            ask = text("SELECT epoch FROM partition_owner WHERE partition = 'north'")

            def epoch_now() -> int:
                with engine.connect() as conn:
                    return int(conn.execute(ask).scalar() or 0)

            try:
                while True:
                    if await asyncio.to_thread(epoch_now) > epoch:
                        lease.append(time.monotonic() - killed)
                        return
                    await asyncio.sleep(0.05)
            finally:
                engine.dispose()

        lease: list[float] = []

        async def served() -> None:
            while True:
                got = await asyncio.to_thread(owners, front, names)
                if "north" in got and got["north"][1] > epoch:
                    again.append(time.monotonic() - killed)
                    return
                await asyncio.sleep(0.05)

        out: dict[str, Any] = {}
        try:
            async with asyncio.timeout(TIMEOUT):
                watches = [served(), *([leased()] if db else [])]
                await asyncio.gather(*watches, *(resumed(n, op) for n, op in enumerate(clients)))
        except TimeoutError:
            waiting = len(clients) - len(back) - len(failing)  # in a request: no answer yet
            out["timed_out_s"] = TIMEOUT
            out["not_resumed"] = len(clients) - len(back)
            out["last_errors"] = dict(Counter(failing.values()))
            out["waiting_for_an_answer"] = waiting
            log(f"failover: timed out; {out}")
        for op in clients:
            await op.close()
        return {
            **({"lease_taken_s": round(lease[0], 2) if lease else None} if db else {}),
            "served_again_s": round(again[0], 2) if again else None,
            "clients": len(clients),
            "reconnect_p50_s": round(pct(times, 50) or 0, 2),
            "reconnect_p99_s": round(pct(times, 99) or 0, 2),
            "resumed_without_phone": len(lost),
            **out,
        }

    return asyncio.run(run())


def report(results: dict[str, Any]) -> str:
    lines = ["# call_load on one worker and on two (issue 19)", ""]
    m = results["machine"]
    lines += [f"Load average at start: {m['load_avg_at_start']}, {m['cores']} cores, {m['date']}."]
    lines += [
        "",
        "| workers | rate | calls/s | offer p50 ms | offer p99 ms | server cores | loadgen cores "
        "| held |",
    ]
    lines += ["|---|---|---|---|---|---|---|---|"]
    for run in (results["one"], results["two"]):
        for s in run["steps"]:
            lines.append(
                f"| {run['workers']} | {s['rate']} | {s['calls_per_s']} | {s['offer_p50_ms']} | "
                f"{s['offer_p99_ms']} | {s['server_cores']} | {s['loadgen_cores']} | {s['held']} |"
            )
    lines += ["", "```json", json.dumps(results["figures"], indent=2), "```", ""]
    return "\n".join(lines)


def figures(one: dict[str, Any], two: dict[str, Any], standby: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    a, b = one.get("best"), two.get("best")
    if not (a and b):  # a machine too busy to hold the target: the highest steps run instead
        a, b = one.get("top"), two.get("top")
        out["held_target"] = False
    if a and b:
        per_core_1 = a["calls_per_s"] / max(a["server_cores"], 0.01)
        per_core_2 = b["calls_per_s"] / max(b["server_cores"], 0.01)
        out |= {
            "one_worker_calls_per_s": a["calls_per_s"],
            "two_workers_calls_per_s": b["calls_per_s"],
            "raw_ratio": round(b["calls_per_s"] / a["calls_per_s"], 2),
            "calls_per_server_core_one": round(per_core_1, 1),
            "calls_per_server_core_two": round(per_core_2, 1),
            "per_core_ratio": round(per_core_2 / per_core_1, 2),
            "per_core_ratio_without_haproxy": round(
                b["calls_per_s"]
                / max(b["server_cores"] - b.get("haproxy_cores", 0), 0.01)
                / per_core_1,
                2,
            ),
            "per_core_target": 0.9,
        }
    if "failover" in two:
        out["failover_restarted_worker"] = two["failover"]
    if "failover" in standby:
        out["failover_standby"] = standby["failover"]
    return out


def failover_at_scale(pg: str, workdir: Path, agents: int) -> dict[str, Any]:
    """``agents`` agents in north (as many in main), an SDK client each signed in: the
    failover of north's worker, taken over by a standby (three workers) and by the worker
    started again (two)."""
    out: dict[str, Any] = {"agents_in_north": agents}
    usernames = [agent_name(agents + 1 + i) for i in range(agents)]
    for workers_n, key in ((3, "standby"), (2, "restarted_worker")):
        with fresh_database(pg) as db:
            seed(db, 2 * agents)
            split(db, 2 * agents, partitioned=True)
            with serving(workers_n, db, workdir) as (server, port, names, served):
                front = f"http://{HOST}:{port}"
                north = served["north"][0]
                out[key] = failover(server.pid, front, names, north, usernames, db)
                log(f"failover, {workers_n} workers: {out[key]}")
    return out


def main() -> int:
    pg = os.environ.get("UCS_BENCH_POSTGRES_URL")
    if not pg:
        print("bench.workers needs UCS_BENCH_POSTGRES_URL=postgresql://…", file=sys.stderr)
        return 2
    ctx = mp.get_context("spawn")
    workdir = RESULTS / "workers-logs"
    workdir.mkdir(parents=True, exist_ok=True)
    if sys.argv[1:2] == ["failover"]:  # the failover alone, at scale
        agents = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
        scale = {"machine": machine(), "failover": failover_at_scale(pg, workdir, agents)}
        log("echo baseline")
        scale["baseline"] = run_baseline(Config.from_env(), ctx, 20_000, 200)
        scale["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
        (RESULTS / "workers-failover.json").write_text(json.dumps(scale, indent=2))
        print(json.dumps({k: scale[k] for k in ("failover", "baseline", "machine")}, indent=2))
        return 0
    results: dict[str, Any] = {"machine": machine(), "quick": QUICK}
    results["one"] = measure(1, pg, ctx, workdir)
    results["two"] = measure(2, pg, ctx, workdir)
    log("failover to a standby: three workers, two partitions")
    results["standby"] = measure(3, pg, ctx, workdir, rates=())
    log("echo baseline")
    cfg = Config.from_env()
    results["baseline"] = run_baseline(cfg, ctx, 20_000, 200)
    results["figures"] = figures(results["one"], results["two"], results["standby"])
    results["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    (RESULTS / "workers.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "workers.md").write_text(report(results))
    print(json.dumps(results["figures"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
