"""How long a CPU-starved ucs takes to answer HAProxy's health check (issue 19).

    .venv/bin/python -m bench.starved_health [SECONDS]

``ucs serve --demo --health-port P`` (SQLite) runs at nice 19, as a worker the machine starves
would; beside it, in turn: nothing; one busy loop a core (nice 0); the busy loops and callers
posted to the worker's simulator (20 a second, each hung up a second later, nice 0), so its
event loop has work too. Through each, ``/healthz`` is asked every 500 ms as HAProxy does (each
answer waited for, 10 s at most), at once on the event loop (the server's port) and off it (the
health port, ``ucs/web/health.py``), and the answer times are printed: p50, p99, the longest,
how many took more than each of ``LIMITS`` seconds (``LIMITS=2,5``) and the longest run of such
answers in a row (HAProxy, with ``timeout check 2s`` and ``fall 3``, marks the worker down at
three in a row).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.run import free_port, pct

ADMIN = {"Authorization": "Bearer demo-admin-token"}
LIMITS = tuple(float(x) for x in os.environ.get("LIMITS", "2,5").split(","))


@contextlib.contextmanager
def _server(folder: Path) -> Iterator[tuple[str, str]]:
    """The server's URL, and its health port's."""
    port, health = free_port(), free_port()
    cmd = ["nice", "-n", "19", sys.executable, "-m", "ucs.cli", "serve", "--demo"]
    cmd += ["--db", f"sqlite:///{folder}/ucs.db", "--port", str(port)]
    cmd += ["--health-port", str(health)]
    with open(folder / "server.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{health}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


@contextlib.contextmanager
def _busy_loops(n: int) -> Iterator[None]:
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


async def _callers(url: str, stop: asyncio.Event) -> int:
    """Callers into queue 1, 20 a second, each hung up a second later; how many were posted."""
    posted = 0
    async with httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=30) as http:

        async def one() -> None:
            nonlocal posted
            with contextlib.suppress(httpx.HTTPError):
                r = await http.post("/api/sim/calls", json={"queue": 1, "from": "+420601123456"})
                if r.status_code == 201:
                    posted += 1
                    await asyncio.sleep(1)
                    await http.post(f"/api/sim/calls/{r.json()['uniqueid']}/hangup")

        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            task = asyncio.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            await asyncio.sleep(0.05)
        await asyncio.gather(*tasks)
    return posted


async def _checks(url: str, seconds: float) -> list[float]:
    """``/healthz`` every 500 ms (the next asked 500 ms after the last answer, as HAProxy's
    ``inter``); each answer's time, 10 s at most (a timeout counts as 10 s)."""
    times: list[float] = []
    end = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url) as http:
        while time.monotonic() < end:
            t0 = time.monotonic()
            try:
                r = await http.get("/healthz", timeout=10)
                r.raise_for_status()
                times.append(time.monotonic() - t0)
            except httpx.HTTPError:
                times.append(10.0)
            await asyncio.sleep(0.5)
    return times


def _longest_run(times: list[float], limit: float) -> int:
    run = best = 0
    for t in times:
        run = run + 1 if t > limit else 0
        best = max(best, run)
    return best


def _figures(times: list[float]) -> str:
    over = ", ".join(
        f">{limit:g}s {sum(t > limit for t in times)} (in a row {_longest_run(times, limit)})"
        for limit in LIMITS
    )
    p50, p99 = pct(times, 50) or 0.0, pct(times, 99) or 0.0
    return (
        f"{len(times)} checks, p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms; {over}"
    )


async def _scenario(name: str, urls: tuple[str, str], seconds: float, callers: bool) -> None:
    stop = asyncio.Event()
    load = asyncio.create_task(_callers(urls[0], stop)) if callers else None
    on_loop, off_loop = await asyncio.gather(*(_checks(u, seconds) for u in urls))
    stop.set()
    posted = await load if load is not None else 0
    extra = f" ({posted} callers posted)" if callers else ""
    print(f"{name}{extra}:", flush=True)
    print(f"  on the event loop:  {_figures(on_loop)}", flush=True)
    print(f"  off it (health port): {_figures(off_loop)}", flush=True)


async def main(seconds: float) -> None:
    cores = os.cpu_count() or 1
    print(f"{cores} cores, load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    with tempfile.TemporaryDirectory() as tmp, _server(Path(tmp)) as urls:
        async with asyncio.timeout(120):
            async with httpx.AsyncClient() as http:
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        answers = [await http.get(f"{u}/healthz", timeout=1) for u in urls]
                        if all(a.status_code == 200 for a in answers):
                            break
                    await asyncio.sleep(0.2)
        await _scenario("worker at nice 19, nothing beside it", urls, seconds, callers=False)
        with _busy_loops(cores):
            await _scenario(f"beside {cores} busy loops", urls, seconds, callers=False)
            await _scenario(f"beside {cores} busy loops, with callers", urls, seconds, True)


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0))
