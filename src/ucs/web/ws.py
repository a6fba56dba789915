"""The operator protocol (docs/protocol.md) over one WebSocket per connection.

Besides the protocol, each connection is held to three limits (docs/security.md): it must say
``hello`` within the hello deadline (else it is closed, 4408); its client address may hold only
so many connections without a session (``admission.py``: more are refused, HTTP 429); and a
session may have only so many connections (the one that would pass the limit is refused, 4429).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from ucs.core.effects import Refuse, Reply
from ucs.core.events import Attach, Command, Connect, Disconnect
from ucs.core.ids import AgentId, RequestId
from ucs.runtime.tokens import token_digest
from ucs.web import frames, handoff
from ucs.web.admission import Admission, Ticket
from ucs.web.api.plain import MAX_DEPTH, unplain
from ucs.web.hub import Connection, encode
from ucs.web.media import is_media, media_request
from ucs.web.replay import Answers

if TYPE_CHECKING:
    from ucs.web.server import Server

__all__ = [
    "BURST",
    "HELLO_LATE",
    "MAX_DEPTH",
    "MAX_MESSAGE",
    "RATE",
    "TOO_MANY_CONNECTIONS",
    "operator_socket",
]

log = logging.getLogger("ucs.ws")

MAX_MESSAGE = 64 * 1024
"""Largest message a client may send, in bytes."""
RATE = 50.0
"""Messages a second a connection may send, on average …"""
BURST = 200.0
"""… and at once. Beyond that its messages are refused; a connection that keeps on is closed."""
_FLOODED = 1008
"""Close code of a connection that kept on flooding (policy violation)."""
HELLO_LATE = 4408
"""Close code of a connection that did not say ``hello`` in time."""
TOO_MANY_CONNECTIONS = 4429
"""Close code of a connection that would pass its session's limit of connections."""
_FLUSH = 10.0
"""Seconds a closing connection gets to take what was queued for it, and the close frame."""


class _Malformed(ValueError):
    """A message the protocol cannot take; the text says why, and ``request`` is its id
    when it could be read all the same."""

    def __init__(self, message: str, request: str | int | None = None) -> None:
        super().__init__(message)
        self.request = request


