"""``ucs.client.Operator``: the component's API in Python names, async first (CONTRACT §8).

One WebSocket to the server; requests carry ids and are answered by a result or a coded error;
events carry sequence numbers. When the connection drops, the client reconnects with backoff
(0.2 s doubling to 5 s, each wait drawn between half and all of it, so that the clients of a
node that went away do not all come back in the same millisecond), resumes its session from
the last sequence number it saw, and sends again the requests still waiting for an answer
(with the same ids, so the server never carries one out twice).

A node of a cluster that does not run the agent's partition hands the client on (docs/
protocol.md, "Hand-off"): the client connects where it is told and goes on there, and back
at the URL it was given when that node is gone (another node took its partition over).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

__all__ = ["Event", "EventStream", "Operator", "OperatorError"]

_HOPS = 4
"""Hand-offs in a row taken at once; more (nodes that disagree for a moment, during a
take-over) wait as a reconnect does."""
_BACKOFF = (0.2, 5.0)
"""A reconnect's first wait and its longest, in seconds; each wait is drawn between half of it
and all of it ("equal jitter")."""

_TYPES = {
    "call.changed": "call",
    "user.changed": "user",
    "session.changed": "state",
    "session.joined": "session",
    "session.ended": "logout",
    "reasons.changed": "reasons",
    "supervisor.acted": "supervisor",
    "error": "error",
}


class OperatorError(Exception):
    """A refused request; ``code`` is the wire code (INVALID_STATE, NOT_FOUND …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Event:
    """Something the server told this session: ``type`` is ``call``, ``user``, ``state``,
    ``session``, ``logout`` (``data["by"]``: the supervisor who did it, if one did),
    ``supervisor`` (a supervisor set the agent's status: ``data["by"]``, ``["status"]``,
    ``["reason"]``), ``reasons`` (the AUX reasons changed: ``data["reasons"]``) or ``error``."""

    type: str
    data: dict[str, Any]
    seq: int | None = None

    @property
    def call(self) -> dict[str, Any]:
        call: dict[str, Any] = self.data["call"]
        return call

    @property
    def what(self) -> str | None:
        """For ``call`` events: ``ringing``, ``connect``, ``hangup`` or ``change``."""
        what: str | None = self.data.get("what")
        return what

    @property
    def dispositions(self) -> dict[str, Any] | None:
        """For ``call`` events: the account codes the call may be given, ``{queue, codes:
        [{accountCode, label}], freeText}`` (the list of its queue; ``dispositions()``)."""
        found: dict[str, Any] | None = self.data.get("dispositions")
        return found

    @property
    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = self.data["user"]
        return user


class EventStream:
    """The events of one ``Operator.events()`` call, in order; ``close()`` stops listening."""

    def __init__(
        self, queue: asyncio.Queue[Event | None], listeners: list[asyncio.Queue[Event | None]]
    ):
        self._queue = queue
        self._listeners = listeners

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        event = await self._queue.get()
        if event is None:
            raise StopAsyncIteration
        return event

    def drain(self) -> list[Event]:
        """The events received and not yet taken, at once, without waiting."""
        taken = []
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if event is not None:
                taken.append(event)
        return taken

    def close(self) -> None:
        if self._queue in self._listeners:
            self._listeners.remove(self._queue)


def _ws_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/") + "/ws"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def _moved_to(msg: dict[str, Any]) -> str | None:
    """The node a hand-off names (``url``: an http(s) URL), or None when it names none."""
    url = msg.get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) < 2048:
        return url
    return None


@dataclass
class _Pending:
    message: str
    future: asyncio.Future[Any]


