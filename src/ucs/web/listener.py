"""The HTTP/1.1 listener: what ``ucs serve`` (and the tests that start a real server) give
uvicorn.

Left to itself, uvicorn holds a connection that has not sent a whole request head for as long
as the client likes (its keep-alive timeout starts only after a first answer, and stops as soon
as a byte of the next request arrives), and httptools, which ``uvicorn[standard]`` picks when
it is installed, takes a head of any size. So the server speaks HTTP/1.1 through h11, with:

- a head of at most ``max_head`` bytes (larger: 400, and the connection closed);
- a head whole within ``head_timeout`` seconds of the connection, or of the last answer on a
  kept-alive connection (else the connection is closed);
- at most ``pending_per_address`` connections per client address (``admission.address_key``)
  that have not yet sent their first head; more are closed at once;
- a kept-alive connection closed after ``keep_alive`` idle seconds (uvicorn's own timeout).

WebSockets are upgraded from this listener, so their handshakes are held to the same; once
upgraded, ``ws.py`` and ``admission.py`` take over.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ucs.web.admission import address_key
from ucs.web.ws import MAX_MESSAGE

if TYPE_CHECKING:
    from ucs.web.server import Settings

__all__ = ["bounded_h11", "uvicorn_options"]

_SLICE = 4096
"""Bytes h11 is given at a time while it waits for a head (so a head is refused once it passes
``max_head`` by less than this)."""


def bounded_h11(head_timeout: float, pending_per_address: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the head deadline and the per-address cap above; each call
    makes a class with counts of its own (one per server)."""
    waiting: dict[str, int] = {}
    """Per address: connections that have not sent their first head."""

    class BoundedH11(H11Protocol):
        _key = ""
        _waiting = False
        _timer: asyncio.TimerHandle | None = None
        _armed_for: object = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._key = address_key(self.client[0]) if self.client else ""
            if waiting.get(self._key, 0) >= pending_per_address:
                self.transport.close()
                return
            waiting[self._key] = waiting.get(self._key, 0) + 1
            self._waiting = True
            self._arm()

        def data_received(self, data: bytes) -> None:
            # While a head is awaited, h11 gets the bytes a slice at a time: it measures an
            # unfinished head only between reads, and one read can bring 256 KiB.
            while self._timer is not None and len(data) > _SLICE:
                self._feed(data[:_SLICE])
                data = data[_SLICE:]
                if self.transport.is_closing() or self.transport.get_protocol() is not self:
                    return
            if data:
                self._feed(data)

        def _feed(self, data: bytes) -> None:
            super().data_received(data)
            if self.cycle is not self._armed_for:  # a request head arrived whole
                self._headed()

        def handle_websocket_upgrade(self, event: h11.Request) -> None:
            self._headed()
            super().handle_websocket_upgrade(event)

        def on_response_complete(self) -> None:
            self._arm()  # the next head (if any) must come in time too
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._headed()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._armed_for = self.cycle
            self._timer = self.loop.call_later(head_timeout, self._late)

        def _headed(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._waiting:
                self._waiting = False
                left = waiting.get(self._key, 0) - 1
                if left > 0:
                    waiting[self._key] = left
                else:
                    waiting.pop(self._key, None)

        def _late(self) -> None:
            self._timer = None
            if self.cycle is self._armed_for and not self.transport.is_closing():
                self.transport.close()

    return BoundedH11


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` / ``uvicorn.Config`` for ``settings``, beyond
    the application, host, port and logging."""
    return {
        "http": bounded_h11(settings.head_timeout, settings.pending_per_address),
        "h11_max_incomplete_event_size": settings.max_head,
        "timeout_keep_alive": settings.keep_alive,
        "ws_max_size": 2 * MAX_MESSAGE,
        # Messages are a few KB of JSON; permessage-deflate would keep some 300 KB of zlib state
        # per connection, most of an idle agent's memory (docs/performance.md).
        "ws_per_message_deflate": False,
    }