def _parse(text: str) -> Any:
    """The message as JSON, strictly: no NaN or infinities, which the server would otherwise
    pass on to browsers that cannot read them; no lone surrogates, which are no text; no
    nesting deeper than ``MAX_DEPTH``, which nothing needs and recursion cannot afford."""
    numbers: list[str] = []  # what JSON has no number for

    def constant(name: str) -> None:
        numbers.append(name)

    def finite(literal: str) -> float | None:
        value = float(literal)
        if math.isfinite(value):
            return value
        numbers.append(literal)
        return None

    # Only messages with that many brackets can be that deep, and only escapes make surrogates.
    deep = text.count("[") + text.count("{") > MAX_DEPTH
    # A deep message takes the parser near the interpreter's recursion limit; a garbage
    # collection there would call its callbacks (the GC pause monitor) with no stack left.
    paused = deep and gc.isenabled()
    if paused:
        gc.disable()
    try:
        value = json.loads(text, parse_constant=constant, parse_float=finite)
    except RecursionError:
        raise _Malformed(f"message is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise _Malformed("message is not JSON") from None
    finally:
        if paused:
            gc.enable()
    if numbers:
        message = f"message is not JSON: {numbers[0][:32]} is no number JSON can carry"
        raise _Malformed(message, _readable_id(value))
    if deep or "\\u" in text:
        try:
            _check(value)
        except _Malformed as refused:
            refused.request = _readable_id(value)
            raise
    return value


def _readable_id(msg: Any) -> str | int | None:
    """The id of a message that was read but refused: if it has one, and it is text."""
    rid = _valid_id(msg.get("id")) if isinstance(msg, dict) else None
    try:
        _check(rid)
    except _Malformed:
        return None
    return rid


def _check(value: Any) -> None:
    why = unplain(value)
    if why is not None:
        raise _Malformed(f"message is not plain JSON: {why}")


def _valid_id(rid: object) -> str | int | None:
    """A request id as the protocol allows it: a string or integer of at most 64 characters."""
    if isinstance(rid, bool) or not isinstance(rid, str | int) or len(str(rid)) > 64:
        return None
    return rid


def _peek_id(text: str) -> str | int | None:
    """The id of a message that is refused before it is read (too large, too many), so that
    the client's request still gets its answer. A very large one is not read at all."""
    if len(text) > 4 * MAX_MESSAGE:
        return None
    try:
        msg = _parse(text)
    except _Malformed as refused:
        return refused.request
    return _valid_id(msg.get("id")) if isinstance(msg, dict) else None


def _error(code: str, message: str, request: object = None) -> str:
    body: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if request is not None:
        body["id"] = request
    return encode(body)


def _protocol_error(message: str, request: object = None) -> str:
    return _error("INVALID_ARGUMENT", message, request)


_ENDED = encode({"type": "session.ended"})
"""What a connection is told when it loses its session (here or in another tab)."""


async def _pump(ws: WebSocket, conn: Connection, ended: Callable[[], None]) -> None:
    """Send what is queued for the connection, until the end marker; call ``ended`` when the
    connection is told that its session ended. What one step queued (a call's change, the
    agent's, the request's answer) goes out together, in one write (``frames.py``)."""
    write = frames.writer(ws)
    queue = conn.queue
    while True:
        text = await queue.get()
        if text is None:
            return
        batch = [text]
        last = False
        while not queue.empty():
            more = queue.get_nowait()
            if more is None:
                last = True
                break
            batch.append(more)
        if _ENDED in batch:
            ended()
        if write is None or not write(batch):
            for each in batch:
                await ws.send_text(each)
        if last:
            return


def _credentials(method: str, args: list[Any] | dict[str, Any]) -> tuple[Any, Any] | None:
    """The username and password of a ``login`` request, positional or by name."""
    if method != "login":
        return None
    if isinstance(args, list):
        return (args[0], args[1]) if len(args) >= 2 else None
    return args.get("username"), args.get("password")


def _username(args: list[Any] | dict[str, Any]) -> Any:
    """The username of a ``login`` or ``sso`` request, positional or by name."""
    if isinstance(args, list):
        return args[0] if args else None
    return args.get("username")


class _Protocol:
    """One connection's protocol state (not the agent's session, which is the core's
    ``Session``): its session token, if it has one; whether it said
    hello; why it was closed, when the server closed it for a reason worth telling."""

    def __init__(self, server: Server, conn: Connection) -> None:
        self.server = server
        self.conn = conn
        self._token: str | None = None
        self._answers_key = f"c:{conn.id}"
        self.greeted = False
        self.moved: dict[str, Any] | None = None
        """Where the session this connection tried to resume is (another node's partition)."""
        self.reason = ""
        self.allowance = BURST
        self.refused = 0.0
        self.checked = time.monotonic()

    @property
    def token(self) -> str | None:
        """The session token this connection logged in or resumed with."""
        return self._token

    @token.setter
    def token(self, token: str | None) -> None:
        self._token = token
        # The key of the kept answers, by the token's digest (worked out once, not per request)
        self._answers_key = f"t:{token_digest(token)}" if token else f"c:{self.conn.id}"

    def _within_rate(self) -> bool:
        """A token bucket per connection, so that a flood never slows anyone else. Refused
        messages fill a second bucket that drains at the same rate: a connection that goes
        on sending faster than it is allowed, long after its burst, is closed."""
        now = time.monotonic()
        elapsed = now - self.checked
        self.checked = now
        self.allowance = min(BURST, self.allowance + elapsed * RATE)
        self.refused = max(0.0, self.refused - elapsed * RATE)
        if self.allowance >= 1:
            self.allowance -= 1
            return True
        self.refused += 1
        if self.refused > BURST:
            self.conn.close(_FLOODED)
        return False

    def close(self, code: int, reason: str) -> None:
        self.reason = reason
        self.conn.close(code)

    def hello_late(self) -> None:
        if not self.greeted:
            timeout = self.server.settings.hello_timeout
            self.close(HELLO_LATE, f"no hello within {timeout:g} s")

    def _crowded(self, agent: AgentId, joined: bool) -> str | None:
        """Why this connection may not be one of the agent's session (``joined``: it is one
        already): the session has as many connections as it may. None when it may."""
        connections = self.server.center.connections_of(agent)
        most = self.server.settings.connections_per_session
        if connections is None or len(connections) - joined < most:
            return None
        return f"the session has {most} connections already"

    def _answers(self) -> Answers:
        """Answers to recent requests, kept by the server per session token (so that they
        outlive a reconnect; by its digest, like everything kept of it) or, before login, per
        connection."""
        return self.server.answers.setdefault(self._answers_key, Answers())

    async def handle(self, text: str) -> None:
        if not self._within_rate():
            message = f"more than {int(RATE)} messages a second"
            self.conn.send(_error("TOO_MANY_REQUESTS", message, _peek_id(text)))
            return
        if len(text) > MAX_MESSAGE or len(text.encode("utf-8")) > MAX_MESSAGE:
            message = f"message larger than {MAX_MESSAGE} bytes"
            self.conn.send(_protocol_error(message, _peek_id(text)))
            return
        try:
            msg = _parse(text)
        except _Malformed as refused:
            self.conn.send(_protocol_error(str(refused), refused.request))
            return
        if not isinstance(msg, dict):
            self.conn.send(_protocol_error("message must be a JSON object"))
            return
        kind = msg.get("type")
        try:
            if kind == "request" and is_media(msg.get("method")):  # web/media.py
                await media_request(self.server, self.conn, msg)
            elif kind == "request":
                await self.request(msg)
            elif kind == "hello":
                await self.hello(msg)
            elif kind == "ping":
                self.conn.send(encode({"type": "pong"}))
            else:
                message = f"unknown message type {str(kind)[:64]!r}"
                self.conn.send(_protocol_error(message, _valid_id(msg.get("id"))))
        except Exception:
            # A bug: logged, answered, and the connection stays open (docs/protocol.md).
            rid = _valid_id(msg.get("id"))
            log.exception("message %r of type %r failed", rid, str(kind)[:64])
            failure = "the server failed to carry out the request"
            self.conn.send(_error("INTERNAL_ERROR", failure, rid))

    async def hello(self, msg: dict[str, Any]) -> None:
        self.greeted = True
        resume = msg.get("resume")
        server = self.server
        agent = None
        seq = 0
        token = None
        if isinstance(resume, dict):
            token = resume.get("session")
            moved = await handoff.for_token(server, token)
            if moved is not None:  # another node runs the session's partition (a cluster)
                self.moved = moved  # and the requests that follow the hello are sent there
                self.conn.send(encode({"type": "hello", "protocol": 1, "resumed": False, **moved}))
                return
            agent = server.tokens.agent(token)
            raw_seq = resume.get("seq")
            seq = raw_seq if isinstance(raw_seq, int) and raw_seq >= 0 else 0
        if agent is None or not server.center.logged_in(agent) or not isinstance(token, str):
            self.conn.send(encode({"type": "hello", "protocol": 1, "resumed": False}))
            if isinstance(resume, dict):
                self.conn.send(encode({"type": "session.ended"}))
            return
        crowded = self._crowded(agent, joined=False)
        if crowded is not None:  # refused before it joins: it may try again later
            self.close(TOO_MANY_CONNECTIONS, crowded)
            return
        self.token = token
        current = server.hub.current(agent)
        self.conn.send(encode({"type": "hello", "protocol": 1, "resumed": True, "seq": current}))
        for text in server.hub.missed(agent, seq) or []:
            self.conn.send(text)
        server.engine.submit(Attach(self.conn.id, agent))

    async def request(self, msg: dict[str, Any]) -> None:
        rid = _valid_id(msg.get("id"))
        if rid is None:
            self.conn.send(_protocol_error("request needs an id (a string or number)"))
            return
        answers = self._answers()
        key = json.dumps(rid)  # the id 7 and the id "7" are two requests
        again = answers.get(key)
        if again is not None:  # a retry of a request already carried out
            self.conn.send(again)
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
        if method in ("login", "sso") and server.lease is not None:
            moved = await handoff.for_username(server, _username(args))
            if moved is not None:  # answered by the node that runs the agent's partition
                where = moved["url"] or "no node just now: try again in a moment"
                said = f"the agent is served by another node: {where}"
                self.conn.send(
                    encode(
                        {
                            "type": "error",
                            "id": rid,
                            "code": handoff.MOVED,
                            "message": said,
                            **moved,
                        }
                    )
                )
                return
        credentials = _credentials(method, args)
        try:
            if credentials is not None:
                # Check the password off the event loop (argon2 takes milliseconds); the core
                # then only looks the answer up.
                await server.verify_ahead(*credentials)
            command = Command(self.conn.id, RequestId(str(rid)), method, args)
            effects = server.engine.submit(command)
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
            agent = server.center.agent_of(self.conn.id)
            if method in ("login", "sso") and isinstance(result, dict) and agent is not None:
                crowded = self._crowded(agent, joined=True)
                if crowded is not None:  # it leaves the session as it closes, with no token
                    self.conn.send(_error("TOO_MANY_CONNECTIONS", crowded, rid))
                    self.close(TOO_MANY_CONNECTIONS, crowded)
                    return
                self.token = server.issue_token(agent)
                answers = self._answers()
                result = {**result, "token": self.token, "seq": server.hub.current(agent)}
            elif method == "logout":
                self.token = None
            text = encode({"type": "result", "id": rid, "result": result})
        answers.keep(key, text)
        self.conn.send(text)

    def closed(self) -> None:
        self.server.answers.pop(f"c:{self.conn.id}", None)


async def _read(
    ws: WebSocket, conn: Connection, proto: _Protocol, admission: Admission, ticket: Ticket
) -> None:
    """Carry out what the client sends, one message after the other, until it leaves."""
    while not conn.closed:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            data = message.get("bytes") or b""
            text = data.decode("utf-8", errors="replace")
        await proto.handle(text)
        admission.settle(ticket)  # it may have logged in or out


async def operator_socket(ws: WebSocket, server: Server, admission: Admission) -> None:
    """Serve one component or SDK connection until it closes.

    A connection from an address that holds too many connections without a session is refused
    before it opens (HTTP 429, ``admission.py``). Then four things end it: the client leaves;
    it does not say hello in time (``_Protocol.hello_late``); the client floods
    (``_Protocol._within_rate``); or its send queue overflows because it does not read
    (``Connection.send``). The last three close the queue, which wakes this task even while
    the client sends nothing and its socket takes nothing. The connection then leaves its
    session at once; the socket gets what was queued (a flood's answers; nothing after an
    overflow) and the close frame, if the client takes them within ``_FLUSH`` seconds.
    """
    ticket = admission.admit(ws.client.host if ws.client else "")
    if ticket is None:
        await _refuse(ws, admission.per_address)
        return
    try:
        await _serve(ws, server, admission, ticket)
    finally:
        admission.leave(ticket)


async def _refuse(ws: WebSocket, most: int) -> None:
    """Refuse the handshake: 429 with the reason where the server can say it, else 403."""
    why = f"this address has {most} connections waiting to log in already\n"
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(PlainTextResponse(why, status_code=429))
    else:
        await ws.close(code=TOO_MANY_CONNECTIONS, reason=why.strip())


async def _serve(ws: WebSocket, server: Server, admission: Admission, ticket: Ticket) -> None:
    await ws.accept()
    conn = server.hub.open()
    ticket.client = conn.id
    proto = _Protocol(server, conn)
    server.engine.submit(Connect(conn.id))
    hello = asyncio.get_running_loop().call_later(server.settings.hello_timeout, proto.hello_late)
    pump = asyncio.create_task(_pump(ws, conn, lambda: admission.settle(ticket)))
    reader = asyncio.create_task(_read(ws, conn, proto, admission, ticket))
    cancelled = False
    try:
        await asyncio.wait((reader, pump, conn.ended), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        cancelled = True
        raise
    finally:
        hello.cancel()
        left = reader.done() and not conn.closed  # the client went away
        reader.cancel()
        try:
            proto.closed()
            server.engine.submit(Disconnect(conn.id))
        except Exception:
            log.exception("connection %s: leaving its session failed", conn.id)
        server.hub.forget(conn)
        failure = await _outcome(reader)
        if failure is not None:  # a bug: this connection ends (1011), the server goes on
            log.error("connection %s failed", conn.id, exc_info=failure)
            left, conn.code = False, 1011
        if left or cancelled or conn.overflowed:
            pump.cancel()
        if not (left or cancelled):
            await _close(ws, conn, pump, proto.reason)
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)


async def _outcome(task: asyncio.Task[None]) -> BaseException | None:
    """How the task ended: the exception it failed with, if any (cancelled is no failure)."""
    try:
        await task
    except (asyncio.CancelledError, WebSocketDisconnect):
        return None
    except Exception as failure:
        return failure
    return None


async def _close(
    ws: WebSocket, conn: Connection, pump: asyncio.Task[None], reason: str = ""
) -> None:
    """Send what is still queued (unless the connection overflowed: then nothing, and the
    pump is cancelled), then the close frame with the connection's code and ``reason``, if
    the client takes them in time."""
    try:
        async with asyncio.timeout(_FLUSH):
            if not conn.overflowed:
                await pump
            await ws.close(code=conn.code, reason=reason)
    except Exception:  # the client is gone, or takes nothing: the socket closes all the same
        log.debug("connection %s closed without its close frame", conn.id)
