"""``ucs serve --cluster --workers N``: N nodes of a cluster on one machine, behind one port.

Issue 19, CONTRACT §13. One ucs process decides on one core; a machine with more cores runs
more processes the way a cluster of machines does: each worker is a node
(``ucs serve --cluster``) named after the machine's node (``NODE-1`` … ``NODE-N``), listening
on a loopback port of its own and advertising ``PUBLIC/node/NODE-i/``, and Debian's HAProxy
listens on the public port in front of them, configured as ``deploy/haproxy.cfg`` is (the
health check on ``/healthz``, ``/node/NAME/`` to the worker NAME, the others by round robin).
Partitions, leases, epochs and the hand-off are the cluster's own: a worker runs the first
partition whose lease is free, or waits as a standby.

This process only supervises: it writes HAProxy's configuration, starts HAProxy and the
workers, prefixes each line they log with its name, starts again whatever dies (a worker that
died had its partition taken over meanwhile by a standby, or takes it again itself), and on
SIGTERM or SIGINT stops them all. Its children get SIGTERM if it dies itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import random
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "HAPROXY_PACKAGE",
    "Supervisor",
    "Worker",
    "free_ports",
    "haproxy_binary",
    "haproxy_config",
    "plan",
]

log = logging.getLogger("ucs.workers")

HAPROXY_PACKAGE = "haproxy"
"""Debian's package of the front (``make edge`` installs it for the tests)."""
USAGE = 2
"""A worker that exits with this code was refused its options: starting it again is useless."""
_STOP_WAIT = 30.0
"""Seconds the workers have to stop (their writes committed, their leases given up)."""
_RESTART_MIN, _RESTART_MAX = 0.5, 10.0
"""The pause before a child that died young is started again, doubled while it keeps dying
young (one that ran longer is started again at once)."""
_YOUNG = 10.0
"""A child that dies before it ran this many seconds was dying young."""
_CHECK_EVERY, _CHECK_FALLS = 1.0, 5
"""HAProxy's own health check: a connection to the public port each second; this many
failures in a row while it runs, and it is started again."""


def haproxy_binary() -> str | None:
    """HAProxy's program, or None when it is not installed."""
    found = shutil.which("haproxy")
    if found:
        return found
    return "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None


@dataclass(frozen=True, slots=True)
class Worker:
    """One node of the machine: its name, its loopback port, the URL it advertises, and the
    port of its health check (``--health-port``, answered off its event loop)."""

    name: str
    port: int
    advertise: str
    health: int


EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral() -> range:
    """The ports the kernel gives outgoing connections (and ``bind(0)``)."""
    try:
        low, high = (int(x) for x in EPHEMERAL.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def free_ports(count: int) -> list[int]:
    """``count`` loopback ports free now and outside the ephemeral range: a standby binds its
    port only when it takes a partition over, maybe minutes later, and a port of that range
    could meanwhile be any outgoing connection's (its bind would then fail at each restart)."""
    ephemeral = _ephemeral()
    pool = [p for p in range(10000, 65536) if p not in ephemeral]
    if len(pool) < 1000:  # a machine whose ephemeral range is nearly every port
        log.warning(
            "workers: the ephemeral ports (%d-%d) leave too few others: a standby's port may "
            "be held by an outgoing connection when it takes over",
            ephemeral.start,
            ephemeral.stop - 1,
        )
        pool = list(range(1024, 65536))
    chosen: list[int] = []
    for port in random.sample(pool, len(pool)):
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind(("127.0.0.1", port))
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise OSError(f"no {count} free loopback ports for the workers")


def plan(node: str, workers: int, public: str) -> list[Worker]:
    """``workers`` nodes named after ``node``, each on a free loopback port (and one for its
    health check), advertising ``public`` (the URL clients reach the front at) plus
    ``/node/NAME/``."""
    base = public.rstrip("/")
    names = [f"{node}-{i}" for i in range(1, workers + 1)]
    ports = free_ports(2 * workers)
    return [
        Worker(n, ports[2 * i], f"{base}/node/{n}/", ports[2 * i + 1]) for i, n in enumerate(names)
    ]


def haproxy_config(host: str, port: int, workers: list[Worker]) -> str:
    """HAProxy's configuration in front of ``workers``: deploy/haproxy.cfg's, its comments
    left out (``tests/server/test_workers.py`` checks they stay the same but for the
    addresses)."""
    servers = [f"    use-server {w.name} if {{ path_beg /node/{w.name}/ }}" for w in workers]
    servers += [f"    server {w.name} 127.0.0.1:{w.port} check port {w.health}" for w in workers]
    return "\n".join(
        [
            "global",
            "    log stdout format raw local0 warning",
            "",
            "defaults",
            "    mode http",
            "    log global",
            "    option httplog",
            "    option dontlognull",
            "    option forwardfor",
            "    timeout connect 2s",
            "    timeout client 60s",
            "    timeout server 60s",
            "    timeout tunnel 1h",
            "    timeout client-fin 5s",
            "    timeout http-request 10s",
            "",
            "frontend ucs",
            f"    bind {host}:{port}",
            "    default_backend nodes",
            "",
            "backend nodes",
            "    retries 3",
            "    option redispatch 1",
            "    option httpchk GET /healthz",
            "    http-check expect status 200",
            "    timeout check 2s",
            "    default-server inter 500ms fall 3 rise 1 on-marked-down shutdown-sessions",
            *servers,
            "",
        ]
    )


def _die_with_parent() -> None:
    """In a child, before it runs: SIGTERM when the supervisor dies (Linux's
    PR_SET_PDEATHSIG), so that a kill -9 of the supervisor leaves nothing behind."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class _Child:
    """A process the supervisor keeps running: a worker, or HAProxy."""

    name: str
    argv: list[str]
    env: Mapping[str, str]
    proc: asyncio.subprocess.Process | None = None
    started: float = 0.0
    pause: float = 0.0
    runs: int = 0
    pump: asyncio.Task[None] | None = field(default=None, repr=False)


class Supervisor:
    """Runs the front and the workers until SIGTERM or SIGINT; ``run`` returns the exit code."""

    def __init__(
        self,
        workers: list[Worker],
        worker_argv: list[str],
        worker_env: Callable[[Worker], Mapping[str, str]],
        *,
        host: str,
        port: int,
        haproxy: str,
    ) -> None:
        """``worker_argv``: the command that starts a worker, ``worker_env`` its environment
        (its name, port and advertised URL are in there)."""
        self.host, self.port = host, port
        self.folder = Path(tempfile.mkdtemp(prefix="ucs-workers-"))
        config = self.folder / "haproxy.cfg"
        config.write_text(haproxy_config(host, port, workers))
        self.front = _Child("haproxy", [haproxy, "-db", "-f", str(config)], dict(os.environ))
        self.workers = [_Child(w.name, worker_argv, worker_env(w)) for w in workers]
        self.stopping = asyncio.Event()
        self.code = 0

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        try:
            children = [self.front, *self.workers]
            for child in children:
                await self._start(child)
            watches = [asyncio.create_task(self._keep(child)) for child in children]
            watches.append(asyncio.create_task(self._check_front()))
            await self.stopping.wait()
            for task in watches:
                task.cancel()
            await asyncio.gather(*watches, return_exceptions=True)
        finally:
            await self._stop_all()
            shutil.rmtree(self.folder, ignore_errors=True)
        return self.code

    def say(self, line: str) -> None:
        sys.stdout.write(f"ucs: {line}\n")
        sys.stdout.flush()

    async def _start(self, child: _Child) -> None:
        child.proc = await asyncio.create_subprocess_exec(
            *child.argv,
            env=dict(child.env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=_die_with_parent,
            start_new_session=True,  # Ctrl-C reaches the supervisor alone, which stops them
            limit=1 << 20,
        )
        child.started = time.monotonic()
        child.runs += 1
        child.pump = asyncio.create_task(self._pump(child, child.proc))

    async def _pump(self, child: _Child, proc: asyncio.subprocess.Process) -> None:
        """Every line the child writes, prefixed with its name."""
        assert proc.stdout is not None
        prefix = f"[{child.name}] ".encode()
        out = sys.stdout.buffer
        while True:
            try:
                line = await proc.stdout.readline()
            except ValueError:  # a line longer than the limit: what was read of it
                line = await proc.stdout.read(1 << 20)
            if not line:
                return
            out.write(prefix + line if line.endswith(b"\n") else prefix + line + b"\n")
            out.flush()

    async def _keep(self, child: _Child) -> None:
        """Start ``child`` again each time it dies, after a pause that grows while it dies
        young; a worker refused its options (exit code 2) stops everything."""
        while True:
            assert child.proc is not None
            code = await child.proc.wait()
            if child.pump is not None:
                await child.pump
            if self.stopping.is_set():
                return
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            if code == USAGE and child is not self.front:
                self.say(f"worker {child.name} {how} (refused its options): stopping")
                self.code = USAGE
                self.stopping.set()
                return
            young = time.monotonic() - child.started < _YOUNG
            if child is self.front and young and child.runs == 1 and code > 0:
                self.say(f"HAProxy {how} at its start: is port {self.port} free? stopping")
                self.code = 1
                self.stopping.set()
                return
            child.pause = min(max(child.pause * 2, _RESTART_MIN), _RESTART_MAX) if young else 0
            what = "HAProxy" if child is self.front else f"worker {child.name}"
            self.say(
                f"{what} {how}: starting it again"
                + (f" in {child.pause:g} s" if child.pause else "")
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), child.pause)
                return
            await self._start(child)

    async def _check_front(self) -> None:
        """Connect to the public port each second; HAProxy running but not answering for
        ``_CHECK_FALLS`` seconds in a row is killed (and started again by ``_keep``)."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        host = "::1" if host == "::" else host
        falls = 0
        while True:
            await asyncio.sleep(_CHECK_EVERY)
            proc = self.front.proc
            if proc is None or proc.returncode is not None:
                falls = 0
                continue
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(host, self.port), 2)
                writer.close()
                falls = 0
            except (OSError, TimeoutError):
                falls += 1
            if falls >= _CHECK_FALLS and time.monotonic() - self.front.started > _YOUNG:
                self.say(f"HAProxy does not answer on port {self.port}: stopping it")
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                falls = 0

    async def _stop_all(self) -> None:
        """SIGTERM to every child, SIGKILL to those still running after ``_STOP_WAIT``."""
        self.stopping.set()
        running = [
            c.proc
            for c in [*self.workers, self.front]
            if c.proc is not None and c.proc.returncode is None
        ]
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        waits = [asyncio.create_task(proc.wait()) for proc in running]
        if waits:
            await asyncio.wait(waits, timeout=_STOP_WAIT)
            for proc in running:
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
            await asyncio.gather(*waits)
        pumps = [c.pump for c in [*self.workers, self.front] if c.pump is not None]
        await asyncio.gather(*pumps, return_exceptions=True)
