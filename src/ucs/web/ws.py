"""The operator protocol (docs/protocol.md) over one WebSocket per connection."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from ucs.core.effects import Refuse, Reply
from ucs.core.events import Attach, Command, Connect, Disconnect
from ucs.core.ids import RequestId
from ucs.web.hub import Connection, encode

if TYPE_CHECKING:
    from ucs.web.server import Server

__all__ = ["MAX_MESSAGE", "operator_socket"]

log = logging.getLogger("ucs.ws")

MAX_MESSAGE = 64 * 1024
"""Largest message a client may send, in bytes."""
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


class _Session:
    """What one connection remembers: its token and the answers to its recent requests."""

    def __init__(self, server: Server, conn: Connection) -> None:
        self.server = server
        self.conn = conn
        self.token: str | None = None
        self.answers: OrderedDict[str, str] = OrderedDict()

    async def handle(self, text: str) -> None:
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
        if isinstance(resume, dict):
            agent = server.tokens.agent(resume.get("session"))
            raw_seq = resume.get("seq")
            seq = raw_seq if isinstance(raw_seq, int) and raw_seq >= 0 else 0
        if agent is None or agent not in server.center.sessions:
            self.conn.send(encode({"type": "hello", "protocol": 1, "resumed": False}))
            if isinstance(resume, dict):
                self.conn.send(encode({"type": "session.ended"}))
            return
        self.token = resume["session"] if isinstance(resume, dict) else None
        self.conn.send(encode({"type": "hello", "protocol": 1, "resumed": True}))
        for text in server.hub.missed(agent, seq) or []:
            self.conn.send(text)
        server.engine.submit(Attach(self.conn.id, agent))

    async def request(self, msg: dict[str, Any]) -> None:
        rid = msg.get("id")
        if isinstance(rid, bool) or not isinstance(rid, str | int) or len(str(rid)) > 64:
            self.conn.send(_protocol_error("request needs an id (a string or number)"))
            return
        key = f"{self.token or ''}/{rid}"
        if key in self.answers:  # a retry of a request already carried out
            self.conn.send(self.answers[key])
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
        if method == "login" and isinstance(args, list) and len(args) >= 2:
            # Check the password off the event loop (argon2 takes milliseconds); the core
            # then only looks the answer up.
            await server.verify_ahead(args[0], args[1])
        before = server.center.clients.get(self.conn.id)
        try:
            command = Command(self.conn.id, RequestId(str(rid)), method, args)
            effects = server.engine.submit(command)
        except Exception:
            log.exception("request %r (%s) failed", rid, method)
            self.conn.send(
                encode(
                    {
                        "type": "error",
                        "id": rid,
                        "code": "INTERNAL_ERROR",
                        "message": "the server failed to carry out the request",
                    }
                )
            )
            return
        finally:
            if method == "login" and isinstance(args, list) and len(args) >= 2:
                server.forget_ahead(args[0], args[1])
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
                    result = {**result, "session": self.token}
            elif method == "logout" and before is not None:
                server.revoke_tokens(before)
                server.hub.forget_agent(before)
                self.token = None
            text = encode({"type": "result", "id": rid, "result": result})
        self.answers[f"{self.token or ''}/{rid}"] = text
        while len(self.answers) > _REPLAY_CACHE:
            self.answers.popitem(last=False)
        self.conn.send(text)


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
        server.engine.submit(Disconnect(conn.id))
        server.hub.forget(conn)
        if not pump.done():
            pump.cancel()
            try:
                await pump
            except (asyncio.CancelledError, Exception):
                pass
