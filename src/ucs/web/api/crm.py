"""The CRM integration (CONTRACT §12): its settings (caller lookup, events to the CRM) and
callback requests (``POST /api/queues/{id}/callbacks``).

``PUT /api/settings/lookup`` ``{"url", "timeout_ms"}`` (or ``null``, or ``{"url": null}``: off)
and ``PUT /api/settings/webhook`` ``{"url", "secret"}`` (the same way off); ``GET`` shows each
(never the webhook's secret). A setting is stored, then put to work at once.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, Field, field_validator

from ucs.core.directory import QueueType
from ucs.core.effects import Created
from ucs.core.errors import InvalidArgument
from ucs.core.events import CallbackRequested
from ucs.core.ids import QueueId
from ucs.core.numbers import parse_dialable
from ucs.crm.settings import (
    LOOKUP_KEY,
    WEBHOOK_KEY,
    LookupConfig,
    WebhookConfig,
    check_url,
    dump,
)
from ucs.web.api.auth import ERRORS, require_admin
from ucs.web.api.plain import Data, PlainModel

__all__ = ["router"]

router = APIRouter(
    prefix="/api",
    tags=["CRM integration"],
    dependencies=[Depends(require_admin)],
    responses=ERRORS,
)


def _url(value: str | None) -> str | None:
    return check_url(value) if value is not None else None


class LookupIn(PlainModel):
    url: str | None = Field(
        description="GET {url}?number=&direction=&uniqueid=&queue= before a call is offered; "
        "null: no lookups",
        max_length=2000,
    )
    timeout_ms: int = Field(800, ge=50, le=10_000, description="How long a call waits at most")

    _check = field_validator("url")(_url)


class LookupOut(PlainModel):
    url: str | None
    timeout_ms: int | None


class WebhookIn(PlainModel):
    url: str | None = Field(description="Where events are POSTed; null: none", max_length=2000)
    secret: str = Field("", max_length=256, description="Key of the HMAC-SHA256 signature")

    _check = field_validator("url")(_url)


class WebhookOut(PlainModel):
    url: str | None


@router.get("/settings/lookup")
async def get_lookup(request: Request) -> LookupOut:
    config = request.app.state.server.crm.lookup.config
    return LookupOut(
        url=config.url if config else None, timeout_ms=config.timeout_ms if config else None
    )


@router.put("/settings/lookup")
async def set_lookup(
    request: Request,
    body: LookupIn | None = Body(None),  # noqa: B008
) -> LookupOut:
    """Turn caller lookup on, change it, or turn it off (a `null` body or `url`)."""
    server = request.app.state.server
    config = LookupConfig(body.url, body.timeout_ms) if body and body.url else None
    await asyncio.to_thread(server.store.set_setting, LOOKUP_KEY, dump(config))
    server.crm.set_lookup(config)
    return await get_lookup(request)


@router.get("/settings/webhook")
async def get_webhook(request: Request) -> WebhookOut:
    config = request.app.state.server.crm.webhook.config
    return WebhookOut(url=config.url if config else None)


@router.put("/settings/webhook")
async def set_webhook(
    request: Request,
    body: WebhookIn | None = Body(None),  # noqa: B008
) -> WebhookOut:
    """Send events to the CRM, change where, or stop (a `null` body or `url`). Events not yet
    delivered go to the new URL."""
    server = request.app.state.server
    if body is not None and body.url is not None and len(body.secret) < 8:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "secret must be at least 8 characters"
        )
    config = WebhookConfig(body.url, body.secret) if body and body.url else None
    await asyncio.to_thread(server.store.set_setting, WEBHOOK_KEY, dump(config))
    server.crm.set_webhook(config)
    return await get_webhook(request)


class CallbackIn(PlainModel):
    number: str = Field(min_length=1, max_length=64, description="The number to call back")
    name: str | None = Field(None, max_length=128, description="Who asked (the Call's name)")
    data: Data = Field(default_factory=dict, description="At most 16 KiB as JSON")


class CallbackOut(BaseModel):
    uniqueid: str


@router.post(
    "/queues/{queue_id}/callbacks", status_code=status.HTTP_201_CREATED, tags=["callbacks"]
)
async def request_callback(
    queue_id: Annotated[int, Path(gt=0, le=2_147_483_647)], body: CallbackIn, request: Request
) -> CallbackOut:
    """Put a callback request in an incoming queue: it keeps its place among the waiting
    callers, and the agent it is offered to calls the number back with `answer()`."""
    server = request.app.state.server
    directory = server.center.directory
    queue = directory.queues.get(QueueId(queue_id))
    if queue is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no queue {queue_id}")
    if queue.type is not QueueType.INCOMING:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"queue {queue_id} takes no callers"
        )
    try:
        number = parse_dialable(body.number, directory.region)
    except InvalidArgument as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, err.message) from err
    if number.e164 is None and directory.line_by_extension(number.digits) is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{number.digits} is not a valid number"
        )
    event = CallbackRequested(QueueId(queue_id), body.number, body.name, body.data)
    effects = server.engine.submit(event)
    created = next(e for e in effects if isinstance(e, Created))
    return CallbackOut(uniqueid=created.uniqueid)
