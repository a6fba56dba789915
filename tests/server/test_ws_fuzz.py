"""Hypothesis against the operator protocol (docs/protocol.md) over real sockets.

One server for the module, with the frame limit ``ucs serve`` sets. Each example opens a fresh
connection (so that no example meets the rate limit or another's state), sends a few messages
drawn from everything a broken or hostile client could send (text that is no JSON, binary
frames, JSON of the wrong type at every level, NaN and overlong numbers, lone surrogates,
deep nesting, huge strings, unknown methods, wrong arguments, hellos with garbage resumes,
messages before the hello and hellos twice), then a sentinel request, and checks:

- every message gets exactly one answer, in order, of the kind its type asks for: a request
  with a usable id gets ``result`` or ``error`` with that id; an error's code is one of the
  documented ones (never ``INTERNAL_ERROR``: that is a server bug);
- the connection stays open (the sentinel is answered), and everything the server sends is
  strict JSON (no NaN or Infinity, which a browser's ``JSON.parse`` refuses);
- the pushes a connection gets are numbered without a gap;
- nothing is logged as an error; ``/healthz`` answers; and another agent, on its own
  connection, keeps working: a ping and a status change, its events in order.

Examples are derandomized, so that a run is the same every time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.helpers import free_port
from tests.server.conftest import Running
from ucs.core.ids import AgentId
from ucs.core.model import Phase
from ucs.core.session import ALIASES, METHODS
from ucs.web.server import Settings, build_server, create_app
from ucs.web.ws import BURST, MAX_DEPTH, MAX_MESSAGE, RATE

pytestmark = pytest.mark.anyio

CODES = {
    "INVALID_STATE",
    "INVALID_ARGUMENT",
    "UNAUTHORIZED",
    "NOT_FOUND",
    "TOO_MANY_ATTEMPTS",
    "TOO_MANY_REQUESTS",
    "FORBIDDEN",  # a supervisor's method called by an agent who supervises nobody
    "MEDIA_UNAVAILABLE",  # the softphone without a media engine
}
"""Error codes a request may be answered with: CONTRACT §5, and the protocol's flow control."""
FRAME_LIMIT = 2 * MAX_MESSAGE
"""The largest frame uvicorn takes, as ``ucs serve`` configures it (``ws_max_size``)."""
EXAMPLES = 300

FUZZED = AgentId(3)
"""The agent the logged-in fuzzing works as (agent3 on phone3)."""


# ------------------------------------------------------------------ the server and its agents


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken = [f"{r.name}: {r.getMessage()}" for r in self.records]
        self.records.clear()
        return taken


class Served:
    """The server, and what the tests keep across examples. (Not a dataclass: Hypothesis
    would print all of it with every failing example.)"""

    def __init__(self, running: Running, errors: _Errors, watcher: Watcher) -> None:
        self.running = running
        self.errors = errors
        self.watcher = watcher
        self.token = ""
        """The fuzzed agent's session token (renewed when a fuzzed logout ended the session)."""
        self.examples = 0
        self.ids = itertools.count()

    def live(self) -> dict[str, Any]:
        calls = self.running.server.center.calls_of(FUZZED)
        seq = self.running.server.hub.current(FUZZED)
        return {
            "token": self.token,
            "uniqueid": calls[0].uniqueid if calls else "none",
            **{f"seq{d:+d}": seq + d for d in (-150, -3, 0, 1)},
        }

    def fresh_id(self) -> str:
        """An id never used before: answers to the session's requests are kept, by id, for a
        retry, so that an id used again is answered from memory, never carried out."""
        return f"own-{next(self.ids)}"

    def __repr__(self) -> str:
        return f"Served({self.running.url})"

    @property
    def ws_url(self) -> str:
        return self.running.url.replace("http", "ws") + "/ws"


