"""``/healthz``, also answered off the event loop, on a port of its own (``--health-port``).

A load balancer's health check asks whether a node is alive and serves. A node starved of CPU
(a busy machine, or its loop behind a burst of work) may take seconds to answer it on its
event loop, and HAProxy would mark it down and close every WebSocket it holds, though no other
node can serve its partition: its clients come back to it, and a busy node gets busier
(docs/deploy.md, "One machine, every core"; ``bench/starved_health.py`` measures it). So the
event loop publishes what ``/healthz`` says every half second (``Publisher``), and a thread
of its own (``OffLoopHealth``) answers the check from the last published answer at once:
while the loop has published within ``STALE`` seconds, that answer; after, 503 (a loop that
has not run for that long is stuck, not busy); before the node's own port listens, 503. A
dead node answers nothing (its port is closed), a standby does not listen, a node whose
storage fails says 503: all as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["EVERY", "STALE", "OffLoopHealth", "Publisher", "listening"]

log = logging.getLogger("ucs.health")

EVERY = 0.5
"""Seconds between the event loop's answers to publish."""
STALE = 30.0
"""Seconds without a published answer after which the loop is taken to be stuck (503). The
longest a starved node's loop was seen late (``bench/starved_health.py``) was about 10 s."""


class OffLoopHealth:
    """Answers ``GET /healthz`` on ``host:port`` from a thread, with the last answer the
    event loop published (``publish``)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        stale: float = STALE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stale, self.clock = stale, clock
        self._latest: tuple[int, dict[str, Any], float] | None = None
        health = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5.0  # a client that sends nothing holds a thread that long at most

            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/healthz":
                    self._send(404, {"detail": "Not Found"})
                    return
                self._send(*health.answer())

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                # HAProxy resets the connection once it has read the status line: nothing
                # to say about it.
                with contextlib.suppress(ConnectionError):
                    self.end_headers()
                    self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # a check every half second is no news

        self._http = _Quiet((host, port), Handler)
        self.port: int = self._http.server_address[1]
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="ucs-health", daemon=True
        )

    def publish(self, status: int, body: dict[str, Any]) -> None:
        """The event loop's answer now (a reference swap: read by the thread as it is)."""
        self._latest = (status, body, self.clock())

    def answer(self) -> tuple[int, dict[str, Any]]:
        latest = self._latest
        if latest is None:
            return 503, {"status": "starting"}
        status, body, at = latest
        late = self.clock() - at
        if late > self.stale:
            return 503, {**body, "status": "stalled", "stalled_for": round(late, 1)}
        return status, body

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A check's connection that fails: logged, not printed to stderr with its trace."""
        log.debug("health: a check from %s failed", client_address, exc_info=True)


async def listening(host: str, port: int) -> None:
    """Return once the server's own port (HOST and PORT) takes connections."""
    host = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


class Publisher:
    """What publishes ``answer()`` (the event loop's ``/healthz``) to ``health`` every
    ``EVERY`` seconds, from the event loop, once the server's own port (``serving``, HOST and
    PORT) takes connections: the check says "starting" (503) until then, so that a balancer
    sends no work to a node that has yet to listen."""

    def __init__(
        self,
        health: OffLoopHealth,
        answer: Callable[[], tuple[int, dict[str, Any]]],
        serving: tuple[str, int],
    ) -> None:
        self.health, self.answer, self.serving = health, answer, serving
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.health.start()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        await listening(*self.serving)
        while True:
            try:
                self.health.publish(*self.answer())
            except Exception:  # what it reads failed: the check goes stale, and says so
                log.exception("health: the answer could not be made")
            await asyncio.sleep(EVERY)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.health.stop()
