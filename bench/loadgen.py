"""The load generator: worker processes, each one asyncio loop with many connections.

Two kinds of worker, each driven by the orchestrator (``bench.run``) over a ``multiprocessing``
pipe with small commands:

* ``agent_worker``: one WebSocket per agent, speaking the raw operator protocol
  (docs/protocol.md): ``hello``, ``sso``, ``selectIdentifier``, ``provision``,
  ``changeStatus READY``; then, when told, answers every ringing queue call, talks 2–5 s and
  ends the call, half the time by its own ``hangup`` and half the time by making the simulated
  caller hang up (``POST /api/sim/calls/{uniqueid}/hangup``).
* ``caller_worker``: simulated callers into the queues at a fixed rate
  (``POST /api/sim/calls``) over a pool of keep-alive HTTP connections.

Every timestamp is ``time.monotonic()``: Linux's CLOCK_MONOTONIC, one clock for every process of
the machine, so that a call's creation in the caller process and its ringing in an agent process
can be subtracted. Workers keep raw records and hand them over at the end; the orchestrator
computes every figure.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.extensions.base import ClientExtensionFactory
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

__all__ = [
    "AgentSpec",
    "CallerSpec",
    "HttpPool",
    "agent_worker",
    "caller_worker",
    "open_ws",
    "sso_token",
]


# --- helpers shared with the baseline --------------------------------------------------------


def sso_token(secret: str, username: str, timestamp: int) -> str:
    """CONTRACT §4: base64(sha1(secret + username + timestamp) + username + timestamp)."""
    ts = str(int(timestamp))
    digest = hashlib.sha1((secret + username + ts).encode()).digest()
    return base64.b64encode(digest + (username + ts).encode()).decode("ascii")


def deflate_extensions(mode: str) -> tuple[list[ClientExtensionFactory] | None, str | None]:
    """What the client offers: ``browser`` offers permessage-deflate as Chromium and Firefox do
    (``client_max_window_bits``, so the server keeps 32 KiB windows and zlib's default memory
    level); ``websockets`` the websockets library's own tuned offer (12-bit windows, what the
    Python SDK sends); ``off`` no compression."""
    if mode == "browser":
        return [ClientPerMessageDeflateFactory(client_max_window_bits=True)], None
    if mode == "websockets":
        return None, "deflate"
    if mode == "off":
        return None, None
    raise ValueError(f"unknown deflate mode {mode!r}")


async def open_ws(url: str, deflate: str) -> ClientConnection:
    extensions, compression = deflate_extensions(deflate)
    return await connect(
        url,
        extensions=extensions,
        compression=compression,
        max_size=None,  # selectIdentifier's answer lists every free phone: it can be large
        ping_interval=None,
        open_timeout=120,
        close_timeout=2,
        proxy=None,
    )


class HttpPool:
    """A minimal HTTP/1.1 client with keep-alive connections (httpx would cost the generator
    more CPU than the server spends on the request)."""

    IDLE = 3.0
    """Seconds a kept connection may wait for reuse (uvicorn closes them after 5 s)."""

    def __init__(self, host: str, port: int, token: str, size: int) -> None:
        self.host, self.port, self.token = host, port, token
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self._slots = asyncio.Semaphore(size)

    async def _connection(
        self, fresh: bool
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        now = time.monotonic()
        while self._idle and not fresh:
            reader, writer, since = self._idle.pop()
            if now - since < self.IDLE:
                return reader, writer, True
            writer.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return reader, writer, False

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        on_send: Callable[[], None] | None = None,
        deadline: float | None = None,
    ) -> tuple[int, bytes]:
        """Send one request and read its answer; ``Late`` (nothing sent) when no connection was
        free before ``deadline``."""
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Length: {len(data)}\r\n"
            + ("Content-Type: application/json\r\n" if body is not None else "")
            + "\r\n"
        ).encode()
        async with self._slots:
            if deadline is not None and time.monotonic() > deadline:
                raise Late()
            for attempt in range(2):
                reader, writer, reused = await self._connection(fresh=attempt > 0)
                if on_send is not None and attempt == 0:
                    on_send()
                try:
                    writer.write(head + data)
                    status, payload, keep = await _read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError, EOFError):
                    writer.close()
                    if reused and attempt == 0:
                        continue  # the server closed a kept connection unused: send it again
                    raise
                if keep:
                    self._idle.append((reader, writer, time.monotonic()))
                else:
                    writer.close()
                return status, payload
        raise AssertionError("unreachable")

    def close(self) -> None:
        for _, writer, _ in self._idle:
            writer.close()
        self._idle.clear()


class Late(Exception):
    """The request was not sent: its time had passed before a connection was free."""


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    line = await reader.readline()
    if not line:
        raise EOFError("connection closed")
    status = int(line.split()[1])
    length = 0
    keep = True
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
    payload = await reader.readexactly(length) if length else b""
    return status, payload, keep


async def _commands(conn: Connection) -> Any:
    """The orchestrator's next command (the pipe is read in a thread, the loop runs on)."""
    return await asyncio.get_running_loop().run_in_executor(None, conn.recv)