@pytest.fixture(scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    path: Path = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    server = build_server(Settings(port=port, demo=True, db=f"sqlite:///{path}/ucs.db"))
    config = uvicorn.Config(
        create_app(server),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws_max_size=FRAME_LIMIT,
    )
    uv = uvicorn.Server(config)
    errors = _Errors()
    loggers = [logging.getLogger(name) for name in ("ucs", "uvicorn.error", "uvicorn.asgi")]
    for logger in loggers:
        logger.addHandler(errors)
    task = asyncio.create_task(uv.serve())
    while not uv.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    running = Running(server, f"http://127.0.0.1:{port}")
    try:
        async with Watcher.opened(running) as watcher:
            served = Served(running, errors, watcher)
            served.token = await _log_in_fuzzed(served)
            yield served
    finally:
        uv.should_exit = True
        await task
        for logger in loggers:
            logger.removeHandler(errors)


# ------------------------------------------------------------------ clients


def _strict(text: str) -> Any:
    """JSON as a browser reads it: no NaN, no Infinity."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"the server sent {name}, which is not JSON: {text[:200]}")

    return json.loads(text, parse_constant=refuse)


class _Conn:
    """One connection, read as it comes; requests wait for the answer with their id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []
        self.failure: AssertionError | None = None
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str) -> _Conn:
        return cls(await connect(url, ping_interval=None, max_size=None))

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                assert isinstance(text, str), "the server sends text frames only"
                self.received.append(_strict(text))
                self._arrived.set()
        except ConnectionClosed:
            pass
        except AssertionError as failure:
            self.failure = failure
        self._arrived.set()

    async def send(self, message: str | bytes | dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message) if isinstance(message, dict) else message)

    async def until(self, found: Any, after: int = 0) -> dict[str, Any]:
        """The first message received (the ``after`` first aside) for which ``found`` holds."""
        async with asyncio.timeout(10):
            while True:
                for msg in self.received[after:]:
                    if found(msg):
                        return msg
                if self.failure is not None:
                    raise self.failure
                if self._reader.done():
                    raise AssertionError(f"the server closed the connection ({self.ws.close_code})")
                self._arrived.clear()
                await self._arrived.wait()

    async def request(self, rid: str, method: str, *args: Any) -> dict[str, Any]:
        await self.send({"v": 1, "type": "request", "id": rid, "method": method, "args": [*args]})
        return await self.until(lambda m: m.get("id") == rid)

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


@contextlib.asynccontextmanager
async def _opened(url: str) -> AsyncIterator[_Conn]:
    conn = await _Conn.open(url)
    try:
        yield conn
    finally:
        await conn.close()


class Watcher:
    """Another agent (agent2 on phone2, whose token is never fuzzed) at work while the fuzzing
    goes on: pings, and changes its status (never faster than the rate limit allows: it is not
    the one being tested here)."""

    def __init__(self, conn: _Conn) -> None:
        self.conn = conn
        self.n = 0
        self.rtts: list[float] = []
        self.allowance = BURST - 10  # its log-in took a few
        self.checked = time.monotonic()

    async def _pace(self, messages: int) -> None:
        now = time.monotonic()
        self.allowance = min(BURST, self.allowance + (now - self.checked) * RATE)
        self.checked = now
        if self.allowance < messages + 10:
            await asyncio.sleep((messages + 10 - self.allowance) / RATE)
            await self._pace(messages)
        else:
            self.allowance -= messages

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(cls, running: Running) -> AsyncIterator[Watcher]:
        async with _opened(running.url.replace("http", "ws") + "/ws") as conn:
            await conn.send({"v": 1, "type": "hello"})
            for rid, method, *args in (
                ("login", "login", "agent2", "agent2-pass"),
                ("phone", "selectIdentifier", "phone2"),
                ("provision", "provision"),
            ):
                assert (await conn.request(rid, method, *args))["type"] == "result"
            yield cls(conn)

    async def check(self) -> None:
        """A ping and a status change, answered; every event so far in order."""
        self.n += 1
        await self._pace(2)
        started = time.perf_counter()
        seen = len(self.conn.received)
        await self.conn.send({"v": 1, "type": "ping"})
        await self.conn.until(lambda m: m["type"] == "pong", after=seen)
        status = ("AUX", "Lunch") if self.n % 2 else ("READY",)
        answer = await self.conn.request(f"w{self.n}", "changeStatus", *status)
        self.rtts.append(time.perf_counter() - started)
        assert answer["type"] == "result" or answer["code"] in CODES - {"INVALID_ARGUMENT"}
        seqs = [m["seq"] for m in self.conn.received if "seq" in m]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


