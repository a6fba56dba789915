"""The server's CPU a call, old code against new, alternately (issue 14; docs/performance.md,
"The event loop's share").

    nice -n 19 .venv/bin/python -m bench.loopcpu --base /work/wt-base/src [--pairs 3]

Each run starts ``ucs serve`` (SQLite, a fresh database) with ``--agents`` agents answering
every call, sends ``--rate`` calls a second for ``--seconds`` (after a few seconds' warm-up),
samples ``/metrics`` twice a second as ``make bench``'s monitor does, and reads from ``/proc``
the CPU time the server used meanwhile: its event loop (the main thread), the whole process,
and its children (the store's committer); then the echo baseline of ``bench/baseline.py`` on
as many connections, so that each figure comes with how fast the machine was just then. Runs
alternate: base, new, new, base, base, new … (``--base``: the ``src`` of an old tree, put first
on the server's ``PYTHONPATH``; without it, only the new code runs). The machine is shared, so
compare a pair's ratio, not figures across pairs. ``--profile`` records the measured
seconds of each run with py-spy, only the threads holding the interpreter's lock
(``bench/results/profile-loopcpu-CODE.txt``; ``python -m bench.profile_report`` sums them);
``--syscalls`` counts the event loop's system calls a call (``perf stat``).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import (
    Config,
    Server,
    Workers,
    _raise_nofile,
    answering,
    cpu_seconds,
    log,
    merge,
    pct,
    profiler,
    run_baseline,
)

_TICK = os.sysconf("SC_CLK_TCK")


def _ticks(path: str) -> float:
    """User + system CPU seconds of the process or thread whose ``stat`` file is ``path``."""
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _readings(pid: int) -> dict[str, float]:
    loop = _ticks(f"/proc/{pid}/task/{pid}/stat")  # the main thread runs the event loop
    process = _ticks(f"/proc/{pid}/stat")
    return {"loop": loop, "process": process, "total": cpu_seconds(pid)}


_SYSCALLS = ("write", "writev", "sendto", "read", "recvfrom", "epoll_wait")


@contextlib.contextmanager
def _syscalls(pid: int, enabled: bool, counts: dict[str, float]) -> Iterator[None]:
    """The system calls of the server's event loop (its main thread) while the block runs,
    counted by ``perf stat`` (kernel trace points: nearly free), into ``counts``."""
    perf = shutil.which("perf")
    if not enabled or perf is None:
        yield
        return
    events = ["raw_syscalls:sys_enter", *(f"syscalls:sys_enter_{n}" for n in _SYSCALLS)]
    with tempfile.NamedTemporaryFile("r", suffix=".csv") as out:
        cmd = [perf, "stat", "-x", ",", "-o", out.name, "-t", str(pid), "-e", ",".join(events)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            yield
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
            for line in out.read().splitlines():
                fields = line.split(",")
                if len(fields) > 2 and fields[0].isdigit():
                    name = fields[2].rsplit("sys_enter", 1)[-1].lstrip("_") or "all"
                    counts[name] = float(fields[0])


def _scrape(server: Server, stop: threading.Event) -> None:
    """``/metrics`` twice a second, as ``make bench``'s monitor reads it."""
    while not stop.is_set():
        try:
            server.get("/metrics", timeout=10)
        except OSError:
            pass
        stop.wait(0.5)


def one_run(cfg: Config, args: argparse.Namespace, label: str, src: str | None) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    saved = os.environ.get("PYTHONPATH")
    with tempfile.TemporaryDirectory(prefix="ucs-loopcpu-") as tmp:
        server = Server(Path(tmp), args.agents, "calls")
        workers = Workers(ctx)
        try:
            if src is not None:
                os.environ["PYTHONPATH"] = src
            try:
                server.start()
            finally:
                if saved is None:
                    os.environ.pop("PYTHONPATH", None)
                else:
                    os.environ["PYTHONPATH"] = saved
            pipes, caller = answering(cfg, server, workers, args.agents)
            workers.ask("calls", args.rate, args.warmup, "warm", pipes=[caller])
            stop = threading.Event()
            scraper = threading.Thread(target=_scrape, args=(server, stop), daemon=True)
            scraper.start()
            before = _readings(server.pid)
            started = time.monotonic()
            counts: dict[str, float] = {}
            with (
                profiler(server.pid, f"loopcpu-{label}", args.profile, rate=200, gil=True),
                _syscalls(server.pid, args.syscalls, counts),
            ):
                res = workers.ask("calls", args.rate, args.seconds, "measured", pipes=[caller])[0]
            after = _readings(server.pid)
            elapsed = time.monotonic() - started
            stop.set()
            scraper.join()
            created = {r[0]: r for r in res["records"] if r[5] == 201}
            agents = merge(workers.ask("report", pipes=pipes))
            first: dict[str, float] = {}
            for uid, _, t in agents["rings"]:
                first.setdefault(uid, t)
            offer = [first[u] - created[u][3] for u in created if u in first]
            calls = len(created)
            out: dict[str, Any] = {
                "code": label,
                "calls": calls,
                "calls_per_s": round(calls / elapsed, 1),
                "offer_p50_ms": round((pct(offer, 50) or 0) * 1000, 1),
                "offer_p99_ms": round((pct(offer, 99) or 0) * 1000, 1),
            }
            for name, n in counts.items():
                out[f"loop_{name}_syscalls_per_call"] = round(n / max(calls, 1), 2)
            for key in ("loop", "process", "total"):
                out[f"{key}_ms_per_call"] = round(
                    (after[key] - before[key]) * 1000 / max(calls, 1), 3
                )
        finally:
            server.stop()
            workers.stop()
    out["echo_msgs_per_s"] = run_baseline(cfg, ctx, args.echo, args.agents)["msgs_per_s"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="the src directory of the old code")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy: results/profile-loopcpu-CODE.txt"
    )
    parser.add_argument(
        "--syscalls", action="store_true", help="count the loop's system calls (perf stat)"
    )
    parser.add_argument("--echo", type=int, default=40_000, help="messages of the echo baseline")
    args = parser.parse_args()
    _raise_nofile()
    cfg = Config.from_env()
    cfg.call_workers = 2
    order: list[tuple[str, str | None]] = []
    for i in range(args.pairs):
        pair = [("base", args.base), ("new", None)] if args.base else [("new", None)]
        order += pair if i % 2 == 0 else pair[::-1]
    rows = []
    for label, src in order:
        log(f"loopcpu: {label} ({src or 'this tree'})")
        row = one_run(cfg, args, label, src)
        log(f"loopcpu: {row}")
        rows.append(row)
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
