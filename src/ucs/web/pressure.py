"""Admission control for the REST API: new work is turned away while the server is behind.

When the event loop lags (``runtime.monitor.LoopLag``: the worst of the last second) more than
``limit`` seconds, a request under ``/api/`` that would add work (``POST``, ``PUT``, ``PATCH``,
``DELETE``: a simulated call, an administrative change) gets ``503`` with ``Retry-After`` at
once, instead of waiting seconds behind the work already there and adding to it. What takes
work away goes through: a simulated caller's hang-up (``…/hangup``), and every read, health
and metrics. The operator protocol is not touched: agents' commands are what the server is
behind with. Refusals are counted (``ucs_rest_shed_total``).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["Backpressure"]

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BODY = b'{"code":"OVERLOADED","detail":"the server is behind; try again shortly"}'


class Backpressure:
    """ASGI middleware; ``lag`` tells the loop's lag now, in seconds."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        lag: Callable[[], float],
        limit: float,
        shed: Callable[[], object] = lambda: None,
    ) -> None:
        self.app = app
        self.lag = lag
        self.limit = limit
        self.shed = shed
        """Called for each request turned away (a metric)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in _WRITES
            and scope["path"].startswith("/api/")
            and not scope["path"].endswith("/hangup")
            and self.lag() > self.limit
        ):
            self.shed()
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_BODY)).encode()),
                        (b"retry-after", b"1"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _BODY})
            return
        await self.app(scope, receive, send)
