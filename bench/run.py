"""``make bench``: the load benchmark (see bench/README.md and docs/performance.md).

    .venv/bin/python -m bench.run            # full: about 6–8 minutes
    BENCH_QUICK=1 .venv/bin/python -m bench.run   # quick: about a minute

Each scenario seeds a fresh SQLite database, starts ``ucs serve`` as a process of its own, drives
it from load-generator processes (``bench.loadgen``) and reads the server's memory from
``/proc/<pid>/status``. Writes ``bench/results/latest.json``, ``latest.md`` and ``latency.png``.

Environment: ``BENCH_QUICK=1`` the short variant; ``BENCH_DEFLATE=browser|websockets|off`` what
the clients offer (default ``browser``: permessage-deflate as Chromium offers it);
``BENCH_CRM=1`` runs call_load and overload with the CRM integration on: a caller lookup
answering in 50 ms and a webhook receiver (``bench/crm.py``), results in ``latest-crm.*``;
``BENCH_PROFILE=1`` also record the server with py-spy during the logins and the call load
(``bench/results/profile-*.txt``, collapsed stacks; ``python -m bench.profile_report`` sums them).
"""

from __future__ import annotations

import bisect
import contextlib
import json
import multiprocessing as mp
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report, reports, tails, team
from bench.baseline import EchoClientSpec, echo_client_worker, echo_server
from bench.crm import crm_server
from bench.loadgen import AgentSpec, CallerSpec, agent_worker, caller_worker
from bench.seed import ADMIN_TOKEN, SSO_SECRET, agent_name, phone_name, seed

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"

TARGETS = {
    "kb_per_agent_max": 60.0,
    "call_load_lost": 0,
    "offer_p99_ms_max": 25.0,
    "command_p99_ms_max": 25.0,
    "overload_lost": 0,
    "overload_command_p99_ms_max": 100.0,
    "free_to_offer_p99_ms_max": 50.0,
}


@dataclass
class Config:
    quick: bool
    idle_agents: int
    idle_workers: int
    call_agents: int
    call_workers: int
    rate: float
    """Calls a second offered in call_load."""
    duration: float
    overload_duration: float
    ramp: tuple[float, ...]
    """Fractions of ``rate`` run before call_load, a few seconds each, for the plot."""
    ramp_step: float
    throughput_requests: int
    talk: tuple[float, float] = (2.0, 5.0)
    deflate: str = "browser"
    profile: bool = False
    login_concurrency: int = 50
    crm: bool = False
    """The CRM integration on: a lookup answering in 50 ms, a webhook receiver."""

    @property
    def overload_rate(self) -> float:
        """Twice what the agents can take: each is busy for the mean talk time per call."""
        capacity = self.call_agents / (sum(self.talk) / 2)
        return round(2 * capacity)

    @classmethod
    def from_env(cls) -> Config:
        quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
        common: dict[str, Any] = {
            "deflate": os.environ.get("BENCH_DEFLATE", "browser"),
            "profile": os.environ.get("BENCH_PROFILE", "") not in ("", "0"),
            "crm": os.environ.get("BENCH_CRM", "") not in ("", "0"),
        }
        if quick:
            return cls(
                quick=True,
                idle_agents=int(os.environ.get("BENCH_IDLE_AGENTS", 2000)),
                idle_workers=2,
                call_agents=200,
                call_workers=2,
                rate=50.0,
                duration=15.0,
                overload_duration=10.0,
                ramp=(0.25, 0.5, 0.75),
                ramp_step=2.0,
                throughput_requests=10_000,
                **common,
            )
        return cls(
            quick=False,
            idle_agents=int(os.environ.get("BENCH_IDLE_AGENTS", 10_000)),
            idle_workers=4,
            call_agents=1000,
            call_workers=2,
            rate=200.0,
            duration=60.0,
            overload_duration=30.0,
            ramp=(0.25, 0.5, 0.75),
            ramp_step=5.0,
            throughput_requests=40_000,
            **common,
        )


