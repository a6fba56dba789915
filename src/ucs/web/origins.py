"""The origin allow-list (CONTRACT §1): checked on every HTTP and WebSocket request that carries
an ``Origin``; an allowed origin gets CORS headers and answers to Chromium's private-network
preflight (``Access-Control-Allow-Private-Network: true``)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["OriginPolicy", "own_origins"]


def own_origins(host: str, port: int) -> list[str]:
    """The origins of the server's own pages for a configured ``host`` and ``port``."""
    names = {host}
    if host in ("127.0.0.1", "localhost", "0.0.0.0", "::", "::1"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    return [f"{scheme}://{name}:{port}" for name in sorted(names) for scheme in ("http", "https")]


class OriginPolicy:
    """ASGI middleware. ``allowed`` None means any origin (the demo's default); ``own`` are the
    server's own origins (from its configured host and port, never from the request's ``Host``
    header, which a DNS-rebinding page controls)."""

    def __init__(
        self, app: ASGIApp, allowed: Iterable[str] | None, own: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.allowed = None if allowed is None else {o.rstrip("/") for o in allowed}
        self.own = {o.rstrip("/") for o in own}

    def permits(self, origin: str, scope: Scope) -> bool:
        return self.allowed is None or origin in self.allowed or origin in self.own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"origin")
        if raw is None:
            await self.app(scope, receive, send)
            return
        origin = raw.decode("latin-1")
        if not self.permits(origin, scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": "origin refused"})
            else:
                await _plain(send, 403, b"origin not allowed\n")
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        cors = [
            (b"access-control-allow-origin", raw),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            extra = [
                (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, OPTIONS"),
                (
                    b"access-control-allow-headers",
                    headers.get(b"access-control-request-headers", b"authorization, content-type"),
                ),
                (b"access-control-max-age", b"600"),
            ]
            if headers.get(b"access-control-request-private-network") == b"true":
                extra.append((b"access-control-allow-private-network", b"true"))
            await send({"type": "http.response.start", "status": 204, "headers": cors + extra})
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        await self.app(scope, receive, with_cors)


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})