async def _log_in_fuzzed(served: Served) -> str:
    async with _opened(served.ws_url) as conn:
        await conn.send({"v": 1, "type": "hello"})
        login = await conn.request(served.fresh_id(), "login", "agent3", "agent3-pass")
        assert login["type"] == "result", login
        return str(login["result"]["token"])


async def _ready(served: Served, conn: _Conn) -> None:
    """Resume the fuzzed agent's session on ``conn``, and bring it (back) to READY."""
    center = served.running.server.center
    if FUZZED not in center.sessions:  # a fuzzed logout
        served.token = await _log_in_fuzzed(served)
    hub = served.running.server.hub
    resume = {"session": served.token, "seq": hub.current(FUZZED)}
    await conn.send({"v": 1, "type": "hello", "resume": resume})
    await conn.until(lambda m: m["type"] == "session.joined")
    phase = center.sessions[FUZZED].phase
    if phase is Phase.IDENTIFY:
        await conn.request(served.fresh_id(), "selectIdentifier", "phone3")
    if phase is not Phase.READY:
        assert (await conn.request(served.fresh_id(), "provision"))["type"] == "result"


async def _alive(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.running.url) as http:
        assert (await http.get("/healthz")).json()["status"] == "ok"


# ------------------------------------------------------------------ what a client may send


class Big:
    """A message of about 64 KiB (shown by its size when Hypothesis reports an example)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Big({len(self.text)} characters, {len(self.text.encode())} bytes)"


class Raw:
    """Text put into a message as it is: what ``json.dumps`` would never write."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Raw({self.text[:40]!r}…)" if len(self.text) > 40 else f"Raw({self.text!r})"


@dataclass(frozen=True)
class Live:
    """A value known only when the message is sent: the fuzzed agent's session ``token``, the
    ``uniqueid`` of its call, its session's sequence number (``seq+0``) give or take."""

    name: str


def _dump(value: Any, live: dict[str, Any]) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Live):
        return json.dumps(live[value.name])
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{_dump(v, live)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v, live) for v in value) + "]"
    return json.dumps(value)


def _nest(depth: int, inner: str = "1") -> Raw:
    return Raw("[" * depth + inner + "]" * depth)


ODD_NUMBERS = [
    "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e308", "-0", "0.0", "1E+2",
    "4" * 4301, "4" * 4300, "9" * 30, "1.5e-400",
]  # fmt: skip
ODD_STRINGS = [
    '"\\ud800"', '"a\\udfffb"', '"\\ud83d\\ude00"', '"\\u0000"', '"\\u202e"', '"\\\\ud800"',
]  # fmt: skip
WORDS = [
    "", " ", "READY", "AUX", "ACW", "OFFLINE", "Lunch", "phone1", "phone3", "phone9", "1001",
    "+420601123456", "+420601120001", "abc", "undefined", "directCall", "default", "dark",
    "info", "christmas", "agent1", "💥", "ﷺ", "\u202e", "x" * 257, "1" * 70,
]  # fmt: skip
NAMES = sorted({*METHODS, *ALIASES})
PARAMS = sorted({p.name for m in METHODS.values() for p in m.params})

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 1, 2, 3, 4, 2**31 - 1, 2**31, 2**53 + 1, 65535, 65536]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(WORDS),
)
odd = st.one_of(
    st.sampled_from(ODD_NUMBERS + ODD_STRINGS).map(Raw),
    st.sampled_from([MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 990, 5000]).map(_nest),
)


