"""The operator protocol (docs/protocol.md) over one WebSocket per connection."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from ucs.core.effects import Refuse, Reply
from ucs.core.events import Attach, Command, Connect, Disconnect
from ucs.core.ids import RequestId
from ucs.web.hub import Connection, encode

if TYPE_CHECKING:
    from ucs.web.server import Server

__all__ = ["BURST", "MAX_MESSAGE", "RATE", "operator_socket"]

log = logging.getLogger("ucs.ws")

MAX_MESSAGE = 64 * 1024
"""Largest message a client may send, in bytes."""
RATE = 50.0
"""Messages a second a connection may send, on average …"""
BURST = 200.0
"""… and at once. Beyond that its messages are refused; a connection that keeps on is closed."""
_REPLAY_CACHE = 256


def _protocol_error(message: str, request: object = None) -> str:
    body: dict[str, Any] = {"type": "error", "code": "INVALID_ARGUMENT", "message": message}
    if request is not None:
        body["id"] = request
    return encode(body)


async def _pump(ws: WebSocket, conn: Connection) -> None:
    while True:
        text = await conn.queue.get()
        if text is None:
            await ws.close(code=1013 if conn.overflowed else 1000)
            return
        await ws.send_text(text)


def _credentials(method: str, args: list[Any] | dict[str, Any]) -> tuple[Any, Any] | None:
    """The username and password of a ``login`` request, positional or by name."""
    if method != "login":
        return None
    if isinstance(args, list):
        return (args[0], args[1]) if len(args) >= 2 else None
    return args.get("username"), args.get("password")


class _Session:
    """One connection's protocol state: its session token, if it has one."""

    def __init__(self, server: Server, conn: Connection) -> None:
        self.server = server
        self.conn = conn
        self.token: str | None = None
        self.allowance = BURST
        self.checked = time.monotonic()
        self.refused = 0

    def _within_rate(self) -> bool:
        """A token bucket per connection, so that a flood never slows anyone else."""
        now = time.monotonic()
        self.allowance = min(BURST, self.allowance + (now - self.checked) * RATE)
        self.checked = now
        if self.allowance >= 1:
            self.allowance -= 1
            self.refused = 0
            return True
        self.refused += 1
        if self.refused > BURST:
            self.conn.close()
        return False

    def _answers(self) -> OrderedDict[str, str]:
        """Answers to recent requests, kept by the server per session token (so that they
        outlive a reconnect) or, before login, per connection."""
        key = f"t:{self.token}" if self.token else f"c:{self.conn.id}"
        return self.server.answers.setdefault(key, OrderedDict())

    async def handle(self, text: str) -> None:
        if not self._within_rate():
            self.conn.send(
                encode(
                    {
                        "type": "error",
                        "code": "TOO_MANY_REQUESTS",
                        "message": f"more than {int(RATE)} messages a second",
                    }
                )
            )
            return
        if len(text.encode("utf-8")) > MAX_MESSAGE:
            self.conn.send(_protocol_error(f"message larger than {MAX_MESSAGE} bytes"))
            return
        try:
            msg = json.loads(text)
        except ValueError:
            self.conn.send(_protocol_error("message is not JSON"))
            return
        if not isinstance(msg, dict):
            self.conn.send(_protocol_error("message must be a JSON object"))
            return
        kind = msg.get("type")
        if kind == "request":
            await self.request(msg)
        elif kind == "hello":
            self.hello(msg)
        elif kind == "ping":
            self.conn.send(encode({"type": "pong"}))
        else:
            self.conn.send(_protocol_error(f"unknown message type {kind!r}"))

    def hello(self, msg: dict[str, Any]) -> None:
        resume = msg.get("resume")
        server = self.server
        agent = None
        seq = 0
        token = None
        if isinstance(resume, dict):
            token = resume.get("session")
            agent = server.tokens.agent(token)
            raw_seq = resume.get("seq")
            seq = raw_seq if isinstance(raw_seq, int) and raw_seq >= 0 else 0
        if agent is None or agent not in server.center.sessions or not isinstance(token, str):
            self.conn.send(encode({"type": "hello", "protocol": 1, "resumed": False}))
            if isinstance(resume, dict):
                self.conn.send(encode({"type": "session.ended"}))
            return
        self.token = token
        current = server.hub.current(agent)
        self.conn.send(encode({"type": "hello", "protocol": 1, "resumed": True, "seq": current}))
        for text in server.hub.missed(agent, seq) or []:
            self.conn.send(text)
        server.engine.submit(Attach(self.conn.id, agent))

    async def request(self, msg: dict[str, Any]) -> None:
        rid = msg.get("id")
        if isinstance(rid, bool) or not isinstance(rid, str | int) or len(str(rid)) > 64:
            self.conn.send(_protocol_error("request needs an id (a string or number)"))
            return
        answers = self._answers()
        if str(rid) in answers:  # a retry of a request already carried out
            self.conn.send(answers[str(rid)])
            return
        method = msg.get("method")
        args = msg.get("args", [])
        if args is None:
            args = []
        if not isinstance(method, str) or not isinstance(args, list | dict):
            text = _protocol_error("request needs a method and args (a list or object)", rid)
            self.conn.send(text)
            return
        server = self.server
        credentials = _credentials(method, args)
        if credentials is not None:
            # Check the password off the event loop (argon2 takes milliseconds); the core
            # then only looks the answer up.
            await server.verify_ahead(*credentials)
        try:
            command = Command(self.conn.id, RequestId(str(rid)), method, args)
            effects = server.engine.submit(command)
        except Exception:
            log.exception("request %r (%s) failed", rid, method)
            failure = {"type": "error", "id": rid, "code": "INTERNAL_ERROR"}
            failure["message"] = "the server failed to carry out the request"
            self.conn.send(encode(failure))
            return
        finally:
            if credentials is not None:
                server.forget_ahead(*credentials)
        answer = next((e for e in effects if isinstance(e, Reply | Refuse)), None)
        if isinstance(answer, Refuse):
            text = encode(
                {"type": "error", "id": rid, "code": answer.code, "message": answer.message}
            )
        else:
            result = answer.result if answer is not None else None
            if method in ("login", "sso") and isinstance(result, dict):
                agent = server.center.clients.get(self.conn.id)
                if agent is not None:
                    self.token = server.issue_token(agent)
                    answers = self._answers()
                    result = {**result, "token": self.token, "seq": server.hub.current(agent)}
            elif method == "logout":
                self.token = None
            text = encode({"type": "result", "id": rid, "result": result})
        answers[str(rid)] = text
        while len(answers) > _REPLAY_CACHE:
            answers.popitem(last=False)
        self.conn.send(text)

    def closed(self) -> None:
        self.server.answers.pop(f"c:{self.conn.id}", None)


async def operator_socket(ws: WebSocket, server: Server) -> None:
    """Serve one component or SDK connection until it closes."""
    await ws.accept()
    conn = server.hub.open()
    session = _Session(server, conn)
    server.engine.submit(Connect(conn.id))
    pump = asyncio.create_task(_pump(ws, conn))
    try:
        while not conn.closed:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                text = data.decode("utf-8", errors="replace")
            await session.handle(text)
    except WebSocketDisconnect:
        pass
    finally:
        session.closed()
        server.engine.submit(Disconnect(conn.id))
        server.hub.forget(conn)
        if not pump.done():
            pump.cancel()
            try:
                await pump
            except (asyncio.CancelledError, Exception):
                pass