# --- agents ------------------------------------------------------------------------------------


@dataclass
class AgentSpec:
    ws_url: str
    host: str
    port: int
    admin_token: str
    sso_secret: str
    agents: list[tuple[str, str]]
    """(username, phone identifier) of each agent of this worker."""
    deflate: str = "browser"
    concurrency: int = 50
    """Logins in flight at once in this worker."""
    talk: tuple[float, float] = (2.0, 5.0)
    caller_hangs_up: float = 0.5
    """Share of calls ended by the simulated caller (REST) rather than the agent's hangup."""
    seed: int = 0
    prefix: str = ""
    """Before the REST paths: ``/node/NAME`` to reach one worker behind HAProxy."""


@dataclass(eq=False)
class _Agent:
    username: str
    identifier: str
    ws: ClientConnection | None = None
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    pending: dict[str, asyncio.Future[tuple[dict[str, Any], float]]] = field(default_factory=dict)
    pong: asyncio.Future[float] | None = None
    freed_at: float | None = None
    """When this agent's last call was ended from here (free → next offer)."""
    freed_by: str = ""
    """Who ended it: ``agent`` (its hangup request) or ``caller`` (the simulator's API)."""
    sent: int = 0
    received: int = 0
    last_size: int = 0
    """Characters of the last answer received (the replay cache keeps answers as text)."""


