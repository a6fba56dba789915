"""Caller lookup over HTTP: the core's ``Lookup`` effects carried out, answered by ``LookedUp``.

``LookupClient`` owns the HTTP client (one pool of kept-alive connections to the CRM), the
lookup setting and the requests in flight. Each lookup is a task of its own on the event loop:
``GET {url}?number=&direction=&uniqueid=&queue=``, bounded as a whole by the setting's timeout,
its body read up to ``MAX_BODY`` bytes. Whatever the CRM does (hangs, answers 500, sends 10 MB,
invalid JSON, a name of 10,000 characters, markup), the call goes on: a failure is answered
``LookedUp(answer=None)`` at once, and the core never holds a call past the timeout anyway.
What comes back is only ever data: names are cut to ``MAX_NAME`` characters and rendered as
text by the component, and ``data.crmUrl`` is kept only when it is an http(s) URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from ucs.core.effects import Lookup
from ucs.core.events import Event, LookedUp
from ucs.core.lookup import Answer
from ucs.core.session import MAX_DATA, data_size
from ucs.crm.settings import LookupConfig

__all__ = ["MAX_BODY", "MAX_IN_FLIGHT", "MAX_NAME", "LookupClient", "parse_answer"]

log = logging.getLogger("ucs.crm.lookup")

MAX_BODY = 64 * 1024
"""Bytes of an answer read at most; a longer one is no answer."""
MAX_NAME = 200
"""Characters of ``name`` and ``external_id`` kept."""
MAX_IN_FLIGHT = 1000
"""Lookups under way at once; beyond them a call goes on without one."""
_RESERVED = frozenset({"callback"})
"""Keys of ``data`` that are the server's own (a callback request), never the CRM's."""


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = "".join(ch for ch in str(value) if ch.isprintable()).strip()
    return text[:MAX_NAME] or None


def parse_answer(body: bytes) -> Answer | None:
    """The CRM's answer from a 200's body: a JSON object with ``name``, ``external_id`` and
    ``data`` (an object), each optional; None when it is not such an object."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    data = value.get("data")
    extra: dict[str, Any] = {}
    if isinstance(data, dict) and data_size(data) <= MAX_DATA:  # as much as dial() takes
        extra = {k: v for k, v in data.items() if k not in _RESERVED}
        url = extra.get("crmUrl")
        if url is not None and not (
            isinstance(url, str) and url.lower().startswith(("http://", "https://"))
        ):
            del extra["crmUrl"]
    return Answer(
        name=_text(value.get("name")), external_id=_text(value.get("external_id")), data=extra
    )


class LookupClient:
    """Carries out ``Lookup`` effects; hands each answer to ``submit`` (the engine's)."""

    def __init__(
        self,
        submit: Callable[[Event], object],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._submit = submit
        self._transport = transport
        self._config: LookupConfig | None = None
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.done = 0
        """Lookups answered by the CRM."""
        self.failed = 0
        """Lookups that failed (no answer in time, an error, a body that is no answer)."""

    @property
    def config(self) -> LookupConfig | None:
        return self._config

    def configure(self, config: LookupConfig | None) -> None:
        """A new setting for the lookups from now on (None: off)."""
        self._config = config

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                follow_redirects=False,
                headers={"Accept": "application/json", "User-Agent": "ucs-lookup"},
            )
        return self._client

    def deliver(self, effect: Lookup) -> list[Event]:
        """Start the lookup (a task) whose answer is submitted as ``LookedUp``; or, when no
        lookup can be made (off, too many under way), return the failed answer at once."""
        config = self._config
        if config is None or len(self._tasks) >= MAX_IN_FLIGHT:
            self.failed += 1
            return [LookedUp(effect.uniqueid, effect.number, None)]
        task = asyncio.get_running_loop().create_task(self._run(effect, config))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return []

    async def _run(self, effect: Lookup, config: LookupConfig) -> None:
        answer: Answer | None = None
        try:
            async with asyncio.timeout(config.timeout_ms / 1000):
                answer = await self._fetch(effect, config)
        except TimeoutError:
            log.info("lookup of %s: no answer within %d ms", effect.number, config.timeout_ms)
        except httpx.HTTPError as err:
            log.info("lookup of %s failed: %s", effect.number, err)
        except Exception:  # a lookup never breaks anything else
            log.exception("lookup of %s failed", effect.number)
        self._answer(effect, answer)

    async def _fetch(self, effect: Lookup, config: LookupConfig) -> Answer | None:
        params: Mapping[str, str] = {
            "number": effect.number,
            "direction": effect.direction.value,
            "uniqueid": effect.uniqueid,
            "queue": "" if effect.queue is None else str(effect.queue),
        }
        async with self._http().stream("GET", config.url, params=params) as response:
            # Any answer is read whole when it is small (a 404 for a number the CRM does not
            # know, too): a connection left with its body unread is closed, and the next
            # lookup would pay a new one (with TLS, its handshake).
            length = response.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > MAX_BODY:
                return None
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    return None
        return parse_answer(bytes(body)) if response.status_code == 200 else None

    def _answer(self, effect: Lookup, answer: Answer | None) -> None:
        if answer is None:
            self.failed += 1
        else:
            self.done += 1
        try:
            self._submit(LookedUp(effect.uniqueid, effect.number, answer))
        except Exception:
            log.exception("the answer to the lookup of %s was not taken", effect.number)

    async def close(self) -> None:
        """Stop the lookups under way and close the connections."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