@dataclass
class Operator:
    """A connection to a ucs server acting for one agent."""

    url: str
    reconnect: bool = True
    timeout: float = 10.0
    source: str = ""
    """The local address to connect from, on a host with several (empty: the system's
    choice)."""
    _ws: ClientConnection | None = field(default=None, init=False, repr=False)
    _reader: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), init=False)
    _pending: dict[str, _Pending] = field(default_factory=dict, init=False, repr=False)
    _listeners: list[asyncio.Queue[Event | None]] = field(
        default_factory=list, init=False, repr=False
    )
    _session: str | None = field(default=None, init=False, repr=False)
    _seq: int = field(default=0, init=False, repr=False)
    _closing: bool = field(default=False, init=False, repr=False)
    _connected: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)
    _node: str | None = field(default=None, init=False, repr=False)
    """The node the client was handed on to (None: ``url``)."""
    _hops: int = field(default=0, init=False, repr=False)
    """Hand-offs since the last answer that was not one."""
    _moving: bool = field(default=False, init=False, repr=False)

    @property
    def server(self) -> str:
        """The URL of the node the client is connected to (or connects to next)."""
        return self._node or self.url

    # --- connection --------------------------------------------------------------------------

    async def __aenter__(self) -> Operator:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        await self._open()
        self._reader = asyncio.create_task(self._read_forever())

    async def _open(self) -> None:
        try:
            where: dict[str, Any] = {"local_addr": (self.source, 0)} if self.source else {}
            self._ws = await connect(_ws_url(self.server), max_size=16 * 1024 * 1024, **where)
        except (OSError, WebSocketException, TimeoutError):
            self._node = None  # the node handed on to is gone: back to the first address
            raise
        hello: dict[str, Any] = {"v": 1, "type": "hello"}
        if self._session is not None:
            hello["resume"] = {"session": self._session, "seq": self._seq}
        await self._ws.send(json.dumps(hello))
        for pending in list(self._pending.values()):
            await self._ws.send(pending.message)
        self._connected.set()

    async def close(self) -> None:
        self._closing = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._ws is not None:
            await self._ws.close()
        self._fail_pending("the operator was closed")
        for queue in self._listeners:
            queue.put_nowait(None)  # ends every events() iteration

    def _fail_pending(self, why: str) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(OperatorError("UNAVAILABLE", why))

    async def _read_forever(self) -> None:
        first, longest = _BACKOFF
        delay = first
        while not self._closing:
            ws = self._ws
            try:
                assert ws is not None
                async for raw in ws:
                    delay = first
                    self._receive(json.loads(raw))
            except (WebSocketException, OSError):
                pass
            self._connected.clear()
            if self._closing or not (self.reconnect or self._moving):
                break
            hop = self._moving and self._hops <= _HOPS and self._node is not None
            self._moving = False
            while not self._closing:
                await asyncio.sleep(0 if hop else random.uniform(delay / 2, delay))
                hop = False
                delay = min(delay * 2, longest)
                try:
                    await self._open()
                    break
                except (OSError, WebSocketException, TimeoutError):
                    continue  # the server is away or restarting: try again, with backoff
        self._fail_pending("the connection to the server was lost")

    def _move(self, url: str | None) -> None:
        """Hand-off: connect to ``url`` now (None: no node runs the agent's partition just
        now; try the first address again, after a while); requests waiting go there."""
        self._node = url
        self._hops += 1
        self._moving = True
        if self._ws is not None:
            task = asyncio.get_running_loop().create_task(self._ws.close())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def _receive(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "error" and msg.get("code") == "MOVED" and str(msg.get("id")) in self._pending:
            self._move(_moved_to(msg))  # the request waits, and is sent again there
            return
        if kind == "hello" and "partition" in msg and not msg.get("resumed"):
            self._move(_moved_to(msg))
            return
        if self._moving and kind in ("result", "error"):
            return  # a node's answer after it handed the client on: asked again there
        if kind in ("result", "error") or (kind == "hello" and msg.get("resumed")):
            self._hops = 0
        if kind in ("result", "error") and "id" in msg:
            pending = self._pending.pop(str(msg["id"]), None)
            if pending is None or pending.future.done():
                return
            if kind == "result":
                pending.future.set_result(msg.get("result"))
            else:
                pending.future.set_exception(OperatorError(msg["code"], msg["message"]))
            return
        if kind == "hello":
            if not msg.get("resumed"):
                self._seq = 0  # a new session: its numbers are new too
            elif isinstance(msg.get("seq"), int) and msg["seq"] < self._seq:
                self._seq = msg["seq"]
            return
        if isinstance(kind, str) and kind in _TYPES:
            seq = msg.get("seq")
            if isinstance(seq, int):
                if seq <= self._seq:
                    return  # already seen before a reconnect
                self._seq = seq
            if kind == "session.ended":
                self._session = None
            data = {k: v for k, v in msg.items() if k not in ("v", "type", "seq")}
            event = Event(_TYPES[kind], data, seq if isinstance(seq, int) else None)
            for queue in self._listeners:
                queue.put_nowait(event)

    async def _request(self, method: str, *args: Any) -> Any:
        rid = str(next(self._ids))
        message = json.dumps(
            {"v": 1, "type": "request", "id": rid, "method": method, "args": list(args)}
        )
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        try:
            self._pending[rid] = _Pending(message, future)
            async with asyncio.timeout(self.timeout):
                await self._connected.wait()
                if self._ws is not None:
                    with contextlib.suppress(WebSocketException):
                        await self._ws.send(message)  # else sent again on reconnect
                return await future
        except TimeoutError:
            raise OperatorError(
                "UNAVAILABLE", f"no answer from the server within {self.timeout} s"
            ) from None
        finally:
            self._pending.pop(rid, None)  # never sent again once the caller gave up

    def events(self) -> EventStream:
        """Every event from the moment this is called, as an async iterator."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._listeners.append(queue)
        return EventStream(queue, self._listeners)

    # --- the API -----------------------------------------------------------------------------

    async def login(self, username: str, password: str, remember: bool = False) -> Any:
        return self._joined(await self._request("login", username, password, remember))

    async def sso(self, username: str, token: str, provider: str | None = None) -> Any:
        return self._joined(await self._request("sso", username, token, provider))

    def _joined(self, result: Any) -> Any:
        if isinstance(result, dict):
            self._session = result.get("token")
            seq = result.get("seq")
            self._seq = seq if isinstance(seq, int) else 0
        return result

    async def logout(self) -> Any:
        result = await self._request("logout")
        self._session = None
        return result

    async def select_identifier(self, identifier: str) -> Any:
        return await self._request("selectIdentifier", identifier)

    async def provision(self) -> Any:
        return await self._request("provision")

    async def identify(self) -> Any:
        return await self._request("identify")

    async def change_status(self, status: str, reason: str | None = None) -> Any:
        return await self._request("changeStatus", status, reason)

    async def suspend(self, queue: int) -> Any:
        return await self._request("suspend", queue)

    async def resume(self, queue: int) -> Any:
        return await self._request("resume", queue)

    async def answer(self) -> Any:
        return await self._request("answer")

    async def dial(
        self,
        number: str,
        queue: int | str | None = None,
        line: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:
        return await self._request("dial", number, queue, line, data)

    async def hangup(self) -> Any:
        return await self._request("hangup")

    async def transfer(self, number: str | None = None) -> Any:
        return await self._request("transfer", number)

    async def finish_transfer(self) -> Any:
        return await self._request("finishTransfer")

    async def blind_transfer(self, number: str) -> Any:
        return await self._request("blindTransfer", number)

    async def hold(self) -> Any:
        return await self._request("hold")

    async def unhold(self) -> Any:
        return await self._request("unhold")

    async def mute(self) -> Any:
        return await self._request("mute")

    async def set_account_code(
        self,
        uniqueid: str,
        account_code: str,
        sub_account_code: str | None = None,
        override: bool = False,
    ) -> Any:
        return await self._request(
            "setAccountCode", uniqueid, account_code, sub_account_code, override
        )

    async def dispositions(self, uniqueid: str) -> Any:
        """The account codes one of the agent's calls may be given: ``{queue, codes:
        [{accountCode, label}], freeText}`` (the list of the call's queue; ``freeText``:
        codes not on it are taken too)."""
        return await self._request("dispositions", uniqueid)

    async def state(self) -> Any:
        return await self._request("state")

    async def directory(self) -> Any:
        """The transfer directory: every other agent with status and extension, and the
        incoming queues with callers waiting (docs/protocol.md)."""
        return await self._request("directory")

    async def team(self) -> Any:
        """Supervisors: their queues with today's figures and their agents (CONTRACT §11)."""
        return await self._request("team")

    async def set_agent_status(self, user_id: int, status: str, reason: str | None = None) -> Any:
        """Supervisors: set the status of an agent of their team."""
        return await self._request("setAgentStatus", user_id, status, reason)

    async def logout_agent(self, user_id: int) -> Any:
        """Supervisors: log out an agent of their team."""
        return await self._request("logoutAgent", user_id)

    async def listen(self, user_id: int) -> Any:
        """Supervisors: hear the connected call of an agent of their team, heard by nobody
        (the supervisor's softphone joins it)."""
        return await self._request("listen", user_id)

    async def whisper(self, user_id: int) -> Any:
        """Supervisors: be heard by the agent only (the caller does not hear them)."""
        return await self._request("whisper", user_id)

    async def barge(self, user_id: int) -> Any:
        """Supervisors: join the agent's call, heard by both sides."""
        return await self._request("barge", user_id)

    async def start_recording(self) -> Any:
        """Record the connected call in focus (or go on after a pause); the Call."""
        return await self._request("startRecording")

    async def stop_recording(self) -> Any:
        """Pause the recording of the connected call in focus; the Call."""
        return await self._request("stopRecording")

    async def select_ringing_sound(self, sound: str) -> Any:
        return await self._request("selectRingingSound", sound)

    async def set_theme(self, theme: str) -> Any:
        return await self._request("setTheme", theme)