class _AgentWorker:
    def __init__(self, spec: AgentSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.agents = [_Agent(u, i) for u, i in spec.agents]
        self.answering = False
        self.http: HttpPool | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping = False
        """Told to stop: a call's end timed for later starts nothing (the loop is closing, and
        a task started then would be destroyed pending, with a warning for each)."""
        # records, each a tuple of plain values (pickled back to the orchestrator)
        self.rings: list[tuple[str, str, float]] = []  # uid, agent, t
        self.answers: list[tuple[str, float, float, str]] = []  # uid, t sent, rtt, error code
        self.ends: list[tuple[str, str, float, float, str]] = []  # uid, by, t, rtt, error
        self.hangups: list[tuple[str, str, float]] = []  # uid, agent, t (hangup event)
        # next uid, agent, t freed, latency to that next offer, who ended the call before
        self.free_to_offer: list[tuple[str, str, float, float, str]] = []
        self.errors: list[str] = []

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        if self.stopping:
            coro.close()
            return
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # --- protocol ------------------------------------------------------------------------------

    async def request(
        self, agent: _Agent, method: str, args: list[Any] | None = None
    ) -> tuple[dict[str, Any], float, float]:
        """Send a request; returns (answer, time sent, round trip seconds)."""
        assert agent.ws is not None
        rid = str(next(agent.ids))
        fut: asyncio.Future[tuple[dict[str, Any], float]] = (
            asyncio.get_running_loop().create_future()
        )
        agent.pending[rid] = fut
        text = json.dumps(
            {"v": 1, "type": "request", "id": rid, "method": method, "args": args or []}
        )
        sent = time.monotonic()
        await agent.ws.send(text)
        agent.sent += 1
        answer, received = await asyncio.wait_for(fut, 120)
        return answer, sent, received - sent

    async def ping(self, agent: _Agent) -> float:
        assert agent.ws is not None
        agent.pong = asyncio.get_running_loop().create_future()
        sent = time.monotonic()
        await agent.ws.send('{"v":1,"type":"ping"}')
        agent.sent += 1
        return await asyncio.wait_for(agent.pong, 120) - sent

    async def read(self, agent: _Agent) -> None:
        assert agent.ws is not None
        try:
            async for raw in agent.ws:
                now = time.monotonic()
                agent.received += 1
                msg = json.loads(raw)
                kind = msg.get("type")
                rid = msg.get("id")
                if kind in ("result", "error") and rid is not None:
                    agent.last_size = len(raw)
                    fut = agent.pending.pop(str(rid), None)
                    if fut is not None and not fut.done():
                        fut.set_result((msg, now))
                elif kind == "call.changed":
                    self.on_call(agent, msg["what"], msg["call"], now)
                elif kind == "pong":
                    if agent.pong is not None and not agent.pong.done():
                        agent.pong.set_result(now)
                elif kind == "hello":
                    fut = agent.pending.pop("hello", None)
                    if fut is not None and not fut.done():
                        fut.set_result((msg, now))
                elif kind == "error":
                    self.errors.append(f"{agent.username}: {msg.get('code')}")
        except ConnectionClosed as err:
            if self.answering:
                self.errors.append(f"{agent.username}: connection closed {err}")
        for fut in agent.pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("connection closed"))

    # --- login -----------------------------------------------------------------------------

    async def login(
        self, agent: _Agent, steps: dict[str, list[float]], sizes: dict[str, list[int]]
    ) -> str | None:
        """Connect and bring one agent to READY; None when all went well, else what failed."""
        started = time.monotonic()
        agent.ws = await open_ws(self.spec.ws_url, self.spec.deflate)
        steps["connect"].append(time.monotonic() - started)
        self.spawn(self.read(agent))
        hello: asyncio.Future[tuple[dict[str, Any], float]] = (
            asyncio.get_running_loop().create_future()
        )
        agent.pending["hello"] = hello
        sent = time.monotonic()
        await agent.ws.send('{"v":1,"type":"hello"}')
        agent.sent += 1
        await asyncio.wait_for(hello, 120)
        steps["hello"].append(time.monotonic() - sent)
        token = sso_token(self.spec.sso_secret, agent.username, int(time.time()))
        for method, args in (
            ("sso", [agent.username, token, "bench"]),
            ("selectIdentifier", [agent.identifier]),
            ("provision", []),
            ("changeStatus", ["READY"]),
        ):
            answer, _, rtt = await self.request(agent, method, args)
            steps[method].append(rtt)
            sizes[method].append(agent.last_size)
            if answer.get("type") != "result":
                return f"{method}: {answer.get('code')} {answer.get('message')}"
        steps["login"].append(time.monotonic() - started)
        return None

    async def login_all(self) -> dict[str, Any]:
        steps: dict[str, list[float]] = {
            k: [] for k in ("connect", "hello", "sso", "selectIdentifier", "provision")
        }
        steps["changeStatus"] = []
        steps["login"] = []
        sizes: dict[str, list[int]] = {k: [] for k in steps}
        slots = asyncio.Semaphore(self.spec.concurrency)
        failures: list[str] = []

        async def one(agent: _Agent) -> None:
            async with slots:
                try:
                    failed = await self.login(agent, steps, sizes)
                except Exception as err:  # recorded and reported, never hidden
                    failed = f"{type(err).__name__}: {err}"
                if failed is not None:
                    failures.append(f"{agent.username}: {failed}")

        started = time.monotonic()
        await asyncio.gather(*(one(a) for a in self.agents))
        return {
            "started": started,
            "ended": time.monotonic(),
            "steps": steps,
            "sizes": {k: v for k, v in sizes.items() if v},
            "failures": failures,
        }

    # --- calls -----------------------------------------------------------------------------

    def on_call(self, agent: _Agent, what: str, call: dict[str, Any], now: float) -> None:
        uid = str(call["uniqueid"])
        if what == "ringing":
            self.rings.append((uid, agent.username, now))
            if agent.freed_at is not None:
                self.free_to_offer.append(
                    (uid, agent.username, agent.freed_at, now - agent.freed_at, agent.freed_by)
                )
                agent.freed_at = None
            if self.answering:
                self.spawn(self.answer(agent, uid))
        elif what == "connect":
            talk = self.rng.uniform(*self.spec.talk)
            loop = asyncio.get_running_loop()
            loop.call_later(talk, lambda: self.spawn(self.end_call(agent, uid)))
        elif what == "hangup":
            self.hangups.append((uid, agent.username, now))

    async def answer(self, agent: _Agent, uid: str) -> None:
        try:
            answer, sent, rtt = await self.request(agent, "answer")
        except Exception as err:
            self.answers.append((uid, time.monotonic(), -1.0, type(err).__name__))
            return
        code = "" if answer.get("type") == "result" else str(answer.get("code"))
        self.answers.append((uid, sent, rtt, code))

    async def end_call(self, agent: _Agent, uid: str) -> None:
        by_caller = self.rng.random() < self.spec.caller_hangs_up
        agent.freed_at = time.monotonic()
        agent.freed_by = "caller" if by_caller else "agent"
        try:
            if by_caller:
                assert self.http is not None
                sent = time.monotonic()
                status, _ = await self.http.request(
                    "POST", f"{self.spec.prefix}/api/sim/calls/{uid}/hangup"
                )
                rtt = time.monotonic() - sent
                self.ends.append((uid, "caller", sent, rtt, "" if status == 204 else str(status)))
            else:
                answer, sent, rtt = await self.request(agent, "hangup")
                code = "" if answer.get("type") == "result" else str(answer.get("code"))
                self.ends.append((uid, "agent", sent, rtt, code))
        except Exception as err:
            self.ends.append((uid, "caller" if by_caller else "agent", 0.0, -1.0, repr(err)))

    async def check(self) -> dict[str, Any]:
        """Every agent must be READY (phone confirmed, availability READY) with no call."""
        bad: list[str] = []

        async def one(agent: _Agent) -> None:
            try:
                answer, _, _ = await self.request(agent, "state")
            except Exception as err:
                bad.append(f"{agent.username}: {err!r}")
                return
            st = answer.get("result") or {}
            user = st.get("user") or {}
            if st.get("state") != "READY" or user.get("status") != "READY" or st.get("calls"):
                calls = [(c.get("uniqueid"), c.get("state")) for c in st.get("calls") or []]
                bad.append(f"{agent.username}: {st.get('state')} {user.get('status')} {calls}")

        await asyncio.gather(*(one(a) for a in self.agents if a.ws is not None))
        return {"bad": bad}

    async def throughput(self, total: int, method: str) -> dict[str, Any]:
        """Closed loop: each connection sends its next message when the last is answered."""
        live = [a for a in self.agents if a.ws is not None]
        share = [total // len(live) + (1 if i < total % len(live) else 0) for i in range(len(live))]
        errors = 0
        rtts: list[float] = []

        async def loop(agent: _Agent, n: int) -> None:
            nonlocal errors
            for _ in range(n):
                if method == "ping":
                    rtts.append(await self.ping(agent))
                else:
                    answer, _, rtt = await self.request(agent, method)
                    rtts.append(rtt)
                    if answer.get("type") != "result":
                        errors += 1

        started = time.monotonic()
        await asyncio.gather(*(loop(a, n) for a, n in zip(live, share, strict=True)))
        return {
            "started": started,
            "ended": time.monotonic(),
            "messages": 2 * total,
            "errors": errors,
            "rtts": rtts,
        }

    def report(self) -> dict[str, Any]:
        out = {
            "rings": self.rings,
            "answers": self.answers,
            "ends": self.ends,
            "hangups": self.hangups,
            "free_to_offer": self.free_to_offer,
            "errors": self.errors,
            "cpu_s": time.process_time(),
            "sent": sum(a.sent for a in self.agents),
            "received": sum(a.received for a in self.agents),
        }
        self.rings, self.answers, self.ends, self.hangups = [], [], [], []
        self.free_to_offer, self.errors = [], []
        return out

    async def close(self) -> None:
        async def one(agent: _Agent) -> None:
            if agent.ws is not None:
                with contextlib.suppress(Exception):
                    await agent.ws.close()

        await asyncio.gather(*(one(a) for a in self.agents))
        if self.http is not None:
            self.http.close()


async def _agent_main(spec: AgentSpec, conn: Connection) -> None:
    worker = _AgentWorker(spec)
    worker.http = HttpPool(spec.host, spec.port, spec.admin_token, 128)
    while True:
        command, *args = await _commands(conn)
        if command == "login":
            conn.send(await worker.login_all())
        elif command == "answer":
            worker.answering = bool(args[0])
            conn.send("ok")
        elif command == "check":
            conn.send(await worker.check())
        elif command == "throughput":
            conn.send(await worker.throughput(int(args[0]), str(args[1])))
        elif command == "report":
            conn.send(worker.report())
        elif command == "stop":
            worker.stopping = True
            if args and args[0]:
                await worker.close()
            conn.send("bye")
            return


def agent_worker(spec: AgentSpec, conn: Connection) -> None:
    """Process entry: serve the orchestrator's commands until ``stop``."""
    _raise_nofile()
    asyncio.run(_agent_main(spec, conn))


# --- callers -----------------------------------------------------------------------------------


@dataclass
class CallerSpec:
    host: str
    port: int
    admin_token: str
    queues: tuple[int, ...]
    pool: int = 256
    seed: int = 0
    prefix: str = ""
    """Before ``/api/sim/calls``: ``/node/NAME`` to reach one worker behind HAProxy."""


async def _caller_phase(
    http: HttpPool, spec: CallerSpec, rate: float, duration: float, tag: str
) -> dict[str, Any]:
    """Start ``rate`` calls a second for ``duration`` seconds, on a fixed schedule."""
    records: list[tuple[str, str, float, float, float, int]] = []  # uid, tag, sched, sent, rtt, st
    failures: list[str] = []
    tasks: set[asyncio.Task[None]] = set()
    queues = itertools.cycle(spec.queues)
    rng = random.Random(spec.seed)

    async def one(scheduled: float, queue: int) -> None:
        sent = 0.0

        def mark() -> None:
            nonlocal sent
            sent = time.monotonic()

        nonlocal not_sent
        body = {"queue": queue, "from": f"+42060{rng.randrange(10**7):07d}"}
        try:
            status, payload = await http.request(
                "POST", f"{spec.prefix}/api/sim/calls", body, on_send=mark, deadline=deadline
            )
        except Late:
            not_sent += 1
            return
        except Exception as err:
            failures.append(repr(err))
            return
        rtt = time.monotonic() - sent
        uid = json.loads(payload)["uniqueid"] if status == 201 else ""
        if status == 503 and b"OVERLOADED" in payload:
            nonlocal shed  # turned away by admission control: never accepted, so not lost
            shed += 1
            return
        if status != 201:
            failures.append(f"{status}: {payload[:200]!r}")
        records.append((uid, tag, scheduled, sent, rtt, status))

    started = time.monotonic()
    cpu = time.process_time()
    not_sent = 0
    shed = 0
    deadline = started + duration + 1.0
    """A call the server's slow answers kept from being sent by then is not sent at all."""
    count = round(rate * duration)
    for i in range(count):
        scheduled = started + i / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(scheduled, next(queues)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    ended = time.monotonic()
    if tasks:
        await asyncio.wait(tasks)
    return {
        "tag": tag,
        "rate": rate,
        "started": started,
        "ended": ended,
        "wall_started": time.time() - (time.monotonic() - started),
        "records": records,
        "failures": failures,
        "not_sent": not_sent,
        "shed": shed,
        "cpu_s": time.process_time() - cpu,
    }


async def _caller_main(spec: CallerSpec, conn: Connection) -> None:
    http = HttpPool(spec.host, spec.port, spec.admin_token, spec.pool)
    while True:
        command, *args = await _commands(conn)
        if command == "calls":
            rate, duration, tag = float(args[0]), float(args[1]), str(args[2])
            conn.send(await _caller_phase(http, spec, rate, duration, tag))
        elif command == "stop":
            http.close()
            conn.send("bye")
            return


def caller_worker(spec: CallerSpec, conn: Connection) -> None:
    """Process entry: start calls when told, until ``stop``."""
    asyncio.run(_caller_main(spec, conn))


def _raise_nofile() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
