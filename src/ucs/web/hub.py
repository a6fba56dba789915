"""The hub: every WebSocket connection, and what each agent's session was told.

Pushes to an agent get the session's next sequence number and are kept (the last
``history`` of them) so that a reconnecting connection can catch up. Each connection has a
bounded send queue: a connection too slow to keep up is closed, never waited for, and resumes
when it reconnects.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ucs.core.effects import Effect, Push, Send
from ucs.core.ids import AgentId, ClientId

__all__ = ["PROTOCOL_VERSION", "Connection", "Hub", "encode"]

log = logging.getLogger("ucs.ws")

PROTOCOL_VERSION = 1
_MAX_DEPTH = 64


_FAST = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
"""orjson as the standard library would write: keys that are not text as text, dataclasses
and dates through ``default`` (``str``), as ``json.dumps`` sends them there."""


def encode(message: dict[str, Any]) -> str:
    """One message as strict JSON (what a browser's ``JSON.parse`` accepts).

    Values JSON cannot carry (NaN, infinities: from data the REST API took, say) go out as
    ``null``, as ``JSON.stringify`` does, and nesting deeper than any message needs is cut
    off, rather than making the whole push fail.

    The text is the standard library's (``json.dumps``, ASCII only), written by orjson (5-10
    times faster: a push's JSON took a tenth of the event loop's CPU at 200 calls/s,
    docs/performance.md, "The event loop's share") when it is ASCII without DEL, which
    orjson does not escape; else, and for what orjson refuses, by the standard library. The
    one difference: a float below 1e-4 or from 1e16 is written in orjson's notation
    (``0.00001``, ``1e16``; Python's ``1e-05``, ``1e+16``), the same number to any reader.
    """
    body = {"v": PROTOCOL_VERSION, **message}
    try:
        fast = orjson.dumps(body, default=str, option=_FAST)
    except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
        fast = b""
    if fast and fast.isascii() and b"\x7f" not in fast:
        return fast.decode("ascii")
    return _standard(body, message)


def _standard(body: dict[str, Any], message: dict[str, Any]) -> str:
    try:
        return json.dumps(body, separators=(",", ":"), default=str, allow_nan=False)
    except (ValueError, RecursionError):
        log.warning("message of type %r had values JSON cannot carry", message.get("type"))
        return json.dumps(_plain(body, 0), separators=(",", ":"), default=str)


def _plain(value: Any, depth: int) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict | list | tuple):
        if depth >= _MAX_DEPTH:
            return None
        if isinstance(value, dict):
            return {k: _plain(v, depth + 1) for k, v in value.items()}
        return [_plain(v, depth + 1) for v in value]
    return value


@dataclass(eq=False)
class Connection:
    """One WebSocket's send queue. ``close`` ends it: the socket's task (``ws.py``) wakes on
    ``ended``, sends what is queued (unless the connection overflowed) and closes the socket
    with ``code``."""

    id: ClientId
    limit: int
    queue: asyncio.Queue[str | None] = field(init=False)
    ended: asyncio.Future[None] = field(init=False)
    """Done when the connection is closed (a future, not an event and a task waiting on it:
    thousands of connections each keep one)."""
    closed: bool = False
    overflowed: bool = False
    code: int = 1000

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.limit)
        self.ended = asyncio.get_running_loop().create_future()

    def send(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close(1013)  # try again later: it reconnects and resumes

    def close(self, code: int = 1000) -> None:
        if self.closed:
            return
        self.closed = True
        self.code = code
        if self.overflowed:
            self.discard()  # nobody will read it: let the messages go now
        while True:  # make room for the end marker
            try:
                self.queue.put_nowait(None)
                break
            except asyncio.QueueFull:
                self.queue.get_nowait()
        if not self.ended.done():
            self.ended.set_result(None)

    def discard(self) -> None:
        """Drop whatever is still queued."""
        while not self.queue.empty():
            self.queue.get_nowait()


class Hub:
    """Delivers the core's pushes and sends to connections."""

    def __init__(
        self,
        clients_of: Callable[[AgentId], Iterable[ClientId]],
        *,
        history: int = 100,
        queue_limit: int = 1000,
    ) -> None:
        self.clients_of = clients_of
        self.history_size = history
        self.queue_limit = queue_limit
        self.connections: dict[ClientId, Connection] = {}
        self.seq: dict[AgentId, int] = {}
        # Sequence numbers start from the start time in milliseconds, so that they only grow,
        # across restarts too: a client's last number is never ahead of a new server's.
        self.base = int(time.time() * 1000)
        self.history: dict[AgentId, deque[tuple[int, str]]] = {}
        self._next = 0
        self._last_body: object = None
        self._last_type = self._last_head = self._last_rest = ""

    def open(self) -> Connection:
        self._next += 1
        conn = Connection(ClientId(self._next), self.queue_limit)
        self.connections[conn.id] = conn
        return conn

    def forget(self, conn: Connection) -> None:
        conn.close()
        self.connections.pop(conn.id, None)

    def deliver(self, effect: Effect) -> None:
        if isinstance(effect, Push):
            seq = self.seq.get(effect.agent, self.base) + 1
            self.seq[effect.agent] = seq
            text = self._push_text(effect, seq)
            kept = self.history.setdefault(effect.agent, deque(maxlen=self.history_size))
            kept.append((seq, text))
            for client in list(self.clients_of(effect.agent)):
                conn = self.connections.get(client)
                if conn is not None:
                    conn.send(text)
        elif isinstance(effect, Send):
            conn = self.connections.get(effect.client)
            if conn is not None:
                conn.send(encode({"type": effect.type, **effect.body}))

    def _push_text(self, push: Push, seq: int) -> str:
        """The push as sent. A body pushed to several agents in a row (the same object: a
        team view's changes to supervisors of the same team) is encoded once."""
        if push.body is self._last_body and push.type == self._last_type:
            return f"{self._last_head}{seq}{self._last_rest}"
        text = encode({"type": push.type, "seq": seq, **push.body})
        head = f'{{"v":{PROTOCOL_VERSION},"type":{json.dumps(push.type)},"seq":'
        if text.startswith(f"{head}{seq}"):
            self._last_body, self._last_type, self._last_head = push.body, push.type, head
            self._last_rest = text[len(head) + len(str(seq)) :]
        else:
            self._last_body = None
        return text

    def missed(self, agent: AgentId, after: int) -> list[str] | None:
        """The pushes to ``agent`` after sequence ``after``; None when some are no longer kept."""
        kept = self.history.get(agent, deque())
        current = self.current(agent)
        if after == current:
            return []
        if after > current:
            return None  # numbers from before a restart: only the snapshot can tell
        if not kept or kept[0][0] > after + 1:
            return None
        return [text for seq, text in kept if seq > after]

    def current(self, agent: AgentId) -> int:
        """The sequence number of the agent's last push."""
        return self.seq.get(agent, self.base)

    def forget_agent(self, agent: AgentId) -> None:
        """The agent logged out: its history is of no use to anyone."""
        self.history.pop(agent, None)
