"""The hub: every WebSocket connection, and what each agent's session was told.

Pushes to an agent get the session's next sequence number and are kept (the last
``history`` of them) so that a reconnecting connection can catch up. Each connection has a
bounded send queue: a connection too slow to keep up is closed, never waited for, and resumes
when it reconnects.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ucs.core.effects import Effect, Push, Send
from ucs.core.ids import AgentId, ClientId

__all__ = ["PROTOCOL_VERSION", "Connection", "Hub", "encode"]

PROTOCOL_VERSION = 1


def encode(message: dict[str, Any]) -> str:
    return json.dumps({"v": PROTOCOL_VERSION, **message}, separators=(",", ":"), default=str)


@dataclass(eq=False)
class Connection:
    id: ClientId
    limit: int
    queue: asyncio.Queue[str | None] = field(init=False)
    closed: bool = False
    overflowed: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.limit)

    def send(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            while True:  # make room for the end marker
                try:
                    self.queue.put_nowait(None)
                    break
                except asyncio.QueueFull:
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
            text = encode({"type": effect.type, "seq": seq, **effect.body})
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
