"""Events to the CRM (CONTRACT §12): the outbox's events POSTed to the webhook, signed.

``WebhookSender`` owns the HTTP client, the webhook setting and the delivery counts. A task on
the event loop reads what is due from the outbox (``ucs.storage.outbox``: per call and per
agent only the first event not yet delivered, so each is delivered in order), POSTs each body
exactly as stored with ``X-Ucs-Event-Id`` and ``X-Ucs-Signature: sha256=<hex HMAC-SHA256 of
the body with the secret>``, and marks the outcome: a 2xx is delivered; anything else (an
error, another status, no answer within ``POST_TIMEOUT``) is tried again after a pause that
doubles each time (1 s, 2 s, 4 s … 10 min at most), for 24 hours, then given up (``failed``).
The outbox is in the database, so what is pending survives restarts, kill -9 included:
delivery is at least once, and a CRM de-duplicates by the event's id.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import TypeVar

import httpx
from sqlalchemy import Connection, Engine

from ucs.crm.settings import WebhookConfig
from ucs.storage import outbox

__all__ = ["GIVE_UP", "KEEP_DELIVERED", "POST_TIMEOUT", "WebhookSender", "pause", "signature"]

log = logging.getLogger("ucs.crm.webhook")

T = TypeVar("T")

GIVE_UP = 24 * 3600.0
"""Seconds after an event that its delivery is given up."""
KEEP_DELIVERED = 3600.0
"""Seconds a delivered event is kept (a call's record written again within them, in wrap-up,
does not send its ``call.ended`` again)."""
POST_TIMEOUT = 10.0
"""Seconds one POST may take."""
_AT_ONCE = 16
"""POSTs under way at once."""


def signature(secret: str, body: bytes) -> str:
    """The ``X-Ucs-Signature`` header's value."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def pause(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones."""
    return float(min(600, 2 ** max(0, attempts - 1)))


class WebhookSender:
    """Delivers the outbox's events while a webhook is set."""

    def __init__(
        self,
        engine: Engine,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        poll: float = 0.25,
    ) -> None:
        self._engine = engine
        self._transport = transport
        self._clock = clock
        self._poll = poll
        self._config: WebhookConfig | None = None
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._pruned = 0.0
        self.delivered = 0
        """Events delivered since the start."""
        self.failed = 0
        """Events given up since the start."""
        self.pending = 0
        """Events waiting to be delivered (as of the last look at the outbox)."""

    @property
    def config(self) -> WebhookConfig | None:
        return self._config

    def configure(self, config: WebhookConfig | None) -> None:
        self._config = config
        self._wake.set()

    def start(self) -> None:
        """Start delivering, on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            sent, pause_for = 0, self._poll
            try:
                sent = await self._round()
            except Exception as err:  # the database may be away: the events wait there
                log.warning("webhook: the outbox cannot be read (%s); trying again in 5 s", err)
                pause_for = 5.0
            if not sent:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), pause_for)
                except TimeoutError:
                    pass

    async def _round(self) -> int:
        """Send what is due; how many were sent (delivered or not)."""
        config = self._config
        if config is None:  # events wait (none are added) until a webhook is set again
            return 0
        now = self._clock()
        if now - self._pruned > 60:
            self._pruned = now
            await asyncio.to_thread(self._db, lambda c: outbox.prune(c, now - KEEP_DELIVERED))
        self.pending = await asyncio.to_thread(self._db, outbox.pending)
        if not self.pending:
            return 0
        events = await asyncio.to_thread(self._db, lambda c: outbox.due(c, now))
        if not events:
            return 0
        gate = asyncio.Semaphore(_AT_ONCE)

        async def one(event: outbox.Due) -> tuple[outbox.Due, str | None]:
            async with gate:
                return event, await self._post(config, event)

        outcomes = await asyncio.gather(*(one(e) for e in events))
        await asyncio.to_thread(self._db, lambda c: self._mark(c, outcomes))
        return len(outcomes)

    async def _post(self, config: WebhookConfig, event: outbox.Due) -> str | None:
        """POST one event; None when delivered, else why not."""
        body = event.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ucs-webhook",
            "X-Ucs-Event-Id": event.event_id,
            "X-Ucs-Signature": signature(config.secret, body),
        }
        try:
            response = await self._http().post(config.url, content=body, headers=headers)
        except httpx.HTTPError as err:
            return f"{type(err).__name__}: {err}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def _mark(self, conn: Connection, outcomes: list[tuple[outbox.Due, str | None]]) -> None:
        now = self._clock()
        outbox.delivered(conn, [e.seq for e, error in outcomes if error is None])
        self.delivered += sum(1 for _, error in outcomes if error is None)
        for event, error in outcomes:
            if error is None:
                continue
            attempts = event.attempts + 1
            if now - event.time >= GIVE_UP:
                outbox.failed(conn, event.seq, attempts, error)
                self.failed += 1
                log.error(
                    "webhook: event %s given up after %d tries (%s)",
                    event.event_id,
                    attempts,
                    error,
                )
            else:
                outbox.retry(conn, event.seq, attempts, now + pause(attempts), error)

    def _db(self, work: Callable[[Connection], T]) -> T:
        with self._engine.begin() as conn:
            return work(conn)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=POST_TIMEOUT,
                limits=httpx.Limits(max_connections=_AT_ONCE, max_keepalive_connections=_AT_ONCE),
                follow_redirects=False,
            )
        return self._client