def _nested(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.text(max_size=8), st.sampled_from(PARAMS))
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=8,
    )


values = _nested(scalars)
"""JSON values."""
wild = _nested(st.one_of(scalars, odd))
"""… and what is not quite JSON, or nested too deep."""
anything = st.one_of(values, values, values, wild)
plausible = st.one_of(
    st.sampled_from(WORDS),
    st.integers(-1, 5),
    st.booleans(),
    st.none(),
    st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(WORDS), max_size=2),
)
"""Arguments of about the right kind, so that requests get past the checks."""
GUESSES: dict[str, list[Any]] = {
    "number": ["+420601123456", "+420601120001", "+420601120002", "+420601120003", "1001",
               "1002", "1004", "+1", "abc", 1001],
    "queue": [1, 2, 3, 4, "directCall", "undefined", "2"],
    "line": [1, 3, 5],
    "data": [{}, {"crm": "x"}, {"a": [1, {"b": None}]}],
    "status": ["READY", "AUX", "ACW", "OFFLINE", "ready"],
    "reason": ["Lunch", "Break", "Meeting", "Nap"],
    "identifier": ["phone1", "phone3", "phone9", " phone3 "],
    "uniqueid": [Live("uniqueid"), "1", "x"],
    "accountCode": ["A-1", "B"],
    "subAccountCode": ["s"],
    "ringingSound": ["rush", "quest", "nope"],
    "theme": ["dark", "default", "light"],
    "type": ["error", "warning", "success", "info", "debug"],
    "timeout": [0, 1.5, -1, 10**9],
    "boundState": ["READY", "CREDENTIALS", "nope"],
}  # fmt: skip
"""Values worth trying for each argument, by its name."""
ids = st.one_of(
    st.text(max_size=70),
    st.integers(),
    st.sampled_from(["1", "2", 1, 2, "x" * 64, "x" * 65, 10**64, 10**65, True, None, 1.5]),
    anything,
)
methods = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(["selfDestruct", "__init__", "constructor", "toString", "Login", "login "]),
    anything,
)
arguments = st.one_of(
    st.lists(anything, max_size=6),
    st.dictionaries(st.one_of(st.sampled_from(PARAMS), st.text(max_size=8)), anything, max_size=5),
    anything,
    st.lists(plausible, max_size=5),
    st.dictionaries(st.sampled_from(PARAMS), plausible, max_size=4),
)
resumes = st.one_of(
    anything,
    st.fixed_dictionaries(
        {},
        optional={
            "session": st.one_of(st.just(Live("token")), st.text(max_size=130), anything),
            "seq": st.one_of(st.integers(), anything, st.just(-1)),
        },
    ),
)


def _envelope(kind: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"type": kind},
        optional={
            "v": st.one_of(st.just(1), anything),
            "id": ids,
            "method": methods,
            "args": arguments,
            "resume": resumes,
            "extra": anything,
        },
    )


types = st.one_of(
    st.sampled_from(["request", "hello", "ping", "pong", "result", "error", "session.joined"]),
    st.sampled_from(["Request", "", "request "]),
    anything,
)
requests = st.fixed_dictionaries(
    {"v": st.just(1), "type": st.just("request"), "id": ids, "method": methods},
    optional={"args": arguments},
)