# --- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _raise_nofile() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _descendants(pid: int) -> list[int]:
    """The live processes started by ``pid`` and by them (the store's writer, an engine)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of the process and of the processes it started (the
    server's writer process: its work is the server's)."""
    total = 0
    for p in [pid, *_descendants(pid)]:
        try:
            fields = _stat(p)
        except OSError:
            continue  # ended in between
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Server:
    """``ucs serve`` on a free port with its own database, in a process of its own."""

    def __init__(self, workdir: Path, agents: int, name: str, phone_secret: str = "") -> None:
        self.workdir = workdir
        self.db = f"sqlite:///{workdir / (name + '.db')}"
        self.port = free_port()
        self.name = name
        self.seeded = seed(self.db, agents, phone_secret=phone_secret)
        self.log_path = workdir / f"{name}-server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_s = 0.0
        self.extra: list[str] = []
        """More arguments of ``ucs serve`` (the media benchmark's ``--media janus``)."""

    @property
    def http(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{HOST}:{self.port}/ws"

    def start(self) -> None:
        exe = Path(sys.executable).parent / "ucs"
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "ucs.cli"]
        cmd += ["serve", "--host", HOST, "--port", str(self.port), "--db", self.db, *self.extra]
        env = {**os.environ, "UCS_SSO_SECRET": SSO_SECRET, "UCS_ADMIN_TOKEN": ADMIN_TOKEN}
        started = time.monotonic()
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_raise_nofile
        )
        deadline = started + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.tail()}")
            try:
                with urllib.request.urlopen(self.http + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        self.startup_s = time.monotonic() - started
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_mb(self) -> float:
        return rss_kb(self.pid) / 1024

    def get(self, path: str, timeout: float = 60) -> bytes:
        req = urllib.request.Request(
            self.http + path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data: bytes = r.read()
            return data

    def gauges(self) -> dict[str, float]:
        """Callers waiting and live calls, from ``/metrics``."""
        waiting = live = 0.0
        for line in self.get("/metrics", timeout=10).decode().splitlines():
            if line.startswith("ucs_callers_waiting{"):
                waiting += float(line.rsplit(" ", 1)[1])
            elif line.startswith("ucs_calls{"):
                live += float(line.rsplit(" ", 1)[1])
        return {"waiting": waiting, "live": live}

    def histograms(self) -> tails.Histograms:
        """The engine's step times, the loop's lag and GC pauses so far (``bench/tails.py``)."""
        return tails.parse(self.get("/metrics", timeout=30).decode())

    def put(self, path: str, body: Any) -> None:
        req = urllib.request.Request(
            self.http + path,
            data=json.dumps(body).encode(),
            method="PUT",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()

    def cdr(self, since: float) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            page = json.loads(self.get(f"/api/cdr?since={since}&limit=5000&offset={len(rows)}"))
            rows.extend(page)
            if len(page) < 5000:
                return rows

    def tail(self, n: int = 30) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Monitor:
    """Samples the server's RSS and CPU from ``/proc`` every ``every`` seconds and, in a thread
    of its own (a saturated server answers HTTP late), its gauges from ``/metrics``."""

    def __init__(self, server: Server, every: float = 0.25, gauges: bool = True) -> None:
        self.server = server
        self.every = every
        self.samples: list[dict[str, float]] = []
        """t, rss_mb, cpu_s"""
        self.gauge_samples: list[dict[str, float]] = []
        """t, waiting, live (from /metrics)"""
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._proc, daemon=True)]
        if gauges:
            self._threads.append(threading.Thread(target=self._gauges, daemon=True))

    def __enter__(self) -> Monitor:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _proc(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, ValueError):
                self.samples.append(
                    {
                        "t": time.monotonic(),
                        "rss_mb": self.server.rss_mb(),
                        "cpu_s": cpu_seconds(self.server.pid),
                    }
                )
            self._stop.wait(self.every)

    def _gauges(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, ValueError):
                self.gauge_samples.append({"t": time.monotonic(), **self.server.gauges()})
            self._stop.wait(2 * self.every)

    def wait_drained(self, timeout: float) -> float:
        """Wait until no call is live; returns when, or raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                g = self.server.gauges()
            except OSError:  # a busy server may answer /metrics late: ask again
                continue
            if g["live"] == 0 and g["waiting"] == 0:
                return time.monotonic()
            time.sleep(0.2)
        raise TimeoutError("calls still live")


class Waiting:
    """Callers waiting for an agent, as the load generator saw them: a call counts from
    ``after`` seconds after its POST was sent until its first ringing reached an agent (calls
    rung sooner never count). Exact, where the server's own gauge, read over HTTP, comes late
    or not at all from a saturated server."""

    def __init__(self, sent: list[float], rung: list[float], after: float = 0.0) -> None:
        steps: list[tuple[float, int]] = []
        for s, r in zip(sent, rung, strict=True):
            if r > s + after:
                steps += [(s + after, 1), (r, -1)]
        steps.sort()
        self.times: list[float] = []
        self.counts: list[int] = []
        n = 0
        for t, d in steps:
            n += d
            self.times.append(t)
            self.counts.append(n)

    def at(self, t: float) -> int:
        i = bisect.bisect_right(self.times, t) - 1
        return self.counts[i] if i >= 0 else 0

    def max_between(self, start: float, end: float) -> int:
        lo, hi = bisect.bisect_left(self.times, start), bisect.bisect_right(self.times, end)
        return max(self.counts[lo:hi], default=self.at(start))


class FreeAgents:
    """How many agents the server had free at a moment, as the load generator saw it: from the
    start until an agent's first ringing, and from the hangup event of its call (the server
    ended it) until its next ringing."""

    def __init__(self, rings: list[tuple[str, str, float]], hangups: list[Any]) -> None:
        by_agent: dict[str, list[float]] = {}
        for _, agent, t in rings:
            by_agent.setdefault(agent, []).append(t)
        steps: list[tuple[float, int]] = []
        for times in by_agent.values():
            times.sort()
            steps.append((times[0], -1))
        for _, agent, t in hangups:
            times = by_agent.get(agent, [])
            i = bisect.bisect_right(times, t)
            steps.append((t, 1))
            if i < len(times):
                steps.append((times[i], -1))
        steps.sort()
        self.initial = len(by_agent)
        self.times = [t for t, _ in steps]
        self.counts: list[int] = []
        n = self.initial
        for _, d in steps:
            n += d
            self.counts.append(n)

    def before(self, t: float) -> int:
        """Free agents just before ``t``."""
        i = bisect.bisect_left(self.times, t) - 1
        return self.counts[i] if i >= 0 else self.initial


@contextlib.contextmanager
def profiler(
    pid: int, name: str, enabled: bool, rate: int = 100, gil: bool = False
) -> Iterator[None]:
    """py-spy record of the server while the block runs (BENCH_PROFILE=1); ``gil``: only the
    samples of threads holding the interpreter's lock (their CPU work, not their waits)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not enabled or not Path(spy).exists():
        yield
        return
    out = RESULTS / f"profile-{name}.txt"
    args = ["record", "--pid", str(pid), "--rate", str(rate), "--nonblocking", "--subprocesses"]
    args += ["--format", "raw", *(["--gil"] if gil else [])]
    proc = subprocess.Popen(
        [spy, *args, "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        stop(proc, signal.SIGINT, 30)


def stop(proc: subprocess.Popen[Any], sig: int, timeout: float) -> None:
    """Ask ``proc`` to end with ``sig``; killed if it has not within ``timeout`` seconds."""
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- worker processes ------------------------------------------------------------------------


@dataclass
class Workers:
    """Processes and their pipes; ``ask`` sends one command to all and gathers the answers."""

    ctx: Any
    procs: list[Any] = field(default_factory=list)
    pipes: list[Connection] = field(default_factory=list)

    def start(self, target: Any, spec: Any) -> Connection:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=target, args=(spec, child), daemon=True)
        proc.start()
        self.procs.append(proc)
        self.pipes.append(parent)
        return parent

    def ask(self, *command: Any, pipes: list[Connection] | None = None) -> list[Any]:
        targets = self.pipes if pipes is None else pipes
        for pipe in targets:
            pipe.send(command)
        return [pipe.recv() for pipe in targets]

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError, BrokenPipeError):
                pipe.send(("stop", False))
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join()


