"""Who changed what: every accepted change through the administration API is written to the
audit log (``ucs.storage.audit``) before its answer leaves, and ``GET /api/audit`` reads it.

``AuditTrail`` (ASGI middleware, inside the admin gate) sees each ``POST``, ``PUT``, ``PATCH``
and ``DELETE`` under ``/api/`` but the simulator and the admin login: its body as it passes, the
answer's status, and the actor its token names (``admin``, or a superuser's username).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ucs.storage.audit import AuditLog
from ucs.web.api.auth import ERRORS, require_admin

__all__ = ["AuditTrail", "router"]

log = logging.getLogger("ucs.audit")

_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEPT = 64 * 1024
"""Most bytes of a body kept in the log (a larger one is logged as its size)."""


class AuditTrail:
    def __init__(
        self,
        app: ASGIApp,
        *,
        audit: AuditLog,
        actor: Callable[[str], str | None],
        prefix: str = "/api/",
        skip: tuple[str, ...] = ("/api/sim/", "/api/admin/"),
    ) -> None:
        self.app = app
        self.audit = audit
        self.actor = actor
        self.prefix = prefix
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in _CHANGES
            or not path.startswith(self.prefix)
            or path.startswith(self.skip)
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        status = 0

        async def taking(  # the body, as the route reads it
        ) -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                size += len(body)
                if size <= _KEPT:
                    chunks.append(body)
            return message

        async def answering(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                if 0 < status < 400:
                    await self._write(scope, status, b"".join(chunks), size)
            await send(message)

        await self.app(scope, taking, answering)

    async def _write(self, scope: Scope, status: int, body: bytes, size: int) -> None:
        token = ""
        for name, value in scope.get("headers") or ():
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                token = token.strip() if scheme.lower() == "bearer" else ""
        sent: Any = None
        if size > _KEPT:
            sent = {"bytes": size}
        elif body:
            try:
                sent = json.loads(body)
            except ValueError:
                sent = {"bytes": size}
        who = self.actor(token) or "?"
        try:
            await asyncio.to_thread(
                self.audit.write, time.time(), who, scope["method"], scope["path"], status, sent
            )
        except Exception:  # the change is made: a log that cannot be written does not undo it
            log.exception("audit: could not log %s %s by %s", scope["method"], scope["path"], who)


router = APIRouter(
    prefix="/api", tags=["administration"], dependencies=[Depends(require_admin)], responses=ERRORS
)


@router.get("/audit")
async def audit_log(
    request: Request,
    limit: int = Query(100, ge=1, le=1000, description="Entries in this page."),
    offset: int = Query(0, ge=0, le=1_000_000_000, description="Entries skipped (newest first)."),
    actor: str | None = Query(None, max_length=160, description="Only this actor's changes."),
    since: float | None = Query(None, ge=0, le=1e11, description="Only changes since (Unix)."),
) -> dict[str, Any]:
    """Who changed what, newest first: ``{"total", "entries": [{id, at, actor, method, path,
    status, body}]}``; ``actor`` is ``admin`` (the admin token) or a superuser's username, and
    passwords and secrets in ``body`` are masked."""
    audit: AuditLog = request.app.state.audit
    total, entries = await asyncio.to_thread(
        audit.page, limit=limit, offset=offset, actor=actor, since=since
    )
    return {"total": total, "entries": entries}
