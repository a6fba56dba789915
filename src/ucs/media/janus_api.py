"""An asyncio client of the Janus API over its WebSocket (a Unix socket of ours).

One connection, one Janus session kept alive by a keepalive every ``KEEPALIVE`` seconds (which
is also the health check: an unanswered one marks the engine failed). Requests are matched to
answers by transaction; a plugin message resolves with its first answer that is not an ``ack``
(``success`` for synchronous requests, the ``event`` for asynchronous ones). Nothing blocks the
event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, unix_connect

from ucs.media.base import MediaError

__all__ = ["KEEPALIVE", "JanusClient"]

log = logging.getLogger("ucs.media")

KEEPALIVE = 10.0
"""Seconds between keepalives; one unanswered within ``TIMEOUT`` fails the engine."""
TIMEOUT = 5.0
"""Seconds any request may take."""


class JanusClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.session = 0
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._acks: set[str] = set()
        self._ids = itertools.count(1)
        self._reader = asyncio.create_task(self._read(), name="janus-api")
        self.closed = asyncio.Event()

    @classmethod
    async def connect(cls, socket: Path) -> JanusClient:
        try:
            ws = await unix_connect(
                str(socket),
                uri="ws://localhost/",
                subprotocols=[websockets.Subprotocol("janus-protocol")],
            )
        except OSError as err:
            raise MediaError(f"the media engine's API at {socket} does not answer: {err}") from err
        client = cls(ws)
        answer = await client.request({"janus": "create"})
        client.session = int(answer["data"]["id"])
        return client

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                msg = json.loads(text)
                transaction = str(msg.get("transaction"))
                if msg.get("janus") == "ack" and transaction not in self._acks:
                    continue  # the event with the answer follows
                fut = self._pending.pop(transaction, None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        except (websockets.ConnectionClosed, OSError, ValueError) as err:
            log.warning("the media engine's API connection ended: %s", err)
        finally:
            self.closed.set()
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(MediaError("the media engine went away"))
            self._pending.clear()

    async def request(self, body: dict[str, Any], *, ack: bool = False) -> dict[str, Any]:
        """Send one Janus API request; its answer (``ack`` too, when ``ack``)."""
        if self.closed.is_set():
            raise MediaError("the media engine went away")
        transaction = f"t{next(self._ids)}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = fut
        if ack:
            self._acks.add(transaction)
        message = {**body, "transaction": transaction}
        if self.session and "session_id" not in message and body.get("janus") != "create":
            message["session_id"] = self.session
        try:
            await self.ws.send(json.dumps(message))
            answer = await asyncio.wait_for(fut, TIMEOUT)
        except (TimeoutError, websockets.ConnectionClosed) as err:
            raise MediaError(f"the media engine did not answer {body.get('janus')}") from err
        finally:
            self._pending.pop(transaction, None)
            self._acks.discard(transaction)
        if answer.get("janus") == "error":
            raise MediaError(f"the media engine refused: {answer.get('error', {}).get('reason')}")
        return answer

    async def attach(self, plugin: str = "janus.plugin.audiobridge") -> int:
        answer = await self.request({"janus": "attach", "plugin": plugin})
        return int(answer["data"]["id"])

    async def detach(self, handle: int) -> None:
        with contextlib.suppress(MediaError):
            await self.request({"janus": "detach", "handle_id": handle})

    async def message(
        self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A plugin request; its data (an error of the plugin raised) and its JSEP, if any."""
        request: dict[str, Any] = {"janus": "message", "handle_id": handle, "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        answer = await self.request(request)
        data: dict[str, Any] = answer.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise MediaError(f"the media engine refused {body.get('request')}: {data['error']}")
        return data, answer.get("jsep")

    async def keepalive(self) -> None:
        await self.request({"janus": "keepalive"}, ack=True)

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        await self.ws.close()
        self.closed.set()