@st.composite
def _large(draw: st.DrawFn) -> Big:
    """A ping or request of about 64 KiB, in one- or two-byte characters."""
    size = draw(st.integers(MAX_MESSAGE - 2, MAX_MESSAGE + 2))
    char = draw(st.sampled_from(["x", "é"]))
    request = draw(st.booleans())
    kind = '"type":"request","id":"big","method":"state"' if request else '"type":"ping"'
    head = '{"v":1,' + kind + ',"pad":"'
    room = size - len(head.encode()) - 2
    pad = char * (room // len(char.encode())) + "x" * (room % len(char.encode()))
    return Big(head + pad + '"}')


hellos = st.fixed_dictionaries(
    {"v": st.just(1), "type": st.just("hello")}, optional={"resume": resumes}
)
resuming = st.fixed_dictionaries(
    {
        "v": st.just(1),
        "type": st.just("hello"),
        "resume": st.fixed_dictionaries(
            {"session": st.just(Live("token"))},
            optional={
                "seq": st.one_of(
                    st.sampled_from(["seq-150", "seq-3", "seq+0", "seq+1"]).map(Live), anything
                )
            },
        ),
    }
)
"""Hellos that resume the fuzzed agent's session, from wherever (the history keeps 100)."""
messages = st.one_of(
    hellos,
    resuming,
    st.text(max_size=100),
    st.binary(max_size=100),
    wild,
    _envelope(types),
    requests,
    st.sampled_from(["[" * 5000, "{" * 3000, "[" * 900 + "]" * 900, '{"type": "ping"} x']),
    _large(),
)


def _text(message: Any, live: dict[str, Any]) -> str | bytes:
    if isinstance(message, str | bytes):
        return message
    if isinstance(message, Big):
        return message.text
    return _dump(message, live)


# ------------------------------------------------------------------ what the server must answer


def _reading(text: str) -> tuple[Any, bool]:
    """The message as parsed (``None`` if it is no JSON at all), and whether the protocol
    takes it: strict JSON (no NaN, no infinities), nested at most ``MAX_DEPTH`` deep, and
    only valid Unicode."""
    numbers: list[str] = []

    def constant(name: str) -> None:
        numbers.append(name)

    def finite(number: str) -> float | None:
        value = float(number)
        return value if math.isfinite(value) else numbers.append(number)

    try:
        value = json.loads(text, parse_constant=constant, parse_float=finite)
    except (ValueError, RecursionError):
        return None, False
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str) and not _is_text(item):
            return value, False
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return value, False
            children = [*item, *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return value, not numbers


def _is_text(string: str) -> bool:
    try:
        string.encode()
    except UnicodeEncodeError:
        return False
    return True


def _usable_id(rid: Any) -> Any:
    if isinstance(rid, bool) or not isinstance(rid, str | int) or len(str(rid)) > 64:
        return None
    if isinstance(rid, str) and not _is_text(rid):
        return None
    return rid


def _check_answer(sent: str | bytes, answer: dict[str, Any]) -> None:
    text = sent.decode("utf-8", errors="replace") if isinstance(sent, bytes) else sent
    assert answer.get("v") == 1
    if answer["type"] == "error":
        assert answer["code"] in CODES, answer  # INTERNAL_ERROR is a server bug
        assert isinstance(answer["message"], str) and answer["message"]
    msg, readable = _reading(text)
    rid = _usable_id(msg.get("id")) if isinstance(msg, dict) else None
    if len(text.encode()) > MAX_MESSAGE or not readable:
        # refused, with the request's id when it could be read all the same
        assert answer["type"] == "error" and answer["code"] == "INVALID_ARGUMENT", answer
        assert answer.get("id") == rid
        return
    if not isinstance(msg, dict):
        assert answer["type"] == "error" and answer["code"] == "INVALID_ARGUMENT", answer
        assert "id" not in answer
        return
    kind = msg.get("type")
    if kind == "ping":
        assert answer == {"v": 1, "type": "pong"}
    elif kind == "hello":
        assert answer["type"] == "hello" and answer["protocol"] == 1, answer
        assert isinstance(answer["resumed"], bool)
    elif kind == "request" and rid is not None:
        assert answer["type"] in ("result", "error"), answer
        assert answer["id"] == rid and type(answer["id"]) is type(rid)
    else:
        assert answer["type"] == "error" and answer["code"] == "INVALID_ARGUMENT", answer
        assert answer.get("id") == rid


def _pushed(msg: dict[str, Any]) -> bool:
    """A push, or what the server sends a joining connection, rather than an answer."""
    if msg["type"] == "hello":
        return False  # an answer, with the session's number when resumed
    return "seq" in msg or msg["type"] in ("session.joined", "session.ended")


def _short(message: str | bytes) -> str:
    return repr(message) if len(message) < 300 else f"{message[:300]!r}… ({len(message)})"


def _numbered_without_gaps(received: list[dict[str, Any]]) -> None:
    """Pushes come numbered one after the other, from each (re)joining of a session on."""
    seqs: list[int] = []
    for msg in received:
        if msg["type"] == "hello":
            seqs = []  # a resume may replay from wherever the client asked
        elif "seq" in msg:
            assert not seqs or msg["seq"] == seqs[-1] + 1, f"a push went missing: {seqs[-3:]}"
            seqs.append(msg["seq"])


SENTINEL = "sentinel-4f9b1c0e6d2a47d5a3e8b7c61f0d9e2a"


async def _exchange(served: Served, conn: _Conn, sent: list[str | bytes]) -> None:
    """Send the messages, then a sentinel; check the answers to each."""
    start = len(conn.received)
    for message in sent:
        await conn.send(message)
    await conn.send({"v": 1, "type": "request", "id": SENTINEL, "method": "sentinel"})
    last = await conn.until(lambda m: m.get("id") == SENTINEL)
    assert last["code"] == "INVALID_ARGUMENT"
    got = conn.received[start:]
    answers = [m for m in got if not _pushed(m)]
    assert len(answers) == len(sent) + 1, answers
    for message, answer in zip(sent, answers, strict=False):
        try:
            _check_answer(message, answer)
        except AssertionError as failed:
            failed.add_note(f"sent: {_short(message)}")
            raise
    _numbered_without_gaps(conn.received)
    for push in (m for m in got if "seq" in m and m["type"] == "error"):
        assert push["code"] == "SWITCH_FAILURE"
    served.examples += 1
    if served.examples % 5 == 0:
        await served.watcher.check()


@pytest.fixture(autouse=True)
async def _healthy(served: Served, request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """After each test: nothing logged as an error, the server up, the other agent at work.
    Its round trips are measured (in the JUnit report), never asserted."""
    served.errors.take()
    served.watcher.rtts.clear()
    yield
    await served.watcher.check()
    await _alive(served)
    assert served.errors.take() == []
    rtts = sorted(served.watcher.rtts)
    median, worst = rtts[len(rtts) // 2], rtts[-1]
    request.node.user_properties.append(("watcher_rtt_median_ms", round(median * 1000, 2)))
    request.node.user_properties.append(("watcher_rtt_max_ms", round(worst * 1000, 2)))


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ------------------------------------------------------------------ the tests


@FUZZ
@given(hello=st.sampled_from(["first", "none", "twice"]), sent=st.lists(messages, max_size=3))
async def test_any_message_gets_its_answer_and_the_connection_lives_on(
    served: Served, hello: str, sent: list[Any]
) -> None:
    async with _opened(served.ws_url) as conn:
        texts = [_text(m, served.live()) for m in sent]
        if hello != "none":
            texts.insert(0, json.dumps({"v": 1, "type": "hello"}))
        if hello == "twice":
            texts.append(json.dumps({"v": 1, "type": "hello"}))
        await _exchange(served, conn, texts)


@FUZZ
@given(sent=st.lists(st.one_of(requests, messages), min_size=1, max_size=3))
async def test_a_logged_in_agent_can_send_anything(served: Served, sent: list[Any]) -> None:
    async with _opened(served.ws_url) as conn:
        await _ready(served, conn)
        await _exchange(served, conn, [_text(m, served.live()) for m in sent])


@st.composite
def _calls(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Calls of real methods (logout aside: it would end the fuzzed session), with arguments
    of any kind, or as many of about the right kind as the method takes."""
    calls = []
    for _ in range(draw(st.integers(1, 3))):
        method = draw(st.sampled_from(sorted(set(NAMES) - {"logout"})))
        params = METHODS[ALIASES.get(method, method)].params
        given = params[: draw(st.one_of(st.just(len(params)), st.integers(0, len(params))))]
        guesses = [st.one_of(st.sampled_from(GUESSES.get(p.name, WORDS)), plausible) for p in given]
        guessed = st.tuples(*guesses).map(list)
        args = draw(st.one_of(guessed, guessed, arguments))
        calls.append((method, args))
    return calls


@FUZZ
@given(calls=_calls())
async def test_every_method_takes_any_arguments_calmly(
    served: Served, calls: list[tuple[str, Any]]
) -> None:
    async with _opened(served.ws_url) as conn:
        await _ready(served, conn)
        sent: list[str | bytes] = []
        if not served.running.server.center.calls_of(FUZZED):  # calls make more methods work
            dial = ["+420601123456"]
            request = {"v": 1, "type": "request", "id": served.fresh_id(), "method": "dial"}
            sent.append(json.dumps({**request, "args": dial}))
        for method, args in calls:
            request = {"v": 1, "type": "request", "id": served.fresh_id(), "method": method}
            sent.append(_dump({**request, "args": args}, served.live()))
        await _exchange(served, conn, sent)


async def test_messages_over_64_kib_are_refused_and_over_the_frame_limit_closed(
    served: Served,
) -> None:
    async with _opened(served.ws_url) as conn:
        pad = MAX_MESSAGE - len('{"v":1,"type":"ping","pad":""}')
        await _exchange(served, conn, [f'{{"v":1,"type":"ping","pad":"{"x" * pad}"}}'])
        head = '{"v":1,"type":"request","id":"7","method":"state","pad":"'
        refused = head + "é" * ((MAX_MESSAGE - len(head)) // 2 + 1) + '"}'
        assert len(refused) < MAX_MESSAGE < len(refused.encode())
        await conn.send(refused)
        answer = await conn.until(lambda m: m.get("id") == "7")
        assert answer["code"] == "INVALID_ARGUMENT" and "larger" in answer["message"]
        await conn.send("x" * (FRAME_LIMIT + 1))  # uvicorn refuses the frame itself
        with pytest.raises(AssertionError, match=r"closed the connection \(1009\)"):
            await conn.until(lambda m: False)


async def test_a_flood_is_refused_request_by_request_then_closed(served: Served) -> None:
    async with _opened(served.ws_url) as flood:
        await flood.send({"v": 1, "type": "hello"})
        login = await flood.request("login", "login", "supervisor", "supervisor-pass")
        assert login["type"] == "result"
        before = len(flood.received)
        sent = 5 * int(BURST)
        with contextlib.suppress(ConnectionClosed):  # once closed, it may send no more
            for n in range(sent):
                theme = "dark" if n % 2 else "default"
                await flood.send(
                    {"v": 1, "type": "request", "id": n, "method": "setTheme", "args": [theme]}
                )
        with pytest.raises(AssertionError, match=r"closed the connection \(1008\)"):
            await flood.until(lambda m: False)
        got = flood.received[before:]
        answers = [m for m in got if m["type"] in ("result", "error")]
        assert [m["id"] for m in answers] == list(range(len(answers)))  # each its own answer
        refused = [m for m in answers if m["type"] == "error"]
        assert refused and all(m["code"] == "TOO_MANY_REQUESTS" for m in refused)
        carried_out = len(answers) - len(refused)
        assert carried_out >= BURST
        assert len(answers) < sent  # the rest was never read: the connection was closed
        pushes = [m for m in got if m["type"] == "session.changed"]
        assert len(pushes) == carried_out  # a refused request changed nothing
        await served.watcher.check()


async def test_values_json_cannot_carry_reach_no_client(running: Running) -> None:
    """The REST API refuses NaN and Infinity (Python's JSON reads them); were one to reach a
    push anyway, it would go out as null, as ``JSON.stringify`` writes it."""
    from ucs.web.hub import encode

    body = '{"queue": 2, "from": "+420601123456", "data": {"x": NaN, "y": [-Infinity]}}'
    admin = {"Authorization": "Bearer demo-admin-token", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=running.url, headers=admin) as http:
        assert (await http.post("/api/sim/calls", content=body)).status_code == 422
        assert (await http.get("/api/cdr")).status_code == 200
    text = encode({"type": "call.changed", "call": {"data": {"x": math.nan, "y": [-math.inf]}}})
    assert json.loads(text)["call"]["data"] == {"x": None, "y": [None]}


KILLERS = [
    # argon2 cannot hash a string with a lone surrogate: the connection used to die
    ('{"v":1,"type":"request","id":"a","method":"login","args":["agent1","\\ud800"]}', "a"),
    # the JSON parser's recursion: the connection used to die
    ("[" * 5000 + "]" * 5000, None),
    ('{"v":1,"type":"request","id":"b","method":"notify","args":' + "[" * 500 + "]" * 500 + "}",
     "b"),
    # NaN went into the call's data, and out to every tab as NaN, which browsers cannot read
    ('{"v":1,"type":"request","id":"c","method":"dial","args":["+420601123456",null,null,'
     '{"x":NaN}]}', "c"),
]  # fmt: skip


async def test_what_once_broke_a_connection_is_refused_calmly(running: Running) -> None:
    async with _opened(running.url.replace("http", "ws") + "/ws") as conn:
        await conn.send({"v": 1, "type": "hello"})
        for n, (message, rid) in enumerate(KILLERS):
            seen = len(conn.received)
            await conn.send(message)
            answer = await conn.until(lambda m: m["type"] == "error", after=seen)
            assert answer["code"] == "INVALID_ARGUMENT" and answer.get("id") == rid, n
        login = await conn.request("d", "login", "agent1", "agent1-pass")
        assert login["type"] == "result"  # the connection is as good as new


async def test_a_server_bug_is_answered_and_logged_and_the_connection_lives_on(
    running: Running, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(username: object, password: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(running.server, "verify_ahead", broken)
    async with _opened(running.url.replace("http", "ws") + "/ws") as conn:
        await conn.send({"v": 1, "type": "hello"})
        failed = await conn.request("1", "login", "agent1", "agent1-pass")
        assert failed["code"] == "INTERNAL_ERROR"
        monkeypatch.undo()
        seen = len(conn.received)
        await conn.send(
            {
                "v": 1,
                "type": "request",
                "id": "1",
                "method": "login",
                "args": ["agent1", "agent1-pass"],
            }
        )
        again = await conn.until(lambda m: m.get("id") == "1", after=seen)
        assert again["type"] == "result"  # the retry is carried out: a failure is not kept
    logged = served.errors.take()
    assert len(logged) == 1 and "failed" in logged[0]


async def test_no_garbage_collection_runs_inside_the_parser_of_a_deep_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A message nested hundreds deep takes the JSON parser near the recursion limit; a
    collection there called the GC pause monitor with no stack left (RecursionError, raised
    where nothing could catch it). Deep messages are parsed with collection paused."""
    import gc

    from ucs.web import ws

    parsing: list[int] = []
    loads = json.loads

    def watched(*args: Any, **kwargs: Any) -> Any:
        parsing.append(1)
        try:
            return loads(*args, **kwargs)
        finally:
            parsing.pop()

    monkeypatch.setattr(ws.json, "loads", watched)
    inside: list[int] = []

    def seen(phase: str, info: dict[str, Any]) -> None:
        if parsing:
            inside.append(1)

    threshold = gc.get_threshold()
    gc.callbacks.append(seen)
    gc.set_threshold(1)  # a young collection at nearly every allocation
    try:
        ws._parse(json.dumps({"v": 1, "args": [[i] for i in range(20)]}))
        assert inside, "a shallow message is parsed as usual, collections and all"
        inside.clear()
        for depth in (MAX_DEPTH + 1, 500, 990, 5000):
            with pytest.raises(ws._Malformed, match="nested"):
                ws._parse("[" * depth + "]" * depth)
        assert not inside
        assert gc.isenabled()
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(seen)