def agent_specs(cfg: Config, server: Server, agents: int, workers: int) -> list[AgentSpec]:
    names = [(agent_name(i), phone_name(i)) for i in range(1, agents + 1)]
    return [
        AgentSpec(
            ws_url=server.ws,
            host=HOST,
            port=server.port,
            admin_token=ADMIN_TOKEN,
            sso_secret=SSO_SECRET,
            agents=names[w::workers],
            deflate=cfg.deflate,
            concurrency=cfg.login_concurrency,
            talk=cfg.talk,
            seed=w + 1,
        )
        for w in range(workers)
    ]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- statistics ------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0–100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(values: list[float]) -> dict[str, float | None]:
    """p50 / p99 in milliseconds (rounded to 0.01), plus the count and the max."""
    p50, p99 = pct(values, 50), pct(values, 99)
    return {
        "p50": None if p50 is None else round(p50 * 1000, 2),
        "p99": None if p99 is None else round(p99 * 1000, 2),
        "max": round(max(values) * 1000, 2) if values else None,
        "n": len(values),
    }


def merge(reports: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in reports:
        for k, v in r.items():
            if isinstance(v, list):
                out.setdefault(k, []).extend(v)
            elif isinstance(v, int | float):
                out[k] = out.get(k, 0) + v
    return out


# --- scenario 1: idle agents -----------------------------------------------------------------


def run_idle(cfg: Config, workdir: Path, ctx: Any) -> dict[str, Any]:
    n = cfg.idle_agents
    log(f"idle_agents: seeding {n} agents")
    server = Server(workdir, n, "idle")
    workers = Workers(ctx)
    try:
        server.start()
        log(f"idle_agents: server up in {server.startup_s:.1f} s (pid {server.pid})")
        for spec in agent_specs(cfg, server, n, cfg.idle_workers):
            workers.start(agent_worker, spec)
        time.sleep(1.0)
        rss_before = server.rss_mb()
        cpu_before = cpu_seconds(server.pid)
        with (
            Monitor(server, every=0.5, gauges=False) as mon,
            profiler(server.pid, "idle-login", cfg.profile),
        ):
            answers = workers.ask("login")
        cpu_login = cpu_seconds(server.pid) - cpu_before
        started = min(a["started"] for a in answers)
        ended = max(a["ended"] for a in answers)
        failures = [f for a in answers for f in a["failures"]]
        steps: dict[str, list[float]] = {}
        for a in answers:
            for k, v in a["steps"].items():
                steps.setdefault(k, []).extend(v)
        ok = len(steps.get("login", []))
        sizes: dict[str, list[int]] = {}
        for a in answers:
            for k, v in a["sizes"].items():
                sizes.setdefault(k, []).extend(v)
        time.sleep(2.0)
        rss_after = server.rss_mb()
        sessions = json.loads(server.get("/healthz"))["sessions"]
        result = {
            "agents": ok,
            "rss_mb": round(rss_after, 1),
            "kb_per_agent": round((rss_after - rss_before) * 1024 / max(ok, 1), 1),
            "logins_per_s": round(ok / (ended - started), 1),
            # extras
            "agents_asked": n,
            "sessions_on_server": sessions,
            "login_failures": len(failures),
            "login_failure_examples": failures[:5],
            "rss_mb_before_logins": round(rss_before, 1),
            "rss_mb_peak_during_logins": round(
                max((s.get("rss_mb", 0.0) for s in mon.samples), default=rss_after), 1
            ),
            "login_seconds": round(ended - started, 2),
            "server_cpu_s_during_logins": round(cpu_login, 2),
            "server_startup_s": round(server.startup_s, 2),
            "login_step_ms": {k: ms(v) for k, v in steps.items()},
            "login_answer_kb_mean": {
                k: round(sum(v) / len(v) / 1024, 2) for k, v in sizes.items() if v
            },
            "login_method": "sso",
            "login_concurrency": cfg.login_concurrency * cfg.idle_workers,
        }
        log(
            f"idle_agents: {ok} READY in {ended - started:.1f} s "
            f"({result['logins_per_s']}/s), RSS {rss_before:.0f} → {rss_after:.0f} MB, "
            f"{result['kb_per_agent']} KB/agent, {len(failures)} failures"
        )
        return result
    finally:
        server.stop()
        workers.stop()


# --- scenarios 2 and 3: call load and overload (one server, one set of agents) ---------------


def _phase_figures(
    tag: str,
    caller: dict[str, Any],
    agents: dict[str, Any],
    cdr: dict[str, dict[str, Any]],
    samples: list[dict[str, float]],
    waiting: Waiting,
    stale: Waiting,
    free: FreeAgents,
    drained: float | None,
    warm: float,
) -> dict[str, Any]:
    records = caller["records"]
    end_t = drained if drained is not None else caller["ended"]
    created = {r[0]: r for r in records if r[5] == 201}
    first_ring: dict[str, float] = {}
    for uid, _, t in agents["rings"]:
        if uid in created and uid not in first_ring:
            first_ring[uid] = t
    offer = [first_ring[u] - created[u][3] for u in first_ring]
    answers = [a for a in agents["answers"] if a[0] in created]
    command = [a[2] for a in answers if not a[3]]
    ends = [e for e in agents["ends"] if e[0] in created]
    hangup_cmd = [e[3] for e in ends if e[1] == "agent" and not e[4]]
    sim_hangup = [e[3] for e in ends if e[1] == "caller" and not e[4]]
    duration = caller["ended"] - caller["started"]
    sends = [r[3] for r in created.values()]
    # Calls a second actually sent: a server slow to answer holds the generator's connections
    # and delays the next calls (generator_lag_ms says by how much).
    span = max(max(sends) - caller["started"], duration) if sends else duration
    wall0 = caller["wall_started"]
    completed = [
        r
        for r in (cdr.get(u) for u in created)
        if r is not None and r.get("connected") is not None and r.get("cause") in (3, 4)
    ]
    in_window = [
        r for r in completed if wall0 + warm <= float(r["disconnected"]) <= wall0 + duration
    ]
    lost = sorted(set(created) - {str(r["uniqueid"]) for r in completed})
    post_failures = len(caller["failures"])  # refused (non-201) or failed requests
    # free → next offer: from the agent's hangup request (or the simulated caller's hangup
    # request) to the next ringing at that agent, counted only when callers were waiting
    # (offered to nobody for 25 ms) and the server had no other agent free: otherwise it
    # measures arrivals, or the strategy rightly offering the caller to an agent idle longer
    f2o: dict[str, list[float]] = {"agent": [], "caller": []}
    for uid, _, t, d, by in agents["free_to_offer"]:
        if uid in created and stale.at(t) > 0 and free.before(t) == 0:
            f2o[by].append(d)
    during = [s for s in samples if caller["started"] <= s["t"] <= end_t]
    cpu = [s["cpu_s"] for s in during if "cpu_s" in s]
    return {
        "offered_cps": round(len(created) / span, 1),
        "target_cps": caller["rate"],
        "completed_cps": round(len(in_window) / max(duration - warm, 1e-9), 1),
        "lost": len(lost) + post_failures,
        "offer_ms": ms(offer),
        "command_ms": ms(command),
        "free_to_offer_ms": ms(f2o["agent"]),
        # extras
        "calls_created": len(created),
        "calls_completed": len(completed),
        "lost_examples": lost[:5],
        "post_failures": post_failures,
        "not_sent": caller["not_sent"],
        "shed": caller.get("shed", 0),
        "caller_cpu_share": round(caller["cpu_s"] / max(duration, 1e-9), 2),
        "post_failure_examples": caller["failures"][:5],
        "never_offered": len(set(created) - set(first_ring)),
        "answer_errors": sum(1 for a in answers if a[3]),
        "hangup_command_ms": ms(hangup_cmd),
        "free_to_offer_after_caller_hangup_ms": ms(f2o["caller"]),
        "sim_hangup_ms": ms(sim_hangup),
        "end_errors": sum(1 for e in ends if e[4]),
        "create_request_ms": ms([r[4] for r in created.values()]),
        "generator_lag_ms": ms([r[3] - r[2] for r in records]),
        "max_waiting": waiting.max_between(caller["started"], end_t),
        "rss_mb_max": round(max((s.get("rss_mb", 0.0) for s in during), default=0.0), 1),
        "rss_mb_start": round(during[0]["rss_mb"], 1) if during else None,
        "server_cpu_share": round((cpu[-1] - cpu[0]) / (during[-1]["t"] - during[0]["t"]), 2)
        if len(cpu) > 1
        else None,
        "duration_s": round(duration, 1),
        "drain_s": round(drained - caller["ended"], 1) if drained is not None else None,
    }


def answering(
    cfg: Config, server: Server, workers: Workers, n: int
) -> tuple[list[Connection], Connection]:
    """``n`` agents logged in and answering every call (their workers' pipes), and the
    callers' worker (its pipe)."""
    agent_pipes = [
        workers.start(agent_worker, spec) for spec in agent_specs(cfg, server, n, cfg.call_workers)
    ]
    caller_pipe = workers.start(caller_worker, CallerSpec(HOST, server.port, ADMIN_TOKEN, (1, 2)))
    logins = workers.ask("login", pipes=agent_pipes)
    failures = [f for a in logins for f in a["failures"]]
    if failures:
        raise RuntimeError(f"{len(failures)} logins failed: {failures[:3]}")
    workers.ask("answer", True, pipes=agent_pipes)
    return agent_pipes, caller_pipe


def run_calls(cfg: Config, workdir: Path, ctx: Any) -> dict[str, Any]:
    n = cfg.call_agents
    log(f"call_load: seeding {n} agents")
    server = Server(workdir, n, "calls")
    workers = Workers(ctx)
    out: dict[str, Any] = {}
    crm_pipe: Connection | None = None
    try:
        server.start()
        if cfg.crm:
            crm_port = free_port()
            crm_pipe, child = ctx.Pipe()
            ctx.Process(target=crm_server, args=(crm_port, child), daemon=True).start()
            crm_pipe.recv()
            crm_url = f"http://{HOST}:{crm_port}"
            server.put("/api/settings/lookup", {"url": f"{crm_url}/lookup", "timeout_ms": 800})
            server.put("/api/settings/webhook", {"url": f"{crm_url}/hook", "secret": "x" * 32})
            log(f"call_load: CRM on (lookup in 50 ms, webhook) at {crm_url}")
        agent_pipes, caller_pipe = answering(cfg, server, workers, n)
        log(f"call_load: {n} agents READY and answering")
        phases: list[tuple[str, dict[str, Any], float | None, bool]] = []
        stuck: dict[str, Any] = {}
        with Monitor(server) as mon:
            for i, frac in enumerate(cfg.ramp):
                rate = round(cfg.rate * frac, 1)
                log(f"ramp: {rate} calls/s for {cfg.ramp_step} s")
                res = workers.ask("calls", rate, cfg.ramp_step, f"ramp{i}", pipes=[caller_pipe])
                phases.append((f"ramp{i}", res[0], None, False))
            log(f"call_load: {cfg.rate} calls/s for {cfg.duration} s")
            before = server.histograms()
            with profiler(server.pid, "call_load", cfg.profile):
                res = workers.ask("calls", cfg.rate, cfg.duration, "call_load", pipes=[caller_pipe])
            drained = _drain(mon, 60, stuck, "call_load", server)
            causes = {"call_load": tails.summary(tails.delta(before, server.histograms()))}
            phases.append(("call_load", res[0], drained, True))
            checks = workers.ask("check", pipes=agent_pipes)
            stuck["call_load_agents"] = [b for c in checks for b in c["bad"]]
            rate = cfg.overload_rate
            log(f"overload: {rate} calls/s for {cfg.overload_duration} s")
            before = server.histograms()
            with profiler(server.pid, "overload", cfg.profile):
                res = workers.ask(
                    "calls", rate, cfg.overload_duration, "overload", pipes=[caller_pipe]
                )
            drained = _drain(mon, 240, stuck, "overload", server)
            causes["overload"] = tails.summary(tails.delta(before, server.histograms()))
            phases.append(("overload", res[0], drained, True))
            checks = workers.ask("check", pipes=agent_pipes)
            stuck["overload_agents"] = [b for c in checks for b in c["bad"]]
        agents = merge(workers.ask("report", pipes=agent_pipes))
        since = min(p[1]["wall_started"] for p in phases) - 5
        time.sleep(1.0)  # the store writes call records in a thread, a few ms behind
        cdr = {str(r["uniqueid"]): r for r in server.cdr(since)}
        first_ring: dict[str, float] = {}
        for uid, _, t in agents["rings"]:
            first_ring.setdefault(uid, t)
        sent = {r[0]: r[3] for p in phases for r in p[1]["records"] if r[5] == 201}
        rung = [u for u in sent if u in first_ring]
        waiting = Waiting([sent[u] for u in rung], [first_ring[u] for u in rung])
        # "callers waiting" for free → next offer: offered to nobody for 25 ms already
        stale = Waiting([sent[u] for u in rung], [first_ring[u] for u in rung], after=0.025)
        free = FreeAgents(agents["rings"], agents["hangups"])
        for tag, caller, drained_at, _ in phases:
            warm = min(cfg.talk[1], caller["ended"] - caller["started"]) if tag[:4] != "ramp" else 0
            fig = _phase_figures(
                tag, caller, agents, cdr, mon.samples, waiting, stale, free, drained_at, warm
            )
            fig["stuck_calls"] = stuck.get(tag, 0)
            fig["agents_not_ready"] = len(stuck.get(f"{tag}_agents", []))
            fig["agents_not_ready_examples"] = stuck.get(f"{tag}_agents", [])[:5]
            fig["lost"] += fig["stuck_calls"] + fig["agents_not_ready"]
            if tag in causes:
                fig["server_tail"] = causes[tag]
            out[tag] = fig
        out["call_load"]["agents"] = n
        out["overload"]["agents"] = n
        out["agent_errors"] = agents.get("errors", [])[:10]
        out["agent_workers_cpu_s"] = round(agents.get("cpu_s", 0.0), 1)
        calls_made = sum(len(p[1]["records"]) for p in phases)
        out["agent_messages"] = {
            "sent": agents.get("sent", 0),
            "received": agents.get("received", 0),
            "received_per_call": round(agents.get("received", 0) / max(calls_made, 1), 1),
        }
        # throughput step: closed-loop requests on the same connections (for the baseline)
        for method in ("state", "ping"):
            log(f"throughput: {cfg.throughput_requests} × {method}")
            share = cfg.throughput_requests // len(agent_pipes)
            tp = workers.ask("throughput", share, method, pipes=agent_pipes)
            total = sum(t["messages"] for t in tp)
            elapsed = max(t["ended"] for t in tp) - min(t["started"] for t in tp)
            out[f"throughput_{method}"] = {
                "method": method,
                "connections": n,
                "messages": total,
                "msgs_per_s": round(total / elapsed, 1),
                "errors": sum(t["errors"] for t in tp),
                "rtt_ms": ms([r for t in tp for r in t["rtts"]]),
            }
        t0 = phases[-1][1]["started"]
        end = (phases[-1][2] or phases[-1][1]["ended"]) + 2
        rss = [x for x in mon.samples if t0 - 2 <= x["t"] <= end]
        out["overload_timeline"] = [
            {"t": round(x["t"], 3), "rss_mb": round(x["rss_mb"], 1), "waiting": waiting.at(x["t"])}
            for x in rss
        ]
        out["overload"]["max_waiting_metrics"] = int(
            max(
                (g["waiting"] for g in mon.gauge_samples if t0 <= g["t"] <= end),
                default=0,
            )
        )
        out["timeline_t0"] = phases[-1][1]["started"]
        out["server_startup_s"] = round(server.startup_s, 2)
        if crm_pipe is not None:
            out["crm"] = _crm_figures(server, crm_pipe, cdr)
        return out
    finally:
        if crm_pipe is not None:
            with contextlib.suppress(OSError, EOFError):
                crm_pipe.send("stop")
        server.stop()
        workers.stop()


def _crm_figures(server: Server, pipe: Connection, cdr: dict[str, Any]) -> dict[str, Any]:
    """What the CRM saw: lookups, events (distinct ids), and what the server still holds."""
    deadline = time.monotonic() + 60
    while True:  # the webhook's last events follow the last calls by a moment
        pipe.send("counts")
        seen: dict[str, Any] = pipe.recv()
        pending = 0.0
        for line in server.get("/metrics", timeout=10).decode().splitlines():
            if line.startswith("ucs_crm_webhook_pending "):
                pending = float(line.rsplit(" ", 1)[1])
        if pending == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    named = sum(1 for r in cdr.values() if r.get("name"))
    return {
        "lookups": seen["lookups"],
        "events_received": seen["events"],
        "distinct_events": seen["ids"],
        "events_by_type": seen["types"],
        "calls_recorded": len(cdr),
        "calls_named_by_lookup": named,
        "webhook_pending_at_end": pending,
    }


def _drain(mon: Monitor, timeout: float, stuck: dict[str, Any], tag: str, server: Server) -> Any:
    try:
        return mon.wait_drained(timeout)
    except TimeoutError:
        g = server.gauges()  # a server that cannot answer this either fails the run
        stuck[tag] = int(g["live"])
        log(f"{tag}: {g} calls still live after {timeout} s")
        return None


# --- scenario 4: baseline --------------------------------------------------------------------


def run_baseline(cfg: Config, ctx: Any, messages: int, connections: int) -> dict[str, Any]:
    port = free_port()
    server_pipe, child = ctx.Pipe()
    server = ctx.Process(target=echo_server, args=(port, child), daemon=True)
    server.start()
    server_pipe.recv()
    workers = Workers(ctx)
    try:
        per = [connections // cfg.call_workers] * cfg.call_workers
        per[0] += connections - sum(per)
        pipes = [
            workers.start(echo_client_worker, EchoClientSpec(f"ws://{HOST}:{port}", c, cfg.deflate))
            for c in per
        ]
        for pipe in pipes:
            pipe.recv()  # connected
        requests = messages // 2
        for i, pipe in enumerate(pipes):
            pipe.send(requests // len(pipes) + (1 if i < requests % len(pipes) else 0))
        done = [pipe.recv() for pipe in pipes]
        total = sum(d["messages"] for d in done)
        elapsed = max(d["ended"] for d in done) - min(d["started"] for d in done)
        return {
            "msgs_per_s": round(total / elapsed, 1),
            "messages": total,
            "connections": connections,
            "server": "websockets.asyncio.server echo, one process, no permessage-deflate",
        }
    finally:
        server_pipe.send("stop")
        server.join(timeout=10)
        if server.is_alive():
            server.kill()
        for proc in workers.procs:
            proc.join(timeout=10)


# --- the whole run ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = ""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.check_output(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], text=True
        ).strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": commit,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def evaluate(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    idle, load, over = results["idle_agents"], results["call_load"], results["overload"]
    target = load["details"]["target_cps"]

    def le(value: Any, limit: float) -> bool:
        return value is not None and value <= limit

    checks = {
        "idle KB per agent ≤ 60": (idle["kb_per_agent"], le(idle["kb_per_agent"], 60)),
        f"call_load {target:g} calls/s completed": (
            load["completed_cps"],
            load["offered_cps"] >= 0.98 * target and load["completed_cps"] >= 0.95 * target,
        ),
        "call_load lost = 0": (load["lost"], load["lost"] == 0),
        "call_load offer p99 ≤ 25 ms": (load["offer_ms"]["p99"], le(load["offer_ms"]["p99"], 25)),
        "call_load command p99 ≤ 25 ms": (
            load["command_ms"]["p99"],
            le(load["command_ms"]["p99"], 25),
        ),
        "overload lost = 0": (over["lost"], over["lost"] == 0),
        "overload command p99 ≤ 100 ms": (
            over["command_ms"]["p99"],
            le(over["command_ms"]["p99"], 100),
        ),
        "overload free → offer p99 ≤ 50 ms": (
            over["free_to_offer_ms"]["p99"],
            le(over["free_to_offer_ms"]["p99"], 50),
        ),
    }
    return {k: {"value": v, "met": met} for k, (v, met) in checks.items()}


def main() -> int:
    cfg = Config.from_env()
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    ctx = mp.get_context("spawn")
    _raise_nofile()
    log(f"{'quick' if cfg.quick else 'full'} run: {asdict(cfg)}")
    results: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="ucs-bench-") as tmp:
        workdir = Path(tmp)
        results["idle_agents"] = run_idle(cfg, workdir, ctx)
        calls = run_calls(cfg, workdir, ctx)
    keys_load = ("agents", "offered_cps", "completed_cps", "lost", "offer_ms", "command_ms")
    load, over = calls["call_load"], calls["overload"]
    results["call_load"] = {k: load[k] for k in keys_load}
    results["call_load"]["details"] = {k: v for k, v in load.items() if k not in keys_load}
    keys_over = (
        "offered_cps",
        "completed_cps",
        "lost",
        "max_waiting",
        "rss_mb_max",
        "command_ms",
        "free_to_offer_ms",
    )
    results["overload"] = {k: over[k] for k in keys_over}
    results["overload"]["details"] = {k: v for k, v in over.items() if k not in keys_over}
    tp = calls["throughput_state"]
    log(f"baseline: echo, {tp['messages']} messages over {tp['connections']} connections")
    results["baseline"] = run_baseline(cfg, ctx, tp["messages"], tp["connections"])
    results["ratio_to_baseline"] = round(tp["msgs_per_s"] / results["baseline"]["msgs_per_s"], 3)
    results["throughput"] = {
        "state": tp,
        "ping": calls["throughput_ping"],
        "ping_ratio_to_baseline": round(
            calls["throughput_ping"]["msgs_per_s"] / results["baseline"]["msgs_per_s"], 3
        ),
    }
    results["ramp"] = [
        {
            "offered_cps": calls[k]["offered_cps"],
            "offer_ms": calls[k]["offer_ms"],
            "command_ms": calls[k]["command_ms"],
        }
        for k in sorted(c for c in calls if c.startswith("ramp"))
    ]
    results["overload_timeline"] = [
        {**s, "t": round(s["t"] - calls["timeline_t0"], 2)} for s in calls["overload_timeline"]
    ]
    results["agent_errors"] = calls["agent_errors"]
    results["load_generator"] = {
        "agent_workers_cpu_s": calls["agent_workers_cpu_s"],
        "messages": calls["agent_messages"],
        "caller_cpu_share": {k: calls[k]["caller_cpu_share"] for k in ("call_load", "overload")},
    }
    if "crm" in calls:
        results["crm"] = calls["crm"]
    skip = set(os.environ.get("BENCH_SKIP", "").split(","))
    if "team_view" not in skip:
        log("team_view: 0 and 50 supervisors watching the call_load on the virtual clock")
        results["team_view"] = team.compare(5.0 if cfg.quick else 20.0)
    if "reports" not in skip:
        log("reports: a month of calls, the queue and agent reports timed (bench/reports.py)")
        results["reports"] = reports.compare(20_000 if cfg.quick else reports.CALLS)
    results["config"] = asdict(cfg) | {"overload_rate": cfg.overload_rate}
    results["targets"] = evaluate(results)
    results["seconds"] = round(time.monotonic() - started, 1)
    results["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    name = "latest-crm" if cfg.crm else "latest"
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / f"{name}.md").write_text(report.markdown(results))
    report.plot(results, RESULTS / ("latency-crm.png" if cfg.crm else "latency.png"))
    print(report.markdown(results))
    log(f"done in {results['seconds']} s: {RESULTS / (name + '.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
