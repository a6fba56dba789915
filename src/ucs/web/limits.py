"""Request bodies: how large an HTTP request's body may be, and how long it may take to arrive.

``BodyLimit`` sits in front of FastAPI, which would otherwise read and parse any body whole on
the event loop. A ``Content-Length`` over the route's limit is answered 413 before a byte of the
body is read; a body sent in chunks is counted as it arrives and answered 413 the moment it
passes the limit; a body that has not arrived whole within ``timeout`` seconds of its request
is answered 408. Each of these answers closes the connection, and the application, if it was
reading, finds the client gone: it has changed nothing, since nothing acts on a body it has
not got whole.

Limits are per route prefix (the longest one that matches), so that a route that takes large
uploads can be given more than the rest.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_BODY", "DEFAULT_BODY_TIMEOUT", "BodyLimit", "has_body"]

DEFAULT_BODY = 1024 * 1024
"""Largest request body, in bytes, unless a route prefix is given another limit."""
DEFAULT_BODY_TIMEOUT = 30.0
"""Seconds a request's body may take to arrive whole (1 MiB at some 35 KB/s)."""

_GONE: Message = {"type": "http.disconnect"}


def has_body(scope: Scope) -> bool:
    """Whether the request announces a body (a length other than 0, or chunks)."""
    for name, value in scope.get("headers") or ():
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``, if it has one (the HTTP parser checked its form)."""
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, status: int, text: str) -> None:
    body = json.dumps({"detail": text}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: at most ``default`` bytes of body per request, or the limit of the
    longest prefix in ``routes`` that the path starts with; the whole body within ``timeout``
    seconds."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int = DEFAULT_BODY,
        routes: Mapping[str, int] | None = None,
        timeout: float = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        self.app = app
        self.default = default
        self.routes = sorted((routes or {}).items(), key=lambda item: -len(item[0]))
        self.timeout = timeout

    def limit_for(self, path: str) -> int:
        """The body limit of a request for ``path``."""
        return next(
            (limit for prefix, limit in self.routes if path.startswith(prefix)), self.default
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_body(scope):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, 413, f"the body is larger than {limit} bytes")
            return
        await _Body(limit, asyncio.get_running_loop().time() + self.timeout, receive, send).run(
            self.app, scope
        )


class _Body:
    """One request whose body is counted and timed as the application reads it."""

    def __init__(self, limit: int, deadline: float, receive: Receive, send: Send) -> None:
        self.limit, self.deadline = limit, deadline
        self._receive, self._send = receive, send
        self.received = 0
        self.whole = False
        """The last of the body has arrived: from here on, messages pass untouched."""
        self.started = False
        self.answered = False
        """Refused here: whatever the application still sends is dropped."""

    async def run(self, app: ASGIApp, scope: Scope) -> None:
        await app(scope, self.receive, self.send)

    async def receive(self) -> Message:
        if self.answered:
            return _GONE
        if self.whole:
            return await self._receive()
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            return await self._refuse(408, "the body did not arrive in time")
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                return await self._refuse(413, f"the body is larger than {self.limit} bytes")
            self.whole = not message.get("more_body", False)
        return message

    async def send(self, message: Message) -> None:
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def _refuse(self, status: int, text: str) -> Message:
        if not self.started:  # else the answer is under way: the connection just ends
            await _refuse(self._send, status, text)
        self.answered = True
        return _GONE
