"""The HTTP/1.1 listener: what ``ucs serve`` (and the tests that start a real server) give
uvicorn.

Left to itself, uvicorn holds a connection that has not sent a whole request head for as long
as the client likes (its keep-alive timeout starts only after a first answer, and stops as soon
as a byte of the next request arrives), and httptools takes a head of any size. So its
httptools protocol is given:

- a head of at most ``max_head`` bytes (larger: 431, and the connection closed);
- a head whole within ``head_timeout`` seconds of the connection, or of the last answer on a
  kept-alive connection (else the connection is closed);
- at most ``pending_per_address`` connections per client address (``admission.address_key``)
  that have not yet sent their first head; more are closed at once;
- a kept-alive connection closed after ``keep_alive`` idle seconds (uvicorn's own timeout);
- the client's address taken from ``X-Forwarded-For`` on connections from the proxies in
  ``trusted_proxies`` alone (uvicorn's proxy headers), for the WebSockets' admission and the
  log. The cap on connections without a head counts the proxy's address: it is the peer
  before any header is read (HAProxy sends each head at once).

httptools (C, installed with ``uvicorn[standard]``) costs about a third of a millisecond less
per request than h11 (pure Python, which enforces a head size by itself): a fifth of the
server's CPU per simulated call. WebSockets are upgraded from this listener, so their
handshakes are held to the same; once upgraded, ``ws.py`` and ``admission.py`` take over.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ucs.web.admission import address_key
from ucs.web.ws import MAX_MESSAGE

if TYPE_CHECKING:
    from ucs.web.server import Settings

__all__ = ["bounded_httptools", "uvicorn_options"]

_SLICE = 4096
"""Bytes the parser is given at a time while it waits for a head (so a head is refused once it
passes ``max_head`` by less than this)."""
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: 28\r\n"
    b"\r\nRequest head is too large.\r\n"
)


class _HeadDeadline:
    """What the protocol gets: the per-address cap on connections awaiting their first head,
    and the deadline of each head. ``waiting`` (per address: such connections), ``timeout``
    and ``limit`` are the server's, set on the class its factory makes."""

    waiting: ClassVar[dict[str, int]]
    timeout: ClassVar[float]
    limit: ClassVar[int]
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    client: tuple[str, int] | None
    cycle: Any
    _key = ""
    _waiting = False
    _timer: asyncio.TimerHandle | None = None
    _armed_for: object = None

    def _admit(self) -> bool:
        """At connection: refused (closed) when its address has too many waiting already."""
        self._key = address_key(self.client[0]) if self.client else ""
        if self.waiting.get(self._key, 0) >= self.limit:
            self.transport.close()
            return False
        self.waiting[self._key] = self.waiting.get(self._key, 0) + 1
        self._waiting = True
        self._arm()
        return True

    def _awaiting_head(self) -> bool:
        return self._timer is not None

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed_for = self.cycle
        self._timer = self.loop.call_later(self.timeout, self._late)

    def _headed(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiting:
            self._waiting = False
            left = self.waiting.get(self._key, 0) - 1
            if left > 0:
                self.waiting[self._key] = left
            else:
                self.waiting.pop(self._key, None)

    def _late(self) -> None:
        self._timer = None
        if self.cycle is self._armed_for and not self.transport.is_closing():
            self.transport.close()


def bounded_httptools(
    head_timeout: float, pending_per_address: int, max_head: int
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the head deadline, the per-address cap and a bound on
    the head's size (httptools has none): each call makes a class with counts of its own."""

    class BoundedHttpTools(_HeadDeadline, HttpToolsProtocol):
        waiting: ClassVar[dict[str, int]] = {}
        timeout = head_timeout
        limit = pending_per_address
        _head_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._admit()

        def data_received(self, data: bytes) -> None:
            while self._awaiting_head() and data:
                piece, data = data[:_SLICE], data[_SLICE:]
                self._head_bytes += len(piece)
                if self._head_bytes > max_head:
                    self.transport.write(_TOO_LARGE)
                    self.transport.close()
                    return
                super().data_received(piece)
                if self.transport.is_closing() or self.transport.get_protocol() is not self:
                    return
            if data:
                super().data_received(data)

        def on_headers_complete(self) -> None:
            self._headed()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            self._head_bytes = 0
            self._arm()  # the next head (if any) must come in time too
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._headed()
            super().connection_lost(exc)

    return BoundedHttpTools


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` / ``uvicorn.Config`` for ``settings``, beyond
    the application, host, port and logging."""
    return {
        "http": bounded_httptools(
            settings.head_timeout, settings.pending_per_address, settings.max_head
        ),
        "timeout_keep_alive": settings.keep_alive,
        # The client's address from X-Forwarded-For, from the proxies named alone (uvicorn
        # would trust 127.0.0.1 by default: any local program could pose as anyone).
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies) or None,
        "ws_max_size": 2 * MAX_MESSAGE,
        # Messages are a few KB of JSON; permessage-deflate would keep some 300 KB of zlib state
        # per connection, most of an idle agent's memory (docs/performance.md).
        "ws_per_message_deflate": False,
    }
